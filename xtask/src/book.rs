//! `cargo xtask book`: the chapter as an mdBook, built into `target/book`.
//!
//! 1. Runs every section example (default backend, flex) and captures what it prints into
//!    `docs/book/src/output/<example>.txt`, which the pages include next to the code.
//! 2. Builds `docs/book` with `mdbook` — the one on `PATH`, else one installed from crates.io
//!    into `target/tools` on first use.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The mdbook release line the book is written for.
const MDBOOK_VERSION: &str = "^0.4";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let root = crate::workspace_root();
    let capture = !args.iter().any(|a| a == "--no-run");
    if capture {
        capture_outputs(&root)?;
    }
    let mdbook = mdbook(&root)?;
    let status = Command::new(&mdbook)
        .args(["build", "docs/book"])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", mdbook.display()))?;
    if !status.success() {
        return Err("mdbook build failed".into());
    }
    println!("book: {}", root.join("target/book/index.html").display());
    Ok(())
}

/// The section examples, as the facade's manifest declares them.
fn section_examples(root: &Path) -> Result<Vec<String>, String> {
    let manifest = std::fs::read_to_string(root.join("crates/d2l/Cargo.toml"))
        .map_err(|e| format!("crates/d2l/Cargo.toml: {e}"))?;
    Ok(manifest
        .split("[[example]]")
        .skip(1)
        .filter_map(|block| {
            let line = block.lines().find(|l| l.trim_start().starts_with("name"))?;
            Some(line.split('"').nth(1)?.to_owned())
        })
        .filter(|name| name.starts_with("sec"))
        .collect())
}

fn capture_outputs(root: &Path) -> Result<(), String> {
    let examples = section_examples(root)?;
    // The test suite's features and profile: the examples `cargo test` built are reused, and
    // with no `D2L_BACKEND` they run on the default backend (flex).
    let features = crate::torch::test_features();
    let status = crate::cargo()
        .args([
            "build",
            "--quiet",
            "--profile",
            "test",
            "--package",
            "d2l",
            "--examples",
        ])
        .args(["--features", &features])
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if !status.success() {
        return Err("building the examples failed".into());
    }
    let out_dir = root.join("docs/book/src/output");
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    for name in examples {
        let output = crate::cargo()
            .args(["run", "--quiet", "--profile", "test", "--package", "d2l"])
            .args(["--features", &features])
            .args(["--example", &name])
            .env_remove("D2L_BACKEND")
            .output()
            .map_err(|e| format!("cannot start cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "example {name} failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let path = out_dir.join(format!("{name}.txt"));
        std::fs::write(&path, &output.stdout).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("captured {}", path.display());
    }
    Ok(())
}

/// `mdbook` from `PATH`, else from `target/tools`, installing it there if needed.
fn mdbook(root: &Path) -> Result<PathBuf, String> {
    let works = |program: &Path| {
        Command::new(program)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let on_path = PathBuf::from("mdbook");
    if works(&on_path) {
        return Ok(on_path);
    }
    let tools = root.join("target/tools");
    let local = tools.join("bin/mdbook");
    if works(&local) {
        return Ok(local);
    }
    println!(
        "installing mdbook {MDBOOK_VERSION} into {}",
        tools.display()
    );
    let status = crate::cargo()
        .args([
            "install",
            "mdbook",
            "--locked",
            "--version",
            MDBOOK_VERSION,
            "--root",
        ])
        .arg(&tools)
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() && works(&local) {
        Ok(local)
    } else {
        Err("cannot install mdbook (cargo install mdbook)".into())
    }
}
