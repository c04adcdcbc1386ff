//! Whether MPI can build and run here: `d2l-parallel`'s `mpi` feature needs OpenMPI (its
//! `mpirun` and headers) and libclang (the bindings are generated at build time).

use std::path::Path;
use std::process::{Command, Stdio};

/// What to install where MPI is missing.
pub(crate) const INSTALL_HINT: &str = "install OpenMPI and libclang (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev libclang-dev)";

/// The feature that compiles the MPI communicator and its tests.
pub(crate) const FEATURE: &str = "d2l-parallel/mpi";

/// `Ok` if the `mpi` feature can build and its tests can run here, else why not (with the hint).
pub(crate) fn status() -> Result<(), String> {
    let runs = |program: &str, arg: &str| {
        Command::new(program)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !runs("mpirun", "--version") {
        return Err(format!("no `mpirun`; {INSTALL_HINT}"));
    }
    if !runs("mpicc", "--showme:version") {
        return Err(format!("no MPI headers (`mpicc`); {INSTALL_HINT}"));
    }
    if !has_libclang() {
        return Err(format!("no libclang; {INSTALL_HINT}"));
    }
    Ok(())
}

fn has_libclang() -> bool {
    if std::env::var_os("LIBCLANG_PATH").is_some() {
        return true;
    }
    let dirs = [
        "/usr/lib",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
    ];
    let llvm = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("llvm-"))
        })
        .map(|p| p.join("lib"));
    dirs.iter()
        .map(|d| Path::new(d).to_path_buf())
        .chain(llvm)
        .any(|dir| {
            std::fs::read_dir(dir)
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.starts_with("libclang") && name.contains(".so") && !name.contains("cpp")
                })
        })
}
