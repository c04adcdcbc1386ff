//! `cargo xtask test-all-backends`: the whole suite once per backend.
//!
//! One build serves every backend: the test binaries are compiled once with all backend
//! features (`ndarray`, `flex`, `wgpu`, `cuda`, and `tch` where a `torch==2.9.0` is installed)
//! and run once per backend with `D2L_BACKEND` set, one backend per process (Burn keeps device
//! state in globals). Before running a GPU
//! backend the harness asks the backend's own probe whether it can run here; one that cannot
//! is reported *skipped* with the install hint — or *failed* if `--require` names it (CI
//! demands wgpu, whose driver it installs). CUDA compiles without a toolkit, so the one build
//! is also its compile check.
//!
//! `mpi` is a row of its own: where OpenMPI and libclang are installed the build turns on
//! `d2l-parallel/mpi` and the `mpi::` tests (processes under `mpirun`) run once, after the
//! backends (the backend passes skip them); elsewhere the row is *skipped* with the hint.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Instant;

/// Every backend the harness knows, in run order.
const BACKENDS: [&str; 6] = ["ndarray", "flex", "wgpu", "cuda", "tch", "mpi"];

/// The tests of the `mpi` row (d2l-parallel's `tests/it/mpi.rs`), skipped by backend passes.
const MPI_TESTS: &str = "mpi::";

/// Tests pinned to flex (d2l-parallel's `tests/it/ddp_pytorch.rs`: ResNet-18 against
/// PyTorch's DDP, too slow on ndarray and lavapipe), run by the flex row only: on the wgpu
/// row its flex thread group once hung in burn-collective beside the row's wgpu groups.
const FLEX_ONLY_TESTS: &str = "ddp_pytorch::";

/// The test that prints `d2l-probe <backend>: …` lines (crates/d2l-device/tests/it/probe.rs).
pub(crate) const PROBE_TEST: &str = "probe_reports_every_compiled_backend";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Passed,
    Failed(String),
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    backend: String,
    passed: usize,
    failed: usize,
    seconds: u64,
    status: Status,
}

#[derive(Debug)]
struct Options {
    backends: Vec<String>,
    required: Vec<String>,
    keep_going: bool,
}

