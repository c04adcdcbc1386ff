//! Captures what each section example prints, split per book cell.
//!
//! The examples run with `D2L_BOOK_CELLS=1`, so `d2l::cell("name")` prints a mark line where
//! each cell begins; the lines up to the next mark are that cell's output. A cell that prints
//! nothing gets no file. Next to the cells, `SOURCE` holds the fingerprint of the example's
//! source the outputs were captured from: a tidy test fails when the example changed since.

use std::path::Path;

/// What `d2l::cell` prints before a cell's name (`d2l::CELL_MARK`).
const CELL_MARK: &str = "\u{1e}cell ";

/// FNV-1a, 64 bits, of `bytes`: a fingerprint stable across Rust releases (the tidy test in
/// `crates/d2l/tests/it/book.rs` computes the same).
pub(crate) fn fingerprint(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("fnv1a64 {hash:016x}")
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

/// `(cell, output)` pairs of a run's stdout, in order; what comes before the first mark and
/// the examples' title lines (`## 8.6 ResNet-18 — backend: flex`) belong to no cell.
fn split_cells(stdout: &str) -> Vec<(String, String)> {
    let mut cells: Vec<(String, String)> = Vec::new();
    for line in stdout.lines() {
        if line.trim_start().starts_with("## ") {
            continue;
        }
        if let Some(name) = line.strip_prefix(CELL_MARK) {
            cells.push((name.trim().to_owned(), String::new()));
        } else if let Some((_, text)) = cells.last_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    for (_, text) in &mut cells {
        let kept = text.trim_end().len();
        text.truncate(kept);
        if !text.is_empty() {
            text.push('\n');
        }
    }
    cells
}

pub(super) fn capture_outputs(root: &Path) -> Result<(), String> {
    let examples = section_examples(root)?;
    // The test suite's features and profile: the examples `cargo test` built are reused, and
    // with no `D2L_BACKEND` they run on the default backend (flex).
    let features = crate::torch::test_features();
    let status = crate::cargo()
        .args(["build", "--quiet", "--profile", "test", "--package", "d2l"])
        .arg("--examples")
        .args(["--features", &features])
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if !status.success() {
        return Err("building the examples failed".into());
    }
    let out_root = root.join("docs/book/src/output");
    for name in examples {
        let output = crate::cargo()
            .args(["run", "--quiet", "--profile", "test", "--package", "d2l"])
            .args(["--features", &features])
            .args(["--example", &name])
            .env_remove("D2L_BACKEND")
            .env("D2L_BOOK_CELLS", "1")
            .output()
            .map_err(|e| format!("cannot start cargo: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "example {name} failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let cells = split_cells(&String::from_utf8_lossy(&output.stdout));
        if cells.is_empty() {
            return Err(format!("example {name} marks no book cell (`d2l::cell`)"));
        }
        let dir = out_root.join(&name);
        // Cells removed from the example leave no stale output behind.
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (cell, text) in cells.iter().filter(|(_, text)| !text.is_empty()) {
            let path = dir.join(format!("{cell}.txt"));
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let source = root.join("examples").join(&name).join("main.rs");
        let bytes = std::fs::read(&source).map_err(|e| format!("{}: {e}", source.display()))?;
        let stamp = dir.join("SOURCE");
        std::fs::write(&stamp, fingerprint(&bytes) + "\n")
            .map_err(|e| format!("{}: {e}", stamp.display()))?;
        println!("captured {} cells of {name}", cells.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_split_at_the_marks_and_the_title_belongs_to_no_cell() {
        let out = "## 5.1 title\n\u{1e}cell a\nx = 1\n\n## 5.2\n\u{1e}cell b\n\u{1e}cell c\ny\n";
        assert_eq!(
            split_cells(out),
            [
                ("a".to_owned(), "x = 1\n".to_owned()),
                ("b".to_owned(), String::new()),
                ("c".to_owned(), "y\n".to_owned()),
            ]
        );
    }

    #[test]
    fn the_fingerprint_is_fnv1a() {
        // FNV-1a 64 of "a", as published with the algorithm.
        assert_eq!(fingerprint(b"a"), "fnv1a64 af63dc4c8601ec8c");
    }
}
