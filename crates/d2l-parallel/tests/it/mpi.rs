//! Across processes under `mpirun` (feature `mpi`; `cargo xtask test-all-backends` turns it on
//! where MPI is installed and reports it skipped, with the install hint, where not): LeNet on
//! 2 and 4 processes equals one process; a rank that errors, panics, is killed, comes late or
//! holds another model ends the job with its error within a bounded time.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `mpirun -n N d2l-mpi-check SCENARIO` (oversubscribed: more ranks than cores is fine on
/// loopback; as root where CI runs as root), killed if it outlives `limit`.
fn mpirun(ranks: usize, scenario: &str, limit: Duration) -> (bool, String, Duration) {
    let mut command = Command::new("mpirun");
    command.args(["-n", &ranks.to_string(), "--oversubscribe"]);
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        command.arg("--allow-run-as-root");
    }
    command
        .arg(env!("CARGO_BIN_EXE_d2l-mpi-check"))
        .arg(scenario)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = command.spawn().expect("mpirun starts (MPI is installed)");
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text, started.elapsed())
}

#[test]
fn two_and_four_processes_equal_one() {
    for ranks in [2, 4] {
        let (ok, text, _) = mpirun(ranks, "equivalence", Duration::from_secs(120));
        assert!(ok, "{text}");
        assert!(
            text.contains(&format!("equivalence ok: world {ranks}")),
            "{text}"
        );
    }
}

#[test]
fn sync_batch_norm_across_two_processes_equals_one() {
    let (ok, text, _) = mpirun(2, "syncbn", Duration::from_secs(120));
    assert!(ok, "{text}");
    assert!(text.contains("syncbn ok: world 2"), "{text}");
}

#[test]
fn a_failing_rank_ends_the_job_with_its_error() {
    let cases = [
        ("error", "rank 1 failed: disk full"),
        ("panic", "rank 1 failed: panicked"),
        ("late", "rank 0 waited"),
        (
            "mismatch",
            "rank 1's model differs from rank 0's at `11.weight`",
        ),
        // SIGKILL: mpirun names the process that died.
        ("kill", "signal 9"),
    ];
    for (scenario, expected) in cases {
        let (ok, text, took) = mpirun(2, scenario, Duration::from_secs(60));
        assert!(!ok, "{scenario}: the job succeeded:\n{text}");
        assert!(
            text.contains(expected),
            "{scenario}: no `{expected}` in:\n{text}"
        );
        assert!(took < Duration::from_secs(45), "{scenario}: took {took:?}");
    }
}