fn backend_list(list: &str) -> Result<Vec<String>, String> {
    let backends: Vec<String> = list.split(',').map(|b| b.trim().to_string()).collect();
    match backends.iter().find(|b| !BACKENDS.contains(&b.as_str())) {
        Some(bad) => Err(format!(
            "unknown backend `{bad}` (expected {})",
            BACKENDS.join(", ")
        )),
        None => Ok(backends),
    }
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        backends: BACKENDS.iter().map(|b| b.to_string()).collect(),
        required: Vec::new(),
        keep_going: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or(format!("{flag} needs a value, e.g. ndarray,wgpu"))
        };
        match flag {
            "--keep-going" => options.keep_going = true,
            "--backends" => options.backends = backend_list(&value()?)?,
            "--require" => options.required = backend_list(&value()?)?,
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(options)
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = parse_options(args)?;
    let started = Instant::now();
    let torch = crate::torch::status();
    let mpi = crate::mpi::status();
    let mut features = crate::torch::test_features();
    if mpi.is_ok() {
        features = format!("{features},{}", crate::mpi::FEATURE);
    }
    println!("=== test-all-backends: build (features {features}) ===");
    let built = test_command(&features, &["--no-run"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let build_seconds = started.elapsed().as_secs();
    println!("build: {build_seconds}s");
    if !built {
        return Err("the test build failed".into());
    }
    let mut probes = probe(&features);
    // Without torch the build leaves `tch` out, so its probe line is torch's own status.
    if let Err(reason) = torch {
        probes.push(("tch".into(), Err(reason)));
    }
    probes.push(("mpi".into(), mpi));
    let mut outcomes = Vec::new();
    let mut docs_done = false;
    for backend in &options.backends {
        println!("\n=== test-all-backends: {backend} ===");
        let required = options.required.contains(backend);
        let outcome = match probes.iter().find(|(b, _)| b == backend) {
            Some((_, Err(reason))) if required => outcome(
                backend,
                Status::Failed(format!("required but cannot run: {reason}")),
            ),
            Some((_, Err(reason))) => {
                outcome(backend, Status::Skipped(skip_reason(backend, reason)))
            }
            None => outcome(
                backend,
                Status::Failed("the probe did not report it".into()),
            ),
            Some((_, Ok(()))) if backend == "mpi" => run_suite(&features, backend, false),
            Some((_, Ok(()))) => {
                // Doc tests and example builds do not depend on the backend: run them once.
                let outcome = run_suite(&features, backend, !docs_done);
                docs_done = true;
                outcome
            }
        };
        let failed = matches!(outcome.status, Status::Failed(_));
        outcomes.push(outcome);
        if failed && !options.keep_going {
            println!("stopping after the first failing backend (use --keep-going to run all)");
            break;
        }
    }
    println!("\n{}", summary(&outcomes, build_seconds));
    if outcomes
        .iter()
        .any(|o| matches!(o.status, Status::Failed(_)))
    {
        Err("some backends failed".into())
    } else {
        Ok(())
    }
}

fn outcome(backend: &str, status: Status) -> Outcome {
    Outcome {
        backend: backend.into(),
        passed: 0,
        failed: 0,
        seconds: 0,
        status,
    }
}

fn skip_reason(backend: &str, reason: &str) -> String {
    match backend {
        "wgpu" => format!(
            "{reason}; install a Vulkan driver (CPU-only Debian/Ubuntu: apt-get install mesa-vulkan-drivers)"
        ),
        "cuda" => format!("{reason}; compile-checked"),
        // The hint is in the reason (`crate::mpi::status`).
        "mpi" => reason.to_string(),
        _ => reason.to_string(),
    }
}

/// `cargo test` over the workspace with every backend feature, plus `extra` arguments.
fn test_command(features: &str, extra: &[&str]) -> std::process::Command {
    let mut command = crate::cargo();
    command
        .args(["test", "--workspace", "--features", features])
        .args(extra);
    crate::quiet_vulkan(&mut command);
    command
}

/// Which compiled backends can run on this machine, from the backends' own probes.
fn probe(features: &str) -> Vec<(String, Result<(), String>)> {
    let output = test_command(features, &["--test", "it", "--", PROBE_TEST, "--nocapture"])
        .stderr(Stdio::null())
        .output();
    let text = output
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let found = parse_probe(&text);
    for (backend, result) in &found {
        match result {
            Ok(()) => println!("probe: {backend} can run here"),
            Err(reason) => println!("probe: {backend} cannot run here: {reason}"),
        }
    }
    found
}

/// `d2l-probe wgpu: ok (2 devices)` → `("wgpu", Ok(()))`; `d2l-probe cuda: no driver: …` →
/// `("cuda", Err("…"))`.
pub(crate) fn parse_probe(text: &str) -> Vec<(String, Result<(), String>)> {
    text.lines()
        .filter_map(|line| {
            let (backend, rest) = line.trim().strip_prefix("d2l-probe ")?.split_once(": ")?;
            let result = match rest.strip_prefix("no driver: ") {
                Some(reason) => Err(reason.to_string()),
                None => Ok(()),
            };
            Some((backend.to_string(), result))
        })
        .collect()
}

/// The suite on `backend` (the `mpi` row: only the MPI tests, on the default CPU backend).
fn run_suite(features: &str, backend: &str, with_docs: bool) -> Outcome {
    let started = Instant::now();
    let mut extra = vec![];
    if backend == "mpi" {
        extra.extend(["--test", "it"]);
    } else if !with_docs {
        extra.extend(["--lib", "--bins", "--tests"]);
    }
    extra.extend(["--no-fail-fast", "--", "--color", "never"]);
    if backend == "mpi" {
        extra.push(MPI_TESTS);
    } else if features.contains(crate::mpi::FEATURE) {
        extra.extend(["--skip", MPI_TESTS]);
    }
    if backend != "flex" && backend != "mpi" {
        extra.extend(["--skip", FLEX_ONLY_TESTS]);
    }
    let mut command = test_command(features, &extra);
    let selected = if backend == "mpi" { "ndarray" } else { backend };
    command.env("D2L_BACKEND", selected).stdout(Stdio::piped());
    let mut outcome = outcome(backend, Status::Failed("cargo did not start".into()));
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => {
            eprintln!("cannot start cargo: {err}");
            return outcome;
        }
    };
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some((passed, failed)) = parse_result_line(&line) {
                outcome.passed += passed;
                outcome.failed += failed;
            }
        }
    }
    let success = child.wait().map(|status| status.success()).unwrap_or(false);
    outcome.seconds = started.elapsed().as_secs();
    outcome.status = if success && outcome.failed == 0 && outcome.passed > 0 {
        Status::Passed
    } else {
        Status::Failed(format!("{} tests failed", outcome.failed))
    };
    outcome
}

