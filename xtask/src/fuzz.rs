//! `cargo xtask fuzz [--seconds N] [--seed S]`: runs d2l-io's loader fuzz targets (mutated
//! safetensors, PyTorch and optimizer-state files) for N seconds each, on stable Rust, with the
//! test suite's build, and prints how many inputs each ran clean.

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let mut seconds = "30".to_string();
    let mut seed = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => seconds = args.next().ok_or("--seconds needs a value")?.clone(),
            "--seed" => seed = Some(args.next().ok_or("--seed needs a value")?.clone()),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    seconds
        .parse::<u64>()
        .map_err(|_| format!("--seconds takes a whole number, not `{seconds}`"))?;
    let features = crate::torch::test_features();
    let mut command = crate::cargo();
    command
        .args([
            "test",
            "--workspace",
            "--features",
            &features,
            "--test",
            "it",
        ])
        .args(["--", "every_loader_survives_mutated_files", "--nocapture"])
        .env("D2L_FUZZ_SECONDS", &seconds);
    if let Some(seed) = seed {
        command.env("D2L_FUZZ_SEED", seed);
    }
    let status = command
        .status()
        .map_err(|err| format!("cannot start cargo: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("a fuzz target failed (see above)".into())
    }
}
