//! `cargo xtask <command>`: project automation for d2l-burn, with no dependencies beyond std.
//!
//! Commands:
//! - `test-all-backends [--backends a,b] [--require a,b] [--keep-going]`: the workspace test
//!   suite once per backend (one backend per process), then a summary table; a GPU backend
//!   that cannot run here is skipped with the install hint unless `--require` names it.
//! - `bench <devices|blocks|…>`: a named benchmark in release mode.
//! - `fuzz [--seconds N]`: d2l-io's loader fuzz targets for N seconds each.
//! - `book [--no-run]`: capture the examples' output and build the mdBook into `target/book`.

mod bench;
mod book;
mod fuzz;
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
  book [--no-run]
      capture every section example's output and build the book (docs/book) into
      target/book with mdbook (installed into target/tools if missing)
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
fn cargo() -> std::process::Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = std::process::Command::new(cargo);
    command.current_dir(workspace_root());
    command
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
