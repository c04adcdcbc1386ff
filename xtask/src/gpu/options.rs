//! `xtask gpu-run`'s command line.

use std::path::PathBuf;
use std::time::Duration;

/// Seconds one call may run by default: the GPU machine allows 600 per command and 900 per
/// task, start-up and both calls included.
const DEFAULT_DEADLINE: u64 = 270;

#[derive(Debug, PartialEq)]
pub(super) struct Options {
    pub(super) bundle: PathBuf,
    pub(super) repo: PathBuf,
    pub(super) out: PathBuf,
    pub(super) backends: Vec<String>,
    /// The benchmarks to run; `None`: every one the carried payloads hold.
    pub(super) benches: Option<Vec<String>>,
    /// The whole call's time limit: two calls (tests, benchmarks) and the machine's start-up
    /// fit the 15 minutes a GPU is lent for.
    pub(super) deadline: Duration,
}

pub(super) fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        bundle: PathBuf::new(),
        repo: PathBuf::from("."),
        out: PathBuf::from("target/gpu-out"),
        backends: vec!["cuda".into(), "wgpu".into()],
        benches: None,
        deadline: Duration::from_secs(DEFAULT_DEADLINE),
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
            "--benches" if value == "none" => options.benches = Some(Vec::new()),
            "--benches" => options.benches = Some(list()),
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

#[cfg(test)]
mod tests {
    use std::path::Path;

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
        assert_eq!(options.benches, Some(Vec::new()));
        assert_eq!(options.deadline, Duration::from_secs(60));
        let defaults = parse_options(&["--bundle".into(), "/b".into()]).expect("valid");
        assert_eq!(defaults.backends, ["cuda", "wgpu"]);
        assert_eq!(defaults.benches, None);
        assert_eq!(defaults.deadline, Duration::from_secs(DEFAULT_DEADLINE));
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
