//! `cargo xtask test-all-backends`: the whole suite once per backend.
//!
//! One build serves every backend: the test binaries are compiled once with all backend
//! features (`ndarray`, `flex`, `wgpu`, `cuda`) and run once per backend with `D2L_BACKEND`
//! set, one backend per process (Burn keeps device state in globals). CUDA compiles without a
//! toolkit; without an NVIDIA device it is compile-checked and reported as skipped.

use std::io::{BufRead, BufReader};
use std::process::Stdio;

/// Every backend the harness knows, in run order.
const BACKENDS: [&str; 4] = ["ndarray", "flex", "wgpu", "cuda"];

/// The cargo features every run builds with: one build, one target dir, for all backends.
const FEATURES: &str = "d2l/ndarray,d2l/flex,d2l/wgpu,d2l/cuda";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Status {
    Passed,
    Failed,
    Skipped(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    backend: String,
    passed: usize,
    failed: usize,
    status: Status,
}

struct Options {
    backends: Vec<String>,
    keep_going: bool,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        backends: BACKENDS.iter().map(|b| b.to_string()).collect(),
        keep_going: false,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let list = match arg.as_str() {
            "--keep-going" => {
                options.keep_going = true;
                continue;
            }
            "--backends" => args
                .next()
                .ok_or("--backends needs a value, e.g. ndarray,wgpu")?,
            other => match other.strip_prefix("--backends=") {
                Some(list) => list,
                None => return Err(format!("unknown argument `{other}`")),
            },
        };
        options.backends = list.split(',').map(|b| b.trim().to_string()).collect();
        if let Some(bad) = options
            .backends
            .iter()
            .find(|b| !BACKENDS.contains(&b.as_str()))
        {
            return Err(format!(
                "unknown backend `{bad}` (expected {})",
                BACKENDS.join(", ")
            ));
        }
    }
    Ok(options)
}

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let options = parse_options(args)?;
    let mut outcomes = Vec::new();
    let mut docs_done = false;
    for backend in &options.backends {
        println!("\n=== test-all-backends: {backend} ===");
        let outcome = if backend == "cuda" && !nvidia_gpu_present() {
            compile_check(backend)
        } else {
            // Doc tests and example builds do not depend on the backend: run them once.
            let outcome = run_suite(backend, !docs_done);
            docs_done = true;
            outcome
        };
        let failed = outcome.status == Status::Failed;
        outcomes.push(outcome);
        if failed && !options.keep_going {
            println!("stopping after the first failing backend (use --keep-going to run all)");
            break;
        }
    }
    println!("\n{}", summary(&outcomes));
    if outcomes.iter().any(|o| o.status == Status::Failed) {
        Err("some backends failed".into())
    } else {
        Ok(())
    }
}

fn nvidia_gpu_present() -> bool {
    std::process::Command::new("nvidia-smi")
        .arg("--list-gpus")
        .output()
        .map(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).contains("GPU"))
        .unwrap_or(false)
}

fn run_suite(backend: &str, with_docs: bool) -> Outcome {
    let mut command = crate::cargo();
    command.args(["test", "--workspace", "--features", FEATURES]);
    if !with_docs {
        command.args(["--lib", "--bins", "--tests"]);
    }
    command.args(["--no-fail-fast", "--", "--color", "never"]);
    command.env("D2L_BACKEND", backend).stdout(Stdio::piped());
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // Mesa's Vulkan loader complains on every device creation without one.
        let dir = std::env::temp_dir().join("d2l-xdg-runtime");
        if std::fs::create_dir_all(&dir).is_ok() {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
            }
            command.env("XDG_RUNTIME_DIR", dir);
        }
    }
    let mut outcome = Outcome {
        backend: backend.into(),
        passed: 0,
        failed: 0,
        status: Status::Failed,
    };
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
    outcome.status = if success && outcome.failed == 0 && outcome.passed > 0 {
        Status::Passed
    } else {
        Status::Failed
    };
    outcome
}

fn compile_check(backend: &str) -> Outcome {
    println!("no NVIDIA device: building the {backend} test binaries without running them");
    let status = crate::cargo()
        .args(["test", "--workspace", "--features", FEATURES, "--no-run"])
        .status();
    let compiled = status.map(|s| s.success()).unwrap_or(false);
    Outcome {
        backend: backend.into(),
        passed: 0,
        failed: 0,
        status: if compiled {
            Status::Skipped("no NVIDIA device; compile-checked".into())
        } else {
            Status::Failed
        },
    }
}

/// `test result: ok. 12 passed; 0 failed; …` → `(12, 0)`.
fn parse_result_line(line: &str) -> Option<(usize, usize)> {
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

fn summary(outcomes: &[Outcome]) -> String {
    let mut table = String::from("backend   passed  failed  status\n");
    table.push_str("--------  ------  ------  ------\n");
    for o in outcomes {
        let status = match &o.status {
            Status::Passed => "passed".to_string(),
            Status::Failed => "FAILED".to_string(),
            Status::Skipped(why) => format!("skipped ({why})"),
        };
        table.push_str(&format!(
            "{:<8}  {:>6}  {:>6}  {status}\n",
            o.backend, o.passed, o.failed
        ));
        if let Status::Skipped(_) = o.status {
            table.push_str(&format!("{}: skipped (no NVIDIA device)\n", o.backend));
        }
    }
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
    fn parses_backend_lists() {
        let args = [
            "--backends".to_string(),
            "ndarray,wgpu".to_string(),
            "--keep-going".into(),
        ];
        let options = parse_options(&args).expect("valid");
        assert_eq!(options.backends, ["ndarray", "wgpu"]);
        assert!(options.keep_going);
        assert!(parse_options(&["--backends=tpu".to_string()]).is_err());
        assert!(parse_options(&["--fast".to_string()]).is_err());
    }

    #[test]
    fn summary_marks_skips_and_failures() {
        let outcomes = [
            Outcome {
                backend: "ndarray".into(),
                passed: 5,
                failed: 0,
                status: Status::Passed,
            },
            Outcome {
                backend: "wgpu".into(),
                passed: 4,
                failed: 1,
                status: Status::Failed,
            },
            Outcome {
                backend: "cuda".into(),
                passed: 0,
                failed: 0,
                status: Status::Skipped("no NVIDIA device; compile-checked".into()),
            },
        ];
        let table = summary(&outcomes);
        assert!(
            table.contains("ndarray        5       0  passed"),
            "{table}"
        );
        assert!(
            table.contains("wgpu           4       1  FAILED"),
            "{table}"
        );
        assert!(
            table.contains("cuda: skipped (no NVIDIA device)"),
            "{table}"
        );
    }
}
