//! Running one binary of the GPU run: output to a log, killed past its time.

use std::fs::File;
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::time::{Duration, Instant};

/// Runs `command` with stdout and stderr into `log`; `Ok(None)` if it ran past `limit` (killed).
pub(super) fn run_logged(
    command: &mut Command,
    log: &Path,
    limit: Duration,
) -> Result<Option<ExitStatus>, String> {
    let file = File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = file.try_clone().map_err(|e| e.to_string())?;
    let mut child = command
        .stdout(file)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start: {e}"))?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Ok(Some(status));
        }
        if started.elapsed() >= limit {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `test cnn::x ... FAILED` lines → `cnn::x`.
pub(super) fn failed_tests(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|l| {
            l.strip_prefix("test ")?
                .strip_suffix(" ... FAILED")
                .map(str::to_owned)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_failed_tests_in_a_log() {
        let log = "running 3 tests\ntest a::b ... ok\ntest c::d ... FAILED\ntest e ... FAILED\n";
        assert_eq!(failed_tests(log), ["c::d", "e"]);
    }

    #[test]
    fn kills_a_run_past_its_limit() {
        let log = std::env::temp_dir().join(format!("d2l-gpu-run-{}.log", std::process::id()));
        let mut slow = Command::new("sleep");
        slow.arg("5");
        let started = Instant::now();
        assert_eq!(
            run_logged(&mut slow, &log, Duration::from_millis(200)),
            Ok(None)
        );
        assert!(started.elapsed() < Duration::from_secs(3));
        let mut quick = Command::new("echo");
        quick.arg("hello");
        let status = run_logged(&mut quick, &log, Duration::from_secs(5))
            .expect("runs")
            .expect("ends");
        assert!(status.success());
        assert_eq!(std::fs::read_to_string(&log).expect("log"), "hello\n");
        let _ = std::fs::remove_file(&log);
    }
}
