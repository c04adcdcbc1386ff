//! Integration tests of d2l-io, run once per backend by `cargo xtask test-all-backends`.

mod bad;
mod checkpointer;
mod crash;
mod faults;
mod fuzz;
mod pytorch;
mod state;
mod tensors;
mod training;

use std::path::{Path, PathBuf};

/// A file of `tests/fixtures`, found through cargo's `CARGO_MANIFEST_DIR` at run time (the
/// prepared GPU run sets it to the checkout it carried), else where the test was built.
pub fn fixture(name: &str) -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| env!("CARGO_MANIFEST_DIR").into(), PathBuf::from)
        .join("tests/fixtures")
        .join(name)
}

/// A fresh directory for one test's files.
pub fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("d2l-io-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The temporary files in `dir` (what a killed or failed save could leave).
pub fn strays(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect()
}