/// `test result: ok. 12 passed; 0 failed; …` → `(12, 0)`.
pub(crate) fn parse_result_line(line: &str) -> Option<(usize, usize)> {
    let rest = line.trim().strip_prefix("test result: ")?;
    let count = |label: &str| -> Option<usize> {
        rest.split(';').find_map(|part| {
            let part = part.trim();
            let part = part.split_once(". ").map_or(part, |(_, tail)| tail);
            part.strip_suffix(label)?.trim().parse().ok()
        })
    };
    Some((count(" passed")?, count(" failed")?))
}

fn summary(outcomes: &[Outcome], build_seconds: u64) -> String {
    let mut table = format!("build: {build_seconds}s (one build, every backend)\n\n");
    table.push_str("backend   passed  failed  time  status\n");
    table.push_str("--------  ------  ------  ----  ------\n");
    for o in outcomes {
        let status = match &o.status {
            Status::Passed => "passed".to_string(),
            Status::Failed(why) => format!("FAILED ({why})"),
            Status::Skipped(why) => format!("skipped ({why})"),
        };
        let time = format!("{}s", o.seconds);
        table.push_str(&format!(
            "{:<8}  {:>6}  {:>6}  {time:>4}  {status}\n",
            o.backend, o.passed, o.failed
        ));
    }
    let (passed, failed) = outcomes
        .iter()
        .fold((0, 0), |(p, f), o| (p + o.passed, f + o.failed));
    let skipped = outcomes
        .iter()
        .filter(|o| matches!(o.status, Status::Skipped(_)))
        .count();
    table.push_str(&format!(
        "\ntest-all-backends: {passed} passed, {failed} failed, {skipped} skipped\n"
    ));
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libtest_summaries() {
        let line = "test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out; finished in 0.01s";
        assert_eq!(parse_result_line(line), Some((12, 0)));
        let line = "test result: FAILED. 7 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out";
        assert_eq!(parse_result_line(line), Some((7, 2)));
        assert_eq!(parse_result_line("running 3 tests"), None);
    }

    #[test]
    fn parses_backend_lists_and_requirements() {
        let args: Vec<String> = [
            "--backends",
            "ndarray,wgpu",
            "--keep-going",
            "--require=wgpu",
        ]
        .map(String::from)
        .into();
        let options = parse_options(&args).expect("valid");
        assert_eq!(options.backends, ["ndarray", "wgpu"]);
        assert_eq!(options.required, ["wgpu"]);
        assert!(options.keep_going);
        assert!(parse_options(&["--backends=tpu".to_string()]).is_err());
        assert!(parse_options(&["--require".to_string()]).is_err());
        assert!(parse_options(&["--fast".to_string()]).is_err());
    }

    #[test]
    fn parses_probe_lines() {
        let text = "running 1 test\nd2l-probe ndarray: ok (1 devices)\nd2l-probe wgpu: no driver: no Vulkan/Metal/DX12 adapter found\ntest probe ... ok";
        assert_eq!(
            parse_probe(text),
            [
                ("ndarray".to_string(), Ok(())),
                (
                    "wgpu".to_string(),
                    Err("no Vulkan/Metal/DX12 adapter found".to_string())
                )
            ]
        );
    }

    #[test]
    fn summary_marks_skips_and_failures() {
        let outcomes = [
            Outcome {
                backend: "ndarray".into(),
                passed: 5,
                failed: 0,
                seconds: 3,
                status: Status::Passed,
            },
            Outcome {
                backend: "wgpu".into(),
                passed: 4,
                failed: 1,
                seconds: 9,
                status: Status::Failed("1 tests failed".into()),
            },
            Outcome {
                backend: "cuda".into(),
                passed: 0,
                failed: 0,
                seconds: 0,
                status: Status::Skipped(skip_reason("cuda", "no NVIDIA device")),
            },
        ];
        let table = summary(&outcomes, 42);
        assert!(table.contains("build: 42s"), "{table}");
        assert!(
            table.contains("ndarray        5       0    3s  passed"),
            "{table}"
        );
        assert!(
            table.contains("wgpu           4       1    9s  FAILED"),
            "{table}"
        );
        assert!(
            table.contains(
                "cuda           0       0    0s  skipped (no NVIDIA device; compile-checked)"
            ),
            "{table}"
        );
        assert!(
            table.contains("test-all-backends: 9 passed, 1 failed, 1 skipped"),
            "{table}"
        );
    }
}
