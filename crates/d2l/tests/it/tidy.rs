//! Conventions checked by tests, not by memory.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Example names declared in the facade's manifest.
fn manifest_examples() -> Vec<String> {
    read(&root().join("crates/d2l/Cargo.toml"))
        .split("[[example]]")
        .skip(1)
        .filter_map(|block| {
            let line = block.lines().find(|l| l.trim_start().starts_with("name"))?;
            Some(line.split('"').nth(1)?.to_owned())
        })
        .collect()
}

#[test]
fn examples_index_matches_the_manifest() {
    let index = read(&root().join("examples/README.md"));
    let declared = manifest_examples();
    assert!(declared.len() >= 2, "{declared:?}");
    for name in &declared {
        assert!(
            index.contains(&format!("--example {name}`")),
            "examples/README.md lacks `{name}`"
        );
    }
    let listed = index
        .lines()
        .filter(|l| l.starts_with('|') && l.contains("--example "))
        .count();
    assert_eq!(
        listed,
        declared.len(),
        "examples/README.md lists an example the manifest lacks"
    );
}

#[test]
fn every_example_opens_with_a_one_line_doc() {
    for name in manifest_examples() {
        let path = root().join("examples").join(&name).join("main.rs");
        let text = read(&path);
        assert!(
            text.starts_with("//! "),
            "{} must open with `//!`",
            path.display()
        );
    }
}

#[test]
fn section_examples_are_named_by_section() {
    for name in manifest_examples() {
        let ok = name == "tour"
            || name
                .strip_prefix("sec5_")
                .and_then(|rest| rest.split('_').next())
                .is_some_and(|n| n.parse::<u32>().is_ok());
        assert!(ok, "example `{name}` is not named `sec5_<n>_<title>`");
    }
}

#[test]
fn library_crates_never_name_a_concrete_backend() {
    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("readable dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    for krate in ["d2l-blocks", "d2l-params", "d2l-layers", "d2l-io"] {
        let mut files = Vec::new();
        rust_files(&root().join("crates").join(krate).join("src"), &mut files);
        assert!(!files.is_empty(), "{krate} has no sources");
        for path in files {
            // Doc comments may show a concrete backend in a runnable example; code may not.
            let code = read(&path)
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for banned in ["NdArray", "backend::Wgpu", "backend::Cuda", "backend::Flex"] {
                assert!(
                    !code.contains(banned),
                    "{} names `{banned}`",
                    path.display()
                );
            }
        }
    }
}
