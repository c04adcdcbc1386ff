//! `xtask gpu-run`: runs the bundle's binaries on the machine at hand (see the module above).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::process::{failed_tests, run_logged};
use super::report::{Bench, Report, Row, Status};
use super::{Binary, Kind, MANIFEST, cuda_libs};
use crate::test_all_backends::{PROBE_TEST, parse_probe, parse_result_line};

#[derive(Debug, PartialEq)]
struct Options {
    bundle: PathBuf,
    repo: PathBuf,
    out: PathBuf,
    backends: Vec<String>,
    benches: Vec<String>,
    /// The whole run's time limit (the GPU machine's per-command limit, less start-up).
    deadline: Duration,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        bundle: PathBuf::new(),
        repo: PathBuf::from("."),
        out: PathBuf::from("target/gpu-out"),
        backends: vec!["cuda".into(), "wgpu".into()],
        benches: vec!["cnn".into(), "train".into(), "io".into()],
        deadline: Duration::from_secs(540),
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let list = || value.split(',').map(str::to_owned).collect::<Vec<_>>();
        match flag.as_str() {
            "--bundle" => options.bundle = value.into(),
            "--repo" => options.repo = value.into(),
            "--out" => options.out = value.into(),
            "--backends" => options.backends = list(),
            "--benches" if value == "none" => options.benches.clear(),
            "--benches" => options.benches = list(),
            "--deadline" => {
                let seconds = value
                    .parse()
                    .map_err(|_| format!("--deadline {value}: seconds"))?;
                options.deadline = Duration::from_secs(seconds);
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    if options.bundle.as_os_str().is_empty() {
        return Err("--bundle <unpacked payload> is required (run.sh passes it)".into());
    }
    Ok(options)
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let started = Instant::now();
    let options = parse_options(args)?;
    let repo = options
        .repo
        .canonicalize()
        .map_err(|e| format!("--repo: {e}"))?;
    let logs = options.out.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let manifest = std::fs::read_to_string(options.bundle.join(MANIFEST))
        .map_err(|e| format!("{MANIFEST}: {e}"))?;
    let binaries: Vec<Binary> = manifest.lines().filter_map(Binary::parse).collect();
    let mut report = Report::default();
    let library_path = library_path(&options.bundle, &mut report.machine);
    report.machine.extend(machine());
    let env = Env {
        bundle: &options.bundle,
        repo: &repo,
        library_path: &library_path,
    };
    let probes = probe(&env, &binaries, &logs);
    // Leave the benchmarks their share of the time; the tests may use the rest.
    let bench_share = if options.benches.is_empty() {
        0
    } else {
        options.deadline.as_secs() * 2 / 5
    };
    let tests_end = started + options.deadline - Duration::from_secs(bench_share);
    for backend in &options.backends {
        let probe = probes
            .iter()
            .find(|(b, _)| b == backend)
            .map(|(_, r)| r.clone());
        for binary in binaries.iter().filter(|b| b.kind == Kind::Test) {
            let row = match &probe {
                Some(Ok(())) => run_test(&env, binary, backend, &logs, tests_end),
                Some(Err(reason)) => skipped(binary, backend, reason),
                None => skipped(binary, backend, "not compiled into the bundle"),
            };
            println!(
                "{backend} {}: {:?} ({} passed, {} failed)",
                row.binary, row.status, row.passed, row.failed
            );
            report.rows.push(row);
            write_summary(&options.out, &report)?;
        }
    }
    let gpus: Vec<&str> = options
        .backends
        .iter()
        .filter(|b| probes.iter().any(|(p, r)| p == *b && r.is_ok()))
        .map(String::as_str)
        .collect();
    let end = started + options.deadline;
    for (i, name) in options.benches.iter().enumerate() {
        let Some(binary) = binaries
            .iter()
            .find(|b| b.name.ends_with(&format!("-bench-{name}")))
        else {
            return Err(format!("no benchmark `{name}` in the bundle"));
        };
        let left = end.saturating_duration_since(Instant::now());
        let limit = left / (options.benches.len() - i) as u32;
        report
            .benches
            .push(run_bench(&env, binary, name, &gpus, &options.out, limit));
        write_summary(&options.out, &report)?;
    }
    let summary = report.markdown();
    println!("\n{summary}");
    if report.failed() {
        Err("the GPU run had failures".into())
    } else {
        Ok(())
    }
}

/// What every binary's process gets.
struct Env<'a> {
    bundle: &'a Path,
    repo: &'a Path,
    library_path: &'a str,
}

impl Env<'_> {
    fn command(&self, binary: &Binary) -> Command {
        let package = self.repo.join(&binary.package_dir);
        let mut command = Command::new(self.bundle.join("bin").join(&binary.name));
        command
            .current_dir(&package)
            .env("CARGO_MANIFEST_DIR", &package)
            .env("LD_LIBRARY_PATH", self.library_path);
        crate::quiet_vulkan(&mut command);
        command
    }
}

/// `LD_LIBRARY_PATH` with the CUDA toolkit's libraries and the carried Vulkan loader (a
/// fallback: after the system's); notes what it found.
fn library_path(bundle: &Path, notes: &mut Vec<String>) -> String {
    let mut parts = Vec::new();
    match cuda_libs::find() {
        Some(dir) => {
            notes.push(format!("CUDA libraries: {}", dir.display()));
            parts.push(dir.display().to_string());
        }
        None => notes.push("CUDA libraries: no toolkit found (CUDA_HOME, /usr/local/cuda*)".into()),
    }
    if let Some(existing) = std::env::var_os("LD_LIBRARY_PATH") {
        parts.push(existing.to_string_lossy().into_owned());
    }
    parts.push(bundle.join("lib").display().to_string());
    parts.join(":")
}

