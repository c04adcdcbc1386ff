//! `cargo xtask <command>`: project automation for d2l-burn, with no dependencies beyond std.
//!
//! Commands:
//! - `test-all-backends [--backends a,b] [--require a,b] [--keep-going]`: the workspace test
//!   suite once per backend (one backend per process), then a summary table; a GPU backend
//!   that cannot run here is skipped with the install hint unless `--require` names it.
//! - `bench <devices|blocks|…>`: a named benchmark in release mode.
//! - `fuzz [--seconds N]`: d2l-io's loader fuzz targets for N seconds each.
//! - `book [--no-run] [--check] [--open]`: capture the examples' output per cell, draw the
//!   figures, build the mdBook into `target/book`, check it in headless Chromium, open it.
//! - `gpu-bundle`: build and pack the prepared GPU run; `gpu-run …`: the runner inside it.

mod bench;
mod book;
mod fuzz;
mod gpu;
mod mpi;
mod test_all_backends;
mod torch;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  test-all-backends [--backends ndarray,flex,wgpu,cuda,tch] [--require wgpu] [--keep-going]
      run the whole test suite once per backend and print a summary table; a backend
      without a driver (tch: without torch==2.9.0) is skipped with the install hint, or
      fails if --require names it
  bench <name> [args…]
      run a benchmark in release mode (names: train, cnn, ops, devices, blocks, layers, params, io)
  book [--no-run] [--check] [--open]
      capture every section example's output per book cell, draw the figures and build the
      book (docs/book) into target/book with mdbook (installed into target/tools if missing);
      --check opens every page in headless Chromium (screenshots in target/book-check),
      --open opens the book in your browser
  gpu-bundle
      build (release, features flex,wgpu,cuda) every test binary and the GPU benchmarks, strip
      and pack them with this runner into target/gpu-bundle as tests.tar.xz and benches.tar.xz
      (each under one call's carry limit); on a GPU machine run `bash target/gpu-bundle/run.sh`
      from the repository root, once per payload carried
  gpu-run --bundle DIR [--repo DIR] [--out DIR] [--backends cuda,wgpu] [--benches cnn,train,io|none] [--deadline S]
      the runner inside the bundle (run.sh calls it): every carried test binary per backend,
      then the carried benchmarks; summary, logs and figures under --out
  fuzz [--seconds N] [--seed S]
      run d2l-io's loader fuzz targets for N seconds each (stable Rust; default 30)
  help
      print this message";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match command {
        "test-all-backends" => test_all_backends::run(rest),
        "bench" => bench::run(rest),
        "fuzz" => fuzz::run(rest),
        "book" => book::run(rest),
        "gpu-bundle" => gpu::bundle(rest),
        "gpu-run" => gpu::run(rest),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo`, as the running cargo names itself (`$CARGO`), so toolchain overrides carry over.
///
/// Without the variables `cargo run` gave xtask about its own package (`CARGO_PKG_NAME=xtask`,
/// `CARGO_MANIFEST_DIR`, …): build scripts that watch them (ring's, under the `tch` backend's
/// torch-sys) would see them change between `cargo xtask …` and a plain `cargo test`, and
/// rebuild everything above them each time one follows the other.
fn cargo() -> std::process::Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command.current_dir(workspace_root());
    for (key, _) in std::env::vars_os() {
        if key.to_str().is_some_and(is_package_variable) {
            command.env_remove(key);
        }
    }
    command
}

/// A variable cargo sets for the package it runs (not one a user sets for a build).
fn is_package_variable(key: &str) -> bool {
    key.starts_with("CARGO_PKG_")
        || matches!(
            key,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
        )
}

fn workspace_root() -> std::path::PathBuf {
    let manifest_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Gives `command` an `XDG_RUNTIME_DIR` if the environment has none: Mesa's Vulkan loader
/// (lavapipe, under wgpu) complains on every device creation without one.
fn quiet_vulkan(command: &mut std::process::Command) {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
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
}

#[cfg(test)]
mod tests {
    use super::is_package_variable;

    #[test]
    fn only_the_run_packages_variables_are_dropped() {
        for key in [
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_MANIFEST_DIR",
        ] {
            assert!(is_package_variable(key), "{key}");
        }
        // What users set for a build stays.
        for key in [
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "CARGO_INCREMENTAL",
            "CARGO",
        ] {
            assert!(!is_package_variable(key), "{key}");
        }
    }
}
