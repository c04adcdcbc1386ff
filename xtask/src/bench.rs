//! `cargo xtask bench <name>`: run one of the project's benchmarks in release mode.
//!
//! | name      | what it measures                                   | target                     |
//! |-----------|----------------------------------------------------|----------------------------|
//! | `devices` | D2L §5.6 exercises: CPU vs GPU matmul, host syncs, two devices | `d2l-device/benches/devices.rs` |
//! | `blocks`  | D2L §5.1: dynamic `Sequential` vs `#[derive(Module)]` MLP          | `d2l-blocks/benches/blocks.rs`  |
//! | `layers`  | D2L §5.3: first call and steady state of `LazyLinear` vs `Linear`  | `d2l-layers/benches/layers.rs`  |
//! | `io`      | D2L §5.5 at scale: save/load a ~420 MB state dict, background saves  | `d2l-io/benches/io.rs`          |
//! | `train`   | forward and train steps of the chapter's MLPs, then `cnn`, vs PyTorch, interleaved | `d2l/benches/train.rs` |
//! | `cnn`     | LeNet and ResNet-18 (§7.6, §8.6): eval forward and SGD step vs PyTorch | `d2l/benches/cnn.rs` |
//! | `ops`     | where flex loses: sigmoid, exp, strided adds, avg-pool and conv backward vs PyTorch | `d2l/benches/ops.rs` |
//! | `params`  | D2L §5.2 at scale: parameter walks over 1 000 and 10 000 tensors     | `d2l-params/benches/params.rs`  |
//! | `ddp`     | D2L §13.5–§13.6: LeNet on 1, 2, 4 processes (mpirun) vs PyTorch's DDP (torchrun); all-reduce vs `MPI_Allreduce` | `d2l-parallel/benches/ddp/` |
//!
//! Extra arguments are passed to the benchmark program; results go to stdout and `target/bench/`.

/// `(name, package, bench target, features)` of every benchmark.
const BENCHES: [(&str, &str, &str, &str); 9] = [
    ("train", "d2l", "train", "ndarray,flex,wgpu,cuda"),
    ("cnn", "d2l", "cnn", "ndarray,flex,wgpu,cuda"),
    ("ops", "d2l", "ops", "ndarray,flex,wgpu,cuda"),
    (
        "io",
        "d2l-io",
        "io",
        "d2l-device/ndarray,d2l-device/flex,d2l-device/wgpu,d2l-device/cuda",
    ),
    (
        "layers",
        "d2l-layers",
        "layers",
        "d2l-device/ndarray,d2l-device/flex,d2l-device/wgpu,d2l-device/cuda",
    ),
    ("devices", "d2l-device", "devices", "ndarray,flex,wgpu,cuda"),
    (
        "params",
        "d2l-params",
        "params",
        "d2l-device/ndarray,d2l-device/flex,d2l-device/wgpu,d2l-device/cuda",
    ),
    (
        "blocks",
        "d2l-blocks",
        "blocks",
        "d2l-device/ndarray,d2l-device/flex,d2l-device/wgpu,d2l-device/cuda",
    ),
    // Runs under `mpirun` and `torchrun` (its own PyTorch twin): no backend columns.
    ("ddp", "d2l-parallel", "ddp", "mpi"),
];

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let names = || BENCHES.iter().map(|b| b.0).collect::<Vec<_>>().join(", ");
    let Some((name, rest)) = args.split_first() else {
        return Err(format!("which benchmark? ({})", names()));
    };
    let Some(&(_, package, target, features)) = BENCHES.iter().find(|b| b.0 == name) else {
        return Err(format!("unknown benchmark `{name}` (expected {})", names()));
    };
    // The `tch` backend joins where torch 2.9.0 is installed (its column in `train` and `cnn`).
    let features = match crate::torch::status() {
        Ok(()) if package == "d2l-parallel" => features.to_owned(),
        Ok(()) if features.starts_with("d2l-device/") => format!("{features},d2l-device/tch"),
        Ok(()) => format!("{features},tch"),
        Err(reason) => {
            println!("tch backend left out: {reason}");
            features.to_owned()
        }
    };
    let mut command = crate::cargo();
    crate::quiet_vulkan(&mut command);
    let status = command
        .args([
            "bench",
            "--package",
            package,
            "--bench",
            target,
            "--features",
            &features,
            "--",
        ])
        .args(rest)
        .status()
        .map_err(|err| format!("cannot start cargo: {err}"))?;
    if !status.success() {
        return Err(format!("benchmark `{name}` failed"));
    }
    // `train` covers the whole training story: the MLP rows, then the CNN rows.
    if name == "train" {
        return run(&[&["cnn".to_owned()], rest].concat());
    }
    Ok(())
}
