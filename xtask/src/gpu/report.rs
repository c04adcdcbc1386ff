//! The GPU run's summary: one row per binary and backend, totals per crate, the benchmarks.

use std::fmt::Write;
use std::time::Duration;

/// How one binary ended on one backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Status {
    Passed,
    Failed(String),
    Skipped(String),
    TimedOut(Duration),
}

/// One test binary on one backend.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    pub backend: String,
    pub binary: String,
    /// The package folder's last part: `d2l-io`.
    pub package: String,
    pub passed: usize,
    pub failed: usize,
    pub seconds: f64,
    pub status: Status,
    /// Names of the failed tests.
    pub failures: Vec<String>,
}

/// One benchmark program.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bench {
    pub name: String,
    pub seconds: f64,
    pub status: Status,
    /// Where its output is, relative to `$OUT`.
    pub output: String,
}

/// The whole run, written to `$OUT/summary.md` after every step.
#[derive(Debug, Default)]
pub(super) struct Report {
    /// What the machine is: GPU, driver, CUDA libraries, Vulkan drivers.
    pub machine: Vec<String>,
    pub rows: Vec<Row>,
    pub benches: Vec<Bench>,
}

impl Report {
    /// Whether any binary or benchmark failed or ran out of time.
    pub fn failed(&self) -> bool {
        let bad = |s: &Status| matches!(s, Status::Failed(_) | Status::TimedOut(_));
        self.rows.iter().any(|r| bad(&r.status)) || self.benches.iter().any(|b| bad(&b.status))
    }

    pub fn markdown(&self) -> String {
        let mut md = String::from("# d2l-burn: the prepared GPU run\n\n");
        for line in &self.machine {
            let _ = writeln!(md, "- {line}");
        }
        md.push_str(
            "- Doctests: not run here (they compile at test time and need a Rust toolchain); \
             `cargo xtask test-all-backends` runs them on the CPU backends.\n",
        );
        md.push_str("\n## Per crate\n\n| backend | crate | passed | failed | time | status |\n");
        md.push_str("|---|---|---|---|---|---|\n");
        for (backend, package) in self.crates() {
            let rows: Vec<&Row> = self
                .rows
                .iter()
                .filter(|r| r.backend == backend && r.package == package)
                .collect();
            let passed: usize = rows.iter().map(|r| r.passed).sum();
            let failed: usize = rows.iter().map(|r| r.failed).sum();
            let seconds: f64 = rows.iter().map(|r| r.seconds).sum();
            let status = rows
                .iter()
                .map(|r| status_text(&r.status))
                .find(|s| s != "passed")
                .unwrap_or_else(|| "passed".into());
            let _ = writeln!(
                md,
                "| {backend} | {package} | {passed} | {failed} | {seconds:.0} s | {status} |"
            );
        }
        md.push_str("\n## Per binary\n\n| backend | binary | passed | failed | time | status |\n");
        md.push_str("|---|---|---|---|---|---|\n");
        for r in &self.rows {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.1} s | {} |",
                r.backend,
                r.binary,
                r.passed,
                r.failed,
                r.seconds,
                status_text(&r.status)
            );
        }
        let failures: Vec<String> = self
            .rows
            .iter()
            .flat_map(|r| {
                r.failures
                    .iter()
                    .map(move |f| format!("{} {}: {f}", r.backend, r.binary))
            })
            .collect();
        if !failures.is_empty() {
            md.push_str("\n## Failed tests\n\n");
            for f in failures {
                let _ = writeln!(md, "- {f}");
            }
        }
        if !self.benches.is_empty() {
            md.push_str(
                "\n## Benchmarks\n\n| benchmark | time | status | output |\n|---|---|---|---|\n",
            );
            for b in &self.benches {
                let _ = writeln!(
                    md,
                    "| {} | {:.0} s | {} | {} |",
                    b.name,
                    b.seconds,
                    status_text(&b.status),
                    b.output
                );
            }
        }
        let (passed, failed) = self
            .rows
            .iter()
            .fold((0, 0), |(p, f), r| (p + r.passed, f + r.failed));
        let skipped = self
            .rows
            .iter()
            .filter(|r| matches!(r.status, Status::Skipped(_)))
            .count();
        let _ = writeln!(
            md,
            "\ngpu-run: {passed} passed, {failed} failed, {skipped} binaries skipped{}",
            if self.failed() { " — FAILED" } else { "" }
        );
        md
    }

    /// `(backend, crate)` pairs in run order.
    fn crates(&self) -> Vec<(String, String)> {
        let mut seen = Vec::new();
        for r in &self.rows {
            let key = (r.backend.clone(), r.package.clone());
            if !seen.contains(&key) {
                seen.push(key);
            }
        }
        seen
    }
}

fn status_text(status: &Status) -> String {
    match status {
        Status::Passed => "passed".into(),
        Status::Failed(why) => format!("FAILED ({why})"),
        Status::Skipped(why) => format!("skipped ({why})"),
        Status::TimedOut(limit) => format!("TIMED OUT after {} s", limit.as_secs()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(backend: &str, binary: &str, passed: usize, failed: usize, status: Status) -> Row {
        Row {
            backend: backend.into(),
            binary: binary.into(),
            package: binary.rsplit_once('-').map_or(binary, |(p, _)| p).into(),
            passed,
            failed,
            seconds: 1.5,
            status,
            failures: if failed > 0 {
                vec!["cnn::models::x".into()]
            } else {
                vec![]
            },
        }
    }

    #[test]
    fn sums_per_crate_and_lists_failures() {
        let report = Report {
            machine: vec!["GPU: NVIDIA H200".into()],
            rows: vec![
                row("cuda", "d2l-io-it", 30, 0, Status::Passed),
                row("cuda", "d2l-io-lib", 5, 0, Status::Passed),
                row(
                    "cuda",
                    "d2l-it",
                    70,
                    2,
                    Status::Failed("2 tests failed".into()),
                ),
                row(
                    "wgpu",
                    "d2l-io-it",
                    0,
                    0,
                    Status::Skipped("no Vulkan adapter".into()),
                ),
            ],
            benches: vec![Bench {
                name: "cnn".into(),
                seconds: 42.0,
                status: Status::TimedOut(Duration::from_secs(40)),
                output: "bench-cnn.md".into(),
            }],
        };
        let md = report.markdown();
        assert!(md.contains("- GPU: NVIDIA H200"), "{md}");
        assert!(
            md.contains("| cuda | d2l-io | 35 | 0 | 3 s | passed |"),
            "{md}"
        );
        assert!(
            md.contains("| cuda | d2l | 70 | 2 | 2 s | FAILED (2 tests failed) |"),
            "{md}"
        );
        assert!(
            md.contains("| wgpu | d2l-io | 0 | 0 | 2 s | skipped (no Vulkan adapter) |"),
            "{md}"
        );
        assert!(md.contains("- cuda d2l-it: cnn::models::x"), "{md}");
        assert!(
            md.contains("| cnn | 42 s | TIMED OUT after 40 s | bench-cnn.md |"),
            "{md}"
        );
        assert!(md.contains("Doctests: not run"), "{md}");
        assert!(
            md.contains("gpu-run: 105 passed, 2 failed, 1 binaries skipped — FAILED"),
            "{md}"
        );
        assert!(report.failed());
    }
}
