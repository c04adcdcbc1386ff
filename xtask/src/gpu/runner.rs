//! `xtask gpu-run`: runs the bundle's binaries on the machine at hand (see the module above).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use super::options::parse_options;
use super::process::{failed_tests, run_logged};
use super::report::{Bench, Report, Row, Status};
use super::{Binary, Kind, PROBE_BINARY, Part, cuda_libs};
use crate::test_all_backends::{PROBE_TEST, parse_probe, parse_result_line};

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let started = Instant::now();
    let options = parse_options(args)?;
    let repo = options
        .repo
        .canonicalize()
        .map_err(|e| format!("--repo: {e}"))?;
    let logs = options.out.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let binaries = carried(&options.bundle)?;
    let benches = match &options.benches {
        Some(names) => names.clone(),
        None => binaries
            .iter()
            .filter(|b| b.kind == Kind::Bench)
            .filter_map(|b| Some(b.name.split_once("-bench-")?.1.to_owned()))
            .collect(),
    };
    let tests = binaries.iter().filter(|b| b.kind == Kind::Test).count();
    let mut report = Report::default();
    let library_path = library_path(&options.bundle, &mut report.machine);
    report.machine.extend(machine());
    let env = Env {
        bundle: &options.bundle,
        repo: &repo,
        library_path: &library_path,
    };
    let probes = probe(&env, &logs);
    // Leave the benchmarks their share of the time; the tests may use the rest.
    let bench_share = match (tests, benches.len()) {
        (_, 0) => 0,
        (0, _) => options.deadline.as_secs(),
        _ => options.deadline.as_secs() * 2 / 5,
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
    for (i, name) in benches.iter().enumerate() {
        let Some(binary) = binaries
            .iter()
            .find(|b| b.name.ends_with(&format!("-bench-{name}")))
        else {
            return Err(format!("no benchmark `{name}` in the bundle"));
        };
        let left = end.saturating_duration_since(Instant::now());
        let limit = left / (benches.len() - i) as u32;
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

/// The binaries of every payload unpacked into `bundle`, from their manifests.
fn carried(bundle: &Path) -> Result<Vec<Binary>, String> {
    let mut binaries = Vec::new();
    for part in Part::ALL {
        match std::fs::read_to_string(bundle.join(part.manifest())) {
            Ok(text) => binaries.extend(text.lines().filter_map(Binary::parse)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{}: {e}", part.manifest())),
        }
    }
    if binaries.is_empty() {
        return Err(format!("no payload's manifest in {}", bundle.display()));
    }
    Ok(binaries)
}

/// Which compiled backends can run here, from d2l-device's probe test (carried by every part).
fn probe(env: &Env, logs: &Path) -> Vec<(String, Result<(), String>)> {
    let device = Binary {
        name: PROBE_BINARY.to_owned(),
        kind: Kind::Test,
        package_dir: "crates/d2l-device".to_owned(),
    };
    if !env.bundle.join("bin").join(&device.name).exists() {
        return Vec::new();
    }
    let log = logs.join("probe.log");
    let mut command = env.command(&device);
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
    fn reads_the_manifests_of_the_payloads_carried() {
        let dir = std::env::temp_dir().join(format!("d2l-gpu-carried-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        assert!(carried(&dir).is_err(), "no payload unpacked");
        std::fs::write(
            dir.join(Part::Benches.manifest()),
            "d2l-bench-cnn\tbench\tcrates/d2l-bench\n",
        )
        .expect("write");
        let benches = carried(&dir).expect("one payload");
        assert_eq!(benches.len(), 1);
        assert_eq!(benches[0].kind, Kind::Bench);
        std::fs::write(
            dir.join(Part::Tests.manifest()),
            "d2l-io-it\ttest\tcrates/d2l-io\nd2l-io-lib\ttest\tcrates/d2l-io\n",
        )
        .expect("write");
        let names: Vec<_> = carried(&dir)
            .expect("both payloads")
            .into_iter()
            .map(|b| b.name)
            .collect();
        assert_eq!(names, ["d2l-io-it", "d2l-io-lib", "d2l-bench-cnn"]);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
