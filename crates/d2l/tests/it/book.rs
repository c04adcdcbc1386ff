//! The book and the examples it shows stay in step (cheap, no example is run): every cell of
//! every section example is on a page with its output, the outputs were captured from the
//! example as it is now, each printed line of a cell shows up in its output, and each PyTorch
//! cell has its Rust cell. `cargo xtask book` captures the outputs; `--check` opens the pages
//! in a browser.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::tidy::{book_includes, manifest_examples, read, root};

/// The section examples (everything the book shows cell by cell).
fn section_examples() -> Vec<String> {
    let names: Vec<String> = manifest_examples()
        .into_iter()
        .filter(|n| n.starts_with("sec"))
        .collect();
    assert!(names.len() >= 12, "{names:?}");
    names
}

fn example_source(name: &str) -> String {
    read(&root().join("examples").join(name).join("main.rs"))
}

/// `(name, region text)` of each cell an example marks, in order. Regions named `…_def` are
/// definitions the book shows (a function outside the section): they print nothing and have
/// no cell mark.
fn cells(source: &str) -> Vec<(String, String)> {
    regions(source)
        .into_iter()
        .filter(|(name, _)| !name.ends_with("_def"))
        .collect()
}

/// Every anchored region: cells and definitions.
fn regions(source: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (i, line) in source.lines().enumerate() {
        let Some((_, name)) = line.split_once("// ANCHOR: ") else {
            continue;
        };
        let name = name.trim().to_owned();
        let end = format!("// ANCHOR_END: {name}");
        let body: Vec<&str> = source
            .lines()
            .skip(i + 1)
            .take_while(|l| !l.contains(&end))
            .collect();
        found.push((name, body.join("\n")));
    }
    found
}

/// FNV-1a, 64 bits: the fingerprint `cargo xtask book` stores next to the outputs.
fn fingerprint(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("fnv1a64 {hash:016x}")
}

fn output_dir(example: &str) -> PathBuf {
    root().join("docs/book/src/output").join(example)
}

#[test]
fn every_cell_anchor_marks_its_cell_and_ends() {
    for name in section_examples() {
        let source = example_source(&name);
        let cells = cells(&source);
        assert!(!cells.is_empty(), "{name} marks no book cell");
        let mut seen = BTreeSet::new();
        for line in source.lines().filter(|l| l.contains("// ANCHOR: ")) {
            let cell = line.split("// ANCHOR: ").nth(1).unwrap_or_default().trim();
            if cell.ends_with("_def") {
                assert_eq!(
                    line.trim(),
                    format!("// ANCHOR: {cell}"),
                    "{name}: a definition has no cell mark"
                );
                assert!(
                    source.contains(&format!("// ANCHOR_END: {cell}")),
                    "{name}: `{cell}` never ends"
                );
                continue;
            }
            assert!(
                line.trim_start()
                    .starts_with(&format!("d2l::cell(\"{cell}\"); //")),
                "{name}: the anchor `{cell}` must share its line with `d2l::cell(\"{cell}\");`"
            );
            assert!(
                source.contains(&format!("// ANCHOR_END: {cell}")),
                "{name}: `{cell}` never ends"
            );
            assert!(seen.insert(cell.to_owned()), "{name}: `{cell}` twice");
        }
        assert_eq!(
            source.matches("d2l::cell(").count(),
            seen.len(),
            "{name}: a `d2l::cell` without its anchor"
        );
    }
}

#[test]
fn the_outputs_were_captured_from_the_examples_as_they_are() {
    for name in section_examples() {
        let stamp = output_dir(&name).join("SOURCE");
        let stored = std::fs::read_to_string(&stamp).unwrap_or_default();
        let bytes = std::fs::read(root().join("examples").join(&name).join("main.rs"))
            .expect("the example's source");
        assert_eq!(
            stored.trim(),
            fingerprint(&bytes),
            "{name} changed since its outputs were captured: run `cargo xtask book`"
        );
    }
}

/// The literal text before the first `{}` of each `println!` in `code`.
fn printed_literals(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    for piece in code.split("println!(").skip(1) {
        let Some(rest) = piece.trim_start().strip_prefix('"') else {
            continue;
        };
        let literal = rest.split('"').next().unwrap_or_default();
        let prefix = literal.split('{').next().unwrap_or_default();
        if !prefix.contains('\\') && prefix.trim().len() >= 3 {
            found.push(prefix.trim().to_owned());
        }
    }
    found
}

#[test]
fn each_cell_output_holds_what_the_cell_prints() {
    let mut checked = 0;
    for name in section_examples() {
        for (cell, code) in cells(&example_source(&name)) {
            let path = output_dir(&name).join(format!("{cell}.txt"));
            let prints = code.contains("println!");
            assert_eq!(
                path.is_file(),
                prints,
                "{name}: cell `{cell}` prints {}, output file {}",
                if prints { "something" } else { "nothing" },
                if path.is_file() { "present" } else { "missing" },
            );
            if !prints {
                continue;
            }
            let output = read(&path);
            for literal in printed_literals(&code) {
                assert!(
                    output.contains(&literal),
                    "{}: no line with `{literal}`: run `cargo xtask book`",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 50, "only {checked} printed lines checked");
}

#[test]
fn the_book_shows_every_cell_and_its_output() {
    let included: BTreeSet<(String, Option<String>)> = book_includes()
        .into_iter()
        .map(|(_, path, anchor)| (path, anchor))
        .collect();
    for name in section_examples() {
        let code = format!("../../../examples/{name}/main.rs");
        for (cell, _) in regions(&example_source(&name)) {
            assert!(
                included.contains(&(code.clone(), Some(cell.clone()))),
                "no book page shows cell `{cell}` of {name}"
            );
            let output = format!("output/{name}/{cell}.txt");
            if output_dir(&name).join(format!("{cell}.txt")).is_file() {
                assert!(
                    included.contains(&(output.clone(), None)),
                    "no book page shows {output}"
                );
            }
        }
        assert!(
            !included.contains(&(code.clone(), None)),
            "a page includes all of {name}: include its cells"
        );
    }
}

/// Every PyTorch cell of a section page has a Rust cell right after it (the tabs pair them).
#[test]
fn every_pytorch_cell_has_its_rust_cell() {
    let src = root().join("docs/book/src");
    let mut pairs = 0;
    for entry in std::fs::read_dir(&src).expect("docs/book/src").flatten() {
        let path = entry.path();
        let is_section = path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("sec"));
        if !is_section {
            continue;
        }
        let text = read(&path);
        let fences: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("```"))
            .map(str::trim)
            .collect();
        // Fences come in open/close pairs; the openings are the even ones.
        let openings: Vec<&str> = fences.iter().step_by(2).copied().collect();
        for (i, open) in openings.iter().enumerate() {
            if *open == "```python" {
                let next = openings.get(i + 1).copied().unwrap_or_default();
                assert!(
                    next.starts_with("```rust"),
                    "{}: PyTorch cell {i} is followed by `{next}`, not a Rust cell",
                    path.display()
                );
                pairs += 1;
            }
        }
    }
    assert!(pairs >= 60, "only {pairs} PyTorch/Rust cell pairs");
}