/// The GPU and the Vulkan drivers, as the machine describes them.
fn machine() -> Vec<String> {
    let gpu = Command::new("nvidia-smi")
        .args([
            "--query-gpu=name,driver_version,memory.total",
            "--format=csv,noheader",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or("no nvidia-smi".into(), |o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .replace('\n', "; ")
        });
    let icds: Vec<String> = ["/usr/share/vulkan/icd.d", "/etc/vulkan/icd.d"]
        .iter()
        .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    vec![
        format!("GPU: {gpu}"),
        format!(
            "Vulkan drivers (ICDs): {}",
            if icds.is_empty() {
                "none".into()
            } else {
                icds.join(", ")
            }
        ),
        format!("CPU threads: {cores}"),
    ]
}

/// Which compiled backends can run here, from d2l-device's probe test.
fn probe(env: &Env, binaries: &[Binary], logs: &Path) -> Vec<(String, Result<(), String>)> {
    let Some(device) = binaries.iter().find(|b| b.name == "d2l-device-it") else {
        return Vec::new();
    };
    let log = logs.join("probe.log");
    let mut command = env.command(device);
    command.args([PROBE_TEST, "--nocapture"]);
    let _ = run_logged(&mut command, &log, Duration::from_secs(120));
    let probes = parse_probe(&std::fs::read_to_string(&log).unwrap_or_default());
    for (backend, result) in &probes {
        println!("probe: {backend}: {result:?}");
    }
    probes
}

fn skipped(binary: &Binary, backend: &str, reason: &str) -> Row {
    row(binary, backend, Status::Skipped(reason.to_owned()))
}

fn row(binary: &Binary, backend: &str, status: Status) -> Row {
    Row {
        backend: backend.to_owned(),
        binary: binary.name.clone(),
        package: binary
            .package_dir
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned(),
        passed: 0,
        failed: 0,
        seconds: 0.0,
        status,
        failures: Vec::new(),
    }
}

fn run_test(env: &Env, binary: &Binary, backend: &str, logs: &Path, end: Instant) -> Row {
    let log = logs.join(format!("{backend}-{}.log", binary.name));
    let limit = end.saturating_duration_since(Instant::now());
    let mut command = env.command(binary);
    command
        .env("D2L_BACKEND", backend)
        .args(["--color", "never"]);
    let started = Instant::now();
    let result = run_logged(&mut command, &log, limit);
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let mut row = row(binary, backend, Status::Passed);
    row.seconds = started.elapsed().as_secs_f64();
    for (passed, failed) in text.lines().filter_map(parse_result_line) {
        row.passed += passed;
        row.failed += failed;
    }
    row.failures = failed_tests(&text);
    row.status = match result {
        Err(err) => Status::Failed(err),
        Ok(None) => Status::TimedOut(limit),
        Ok(Some(status)) if status.success() && row.failed == 0 => Status::Passed,
        Ok(Some(status)) if row.failed > 0 => {
            Status::Failed(format!("{} tests failed ({status})", row.failed))
        }
        Ok(Some(status)) => Status::Failed(format!(
            "exited with {status}, see logs/{backend}-{}.log",
            binary.name
        )),
    };
    row
}

fn run_bench(
    env: &Env,
    binary: &Binary,
    name: &str,
    gpus: &[&str],
    out: &Path,
    limit: Duration,
) -> Bench {
    let output = format!("bench-{name}.md");
    let mut command = env.command(binary);
    command.env("D2L_BENCH_OUT", out.join("bench"));
    match name {
        // One device's rows: the GPU backends that run here, each against its PyTorch twin.
        "cnn" | "train" => {
            command.args(["--backends", &gpus.join(",")]);
        }
        _ => {
            command.arg("--quick");
        }
    }
    let started = Instant::now();
    let status = if gpus.is_empty() {
        Status::Skipped("no backend of this run can run here".into())
    } else {
        match run_logged(&mut command, &out.join(&output), limit) {
            Ok(Some(s)) if s.success() => Status::Passed,
            Ok(Some(s)) => Status::Failed(s.to_string()),
            Ok(None) => Status::TimedOut(limit),
            Err(err) => Status::Failed(err),
        }
    };
    println!("bench {name}: {status:?}");
    Bench {
        name: name.to_owned(),
        seconds: started.elapsed().as_secs_f64(),
        status,
        output,
    }
}

fn write_summary(out: &Path, report: &Report) -> Result<(), String> {
    let path = out.join("summary.md");
    std::fs::write(&path, report.markdown()).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_run_options() {
        let args: Vec<String> = [
            "--bundle",
            "/b",
            "--backends",
            "flex",
            "--benches",
            "none",
            "--deadline",
            "60",
        ]
        .map(String::from)
        .into();
        let options = parse_options(&args).expect("valid");
        assert_eq!(options.bundle, Path::new("/b"));
        assert_eq!(options.backends, ["flex"]);
        assert!(options.benches.is_empty());
        assert_eq!(options.deadline, Duration::from_secs(60));
        let defaults = parse_options(&["--bundle".into(), "/b".into()]).expect("valid");
        assert_eq!(defaults.backends, ["cuda", "wgpu"]);
        assert_eq!(defaults.benches, ["cnn", "train", "io"]);
        assert!(parse_options(&[]).is_err(), "no bundle");
        assert!(
            parse_options(&[
                "--deadline".into(),
                "soon".into(),
                "--bundle".into(),
                "/b".into()
            ])
            .is_err()
        );
        assert!(parse_options(&["--bundle".into()]).is_err());
    }
}
