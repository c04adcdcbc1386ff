//! With the `tch` feature: makes the libtorch that `torch-sys` linked loadable by every binary
//! cargo runs, so nobody exports `LD_LIBRARY_PATH`.
//!
//! `torch-sys` links the pip-installed torch's `lib/` folder but leaves no run-time path to it
//! in the binaries. Cargo puts every native search path *inside the target directory* on the
//! loader path of what `cargo run`, `cargo test` and `cargo bench` start, so this script links
//! torch's folder into its `OUT_DIR` and names that link as a search path. It also gives this
//! crate's own tests and benches an rpath, so they run when started directly, and tells
//! dependents' build scripts the folder (`DEP_D2L_DEVICE_LIBTORCH_LIB`).

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_TCH").is_none() {
        return;
    }
    // Set by torch-sys (`links = "tch"`): the folder holding libtorch_cpu.so and friends.
    let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB").map(PathBuf::from) else {
        println!(
            "cargo::warning=torch-sys did not say where libtorch is; run with LD_LIBRARY_PATH"
        );
        return;
    };
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        return;
    };
    let link = out.join("libtorch");
    match point_at(&link, &lib) {
        Ok(()) => println!("cargo::rustc-link-search=native={}", link.display()),
        Err(err) => println!("cargo::warning=cannot link {}: {err}", lib.display()),
    }
    println!("cargo::rustc-link-arg=-Wl,-rpath,{}", lib.display());
    // For dependents' build scripts (`DEP_D2L_DEVICE_LIBTORCH_LIB`): the `d2l` facade gives its
    // examples, tests and benches the same rpath.
    println!("cargo::metadata=libtorch_lib={}", lib.display());
}

/// Makes `link` a symbolic link to `target`, replacing an older one.
#[cfg(unix)]
fn point_at(link: &Path, target: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(link) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => return Err(err),
        _ => {}
    }
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn point_at(_link: &Path, _target: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other(
        "only Unix loaders are handled; put libtorch on PATH",
    ))
}
