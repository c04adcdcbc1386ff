//! Whether this machine can build the `tch` backend: a `torch==2.9.0` importable by the Python
//! that torch-sys asks (`python` in an active virtual environment, else `python3`).
//!
//! The harness turns the `tch` feature on only then, so a machine without torch keeps its one
//! build and reports the backend skipped with the install hint — never a build that fails, or
//! one that downloads libtorch.

use std::process::{Command, Stdio};

/// The torch version `tch` 0.22 (under burn-tch 0.21) is built for.
pub(crate) const TORCH_VERSION: &str = "2.9.0";

/// What a user runs to get the backend, for skip messages and the README.
pub(crate) const INSTALL_HINT: &str = "pip install torch==2.9.0 into the python3 on PATH or an \
     active venv (CPU-only wheel: add --index-url https://download.pytorch.org/whl/cpu)";

/// The backend features every run builds with, and the `tch` one where torch is installed.
const BASE_FEATURES: &str = "d2l/ndarray,d2l/flex,d2l/wgpu,d2l/cuda";

/// The cargo features for the tests, examples and fuzzing: one build, one target dir.
pub(crate) fn test_features() -> String {
    match status() {
        Ok(()) => format!("{BASE_FEATURES},d2l/tch"),
        Err(_) => BASE_FEATURES.to_owned(),
    }
}

/// `Ok` if the `tch` backend can build and run here, else why not (with the install hint).
pub(crate) fn status() -> Result<(), String> {
    let python = if std::env::var_os("VIRTUAL_ENV").is_some() {
        "python"
    } else {
        "python3"
    };
    let output = Command::new(python)
        .args(["-c", "import torch; print(torch.__version__)"])
        .stderr(Stdio::null())
        .output()
        .map_err(|err| format!("cannot run `{python}` ({err}); {INSTALL_HINT}"))?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    check_version(python, output.status.success().then_some(version.as_str()))
}

fn check_version(python: &str, version: Option<&str>) -> Result<(), String> {
    match version {
        None => Err(format!("`{python}` cannot import torch; {INSTALL_HINT}")),
        Some(found) if found.split('+').next() == Some(TORCH_VERSION) => Ok(()),
        Some(found) => Err(format!(
            "`{python}` has torch {found}, the tch backend needs {TORCH_VERSION}; {INSTALL_HINT}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_torch_2_9_0_builds_the_backend() {
        assert_eq!(check_version("python3", Some("2.9.0+cu128")), Ok(()));
        assert_eq!(check_version("python3", Some("2.9.0")), Ok(()));
        let old = check_version("python3", Some("2.8.0+cpu")).expect_err("wrong version");
        assert!(
            old.contains("torch 2.8.0+cpu") && old.contains("needs 2.9.0"),
            "{old}"
        );
        let none = check_version("python", None).expect_err("no torch");
        assert!(none.contains("pip install torch==2.9.0"), "{none}");
    }
}
