//! The prepared GPU run: everything a GPU machine without a Rust toolchain needs, built here.
//!
//! A GPU machine is lent to this project only now and then, for minutes, with no toolchain and
//! no network; the working tree and at most 64 MiB of carried build output travel to it. So:
//!
//! - `cargo xtask gpu-bundle` builds here, in release, every test binary of the workspace and
//!   the GPU benchmarks (`cnn`, `train`, `io`) with the `cuda` feature (and `flex`, `wgpu`),
//!   strips them, and packs them with this program (the runner) into two compressed payloads
//!   under `target/gpu-bundle/`, with `run.sh` beside them: [`Part::Tests`] and
//!   [`Part::Benches`]. Together they are over the carry limit (59 MiB measured, 17 binaries
//!   that each link Burn, wgpu and CUDA), so each is carried by its own call; each must fit
//!   [`CARRY_BUDGET`].
//! - On the GPU machine, from the repository root: `bash target/gpu-bundle/run.sh`. The script
//!   unpacks the payloads carried along and starts `xtask gpu-run`, which finds the CUDA
//!   toolkit's libraries ([`cuda_libs`]), asks d2l-device's probe which backends run here, runs
//!   every test binary once per backend (`D2L_BACKEND=cuda`, then `wgpu` on the machine's Vulkan
//!   driver if it has one), then the benchmarks, and writes a summary per crate, the logs and the
//!   figures under `$OUT`.
//! - Here, the same script with a CPU backend (`--backends flex`) runs the same binaries: the
//!   runner is tested without a GPU.
//!
//! Doctests need a toolchain to compile: they are listed as not run on the GPU.

mod bundle;
mod cuda_libs;
mod options;
mod process;
mod report;
mod runner;

pub(crate) use bundle::run as bundle;
pub(crate) use runner::run;

/// The folder `cargo xtask gpu-bundle` fills, relative to the workspace root (carry it).
pub(crate) const BUNDLE_DIR: &str = "target/gpu-bundle";

/// The most the bundle may weigh: the carry limit (64 MiB) with room to spare.
pub(crate) const CARRY_BUDGET: u64 = 48 << 20;

/// The test binary whose probe says which backends run on the machine: both parts carry it.
const PROBE_BINARY: &str = "d2l-device-it";

/// One payload of the bundle, carried by one call to the GPU machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Every test binary of the workspace.
    Tests,
    /// The benchmark programs (and the probe).
    Benches,
}

impl Part {
    const ALL: [Part; 2] = [Part::Tests, Part::Benches];

    fn name(self) -> &'static str {
        match self {
            Part::Tests => "tests",
            Part::Benches => "benches",
        }
    }

    /// The compressed payload's file name in [`BUNDLE_DIR`].
    fn payload(self) -> String {
        format!("{}.tar.xz", self.name())
    }

    /// The payload's list of binaries: one `name<TAB>kind<TAB>package folder` line each.
    /// Named per part, so that both payloads unpack into one folder.
    fn manifest(self) -> String {
        format!("manifest-{}.tsv", self.name())
    }

    /// Whether binaries of `kind` go into this part.
    fn holds(self, kind: Kind) -> bool {
        matches!(
            (self, kind),
            (Part::Tests, Kind::Test) | (Part::Benches, Kind::Bench)
        )
    }
}

/// One binary of the bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Binary {
    /// `d2l-io-it`, `d2l-params-lib`, `d2l-bench-cnn`: package, then target.
    name: String,
    /// A libtest binary (`test`) or a benchmark program (`bench`).
    kind: Kind,
    /// The package folder relative to the workspace root (`crates/d2l-io`): the run's working
    /// directory and `CARGO_MANIFEST_DIR`, as under `cargo test`.
    package_dir: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Test,
    Bench,
}

impl Binary {
    fn line(&self) -> String {
        let kind = match self.kind {
            Kind::Test => "test",
            Kind::Bench => "bench",
        };
        format!("{}\t{kind}\t{}\n", self.name, self.package_dir)
    }

    fn parse(line: &str) -> Option<Binary> {
        let mut fields = line.split('\t');
        let (name, kind, package_dir) = (fields.next()?, fields.next()?, fields.next()?);
        let kind = match kind {
            "test" => Kind::Test,
            "bench" => Kind::Bench,
            _ => return None,
        };
        Some(Binary {
            name: name.to_owned(),
            kind,
            package_dir: package_dir.trim_end().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_lines_round_trip() {
        let binary = Binary {
            name: "d2l-io-it".into(),
            kind: Kind::Test,
            package_dir: "crates/d2l-io".into(),
        };
        assert_eq!(binary.line(), "d2l-io-it\ttest\tcrates/d2l-io\n");
        assert_eq!(Binary::parse(&binary.line()), Some(binary));
        assert_eq!(Binary::parse("x\tdoc\tcrates/x"), None);
        assert_eq!(Binary::parse("x"), None);
    }
}
