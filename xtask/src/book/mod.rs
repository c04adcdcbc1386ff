//! `cargo xtask book [--no-run] [--check] [--open]`: the chapter as an mdBook, built into
//! `target/book`.
//!
//! 1. Runs every section example (default backend, flex) and splits what it prints into one
//!    file per book cell, `docs/book/src/output/<example>/<cell>.txt` ([`capture`]).
//! 2. Draws the book's figures from those outputs into `docs/book/src/figures` ([`figures`]).
//! 3. Builds `docs/book` with `mdbook` — the one on `PATH`, else one installed from crates.io
//!    into `target/tools` on first use.
//! 4. With `--check`, opens every page in headless Chromium ([`check`]).

mod capture;
mod check;
mod figures;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The mdbook release line the book is written for.
const MDBOOK_VERSION: &str = "^0.4";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let root = crate::workspace_root();
    let capture = !args.iter().any(|a| a == "--no-run");
    if capture {
        capture::capture_outputs(&root)?;
    }
    figures::draw(&root)?;
    let mdbook = mdbook(&root)?;
    let status = Command::new(&mdbook)
        .args(["build", "docs/book"])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", mdbook.display()))?;
    if !status.success() {
        return Err("mdbook build failed".into());
    }
    let index = root.join("target/book/index.html");
    println!("book: {}", index.display());
    if args.iter().any(|a| a == "--check") {
        check::check_pages(&root)?;
    }
    if args.iter().any(|a| a == "--open") {
        open(&index);
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

/// Opens the built book in the desktop's browser, if there is one.
fn open(index: &Path) {
    let opened = ["xdg-open", "open"].iter().any(|program| {
        Command::new(program)
            .arg(index)
            .status()
            .is_ok_and(|s| s.success())
    });
    if !opened {
        println!("open {} in a browser", index.display());
    }
}
