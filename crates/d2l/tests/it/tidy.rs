//! Conventions checked by tests, not by memory.

use std::path::{Path, PathBuf};

pub(crate) fn root() -> PathBuf {
    crate::manifest_dir().join("../..")
}

pub(crate) fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{}: {err}", path.display()))
}

/// Example names declared in the facade's manifest.
pub(crate) fn manifest_examples() -> Vec<String> {
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
        // `sec<chapter>_<section>_<title>`, e.g. `sec5_1_layers_and_blocks`.
        let mut parts = name.strip_prefix("sec").unwrap_or_default().split('_');
        let numbered = |p: Option<&str>| p.is_some_and(|n| n.parse::<u32>().is_ok());
        let ok = name == "tour" || (numbered(parts.next()) && numbered(parts.next()));
        assert!(
            ok,
            "example `{name}` is not named `sec<chapter>_<section>_<title>`"
        );
    }
}

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

/// The library crates (what users depend on).
const LIBRARY_CRATES: [&str; 7] = [
    "d2l-blocks",
    "d2l-params",
    "d2l-layers",
    "d2l-io",
    "d2l-device",
    "d2l-parallel",
    "d2l",
];

/// One job per file: every library crate's sources and tests stay under ~400 lines.
#[test]
fn library_files_stay_small() {
    let mut files = Vec::new();
    for krate in LIBRARY_CRATES {
        rust_files(&root().join("crates").join(krate).join("src"), &mut files);
        rust_files(&root().join("crates").join(krate).join("tests"), &mut files);
    }
    assert!(files.len() > 50, "{files:?}");
    for path in files {
        let lines = read(&path).lines().count();
        assert!(lines <= 400, "{}: {lines} lines; split it", path.display());
    }
}

/// The top-level modules of a crate each depends on, from `crate::…` paths and `use crate::{…}`
/// items (an item re-exported by `lib.rs` counts as its module's).
fn module_graph(
    krate: &str,
) -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    use std::collections::{BTreeMap, BTreeSet};
    let src = root().join("crates").join(krate).join("src");
    let mut text: BTreeMap<String, String> = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    for path in files {
        let rel = path.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .expect("a component")
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if top != "lib" {
            let body: String = read(&path)
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            text.entry(top).or_default().push_str(&body);
        }
    }
    // `pub use module::{A, B}` / `pub use module::A;` in lib.rs: item → module.
    let lib = read(&src.join("lib.rs"));
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for stmt in lib.split(';') {
        let Some(rest) = stmt.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, items)) = rest.split_once("::") else {
            continue;
        };
        for item in items
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|i| !i.is_empty())
        {
            owner.insert(item.to_owned(), module.to_owned());
        }
    }
    let idents = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|i| !i.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut graph = BTreeMap::new();
    for (module, body) in &text {
        let mut deps = BTreeSet::new();
        let mut names = Vec::new();
        for (i, _) in body.match_indices("crate::") {
            let rest = &body[i + 7..];
            if let Some(group) = rest.strip_prefix('{') {
                names.extend(idents(group.split('}').next().unwrap_or("")));
            } else if let Some(first) = idents(rest).into_iter().next() {
                names.push(first);
            }
        }
        for name in names {
            let target = if text.contains_key(&name) {
                Some(name)
            } else {
                owner.get(&name).cloned()
            };
            if let Some(target) = target.filter(|t| t != module && text.contains_key(t)) {
                deps.insert(target);
            }
        }
        graph.insert(module.clone(), deps);
    }
    graph
}

/// No module cycles inside a library crate (a module and what it uses form a DAG).
#[test]
fn library_crates_have_no_module_cycles() {
    for krate in LIBRARY_CRATES {
        let graph = module_graph(krate);
        assert!(!graph.is_empty(), "{krate}: no modules read");
        // Depth-first search for a back edge.
        fn visit(
            node: &str,
            graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
            stack: &mut Vec<String>,
            done: &mut std::collections::BTreeSet<String>,
        ) -> Option<Vec<String>> {
            if let Some(at) = stack.iter().position(|n| n == node) {
                let mut cycle = stack[at..].to_vec();
                cycle.push(node.to_owned());
                return Some(cycle);
            }
            if done.contains(node) {
                return None;
            }
            stack.push(node.to_owned());
            for next in graph.get(node).into_iter().flatten() {
                if let Some(cycle) = visit(next, graph, stack, done) {
                    return Some(cycle);
                }
            }
            stack.pop();
            done.insert(node.to_owned());
            None
        }
        let mut done = std::collections::BTreeSet::new();
        for node in graph.keys() {
            if let Some(cycle) = visit(node, &graph, &mut Vec::new(), &mut done) {
                panic!("{krate}: module cycle {}", cycle.join(" → "));
            }
        }
    }
}

#[test]
fn library_crates_never_name_a_concrete_backend() {
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

/// The `{{#include …}}` directives of the book's pages: `(page, path relative to the page,
/// anchor)`.
pub(crate) fn book_includes() -> Vec<(PathBuf, String, Option<String>)> {
    let src = root().join("docs/book/src");
    let mut found = Vec::new();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&src)
        .expect("docs/book/src")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for page in pages {
        let text = read(&page);
        for piece in text.split("{{#include ").skip(1) {
            let target = piece.split("}}").next().expect("split").trim();
            let (path, anchor) = match target.split_once(':') {
                Some((path, anchor)) => (path.to_owned(), Some(anchor.to_owned())),
                None => (target.to_owned(), None),
            };
            found.push((page.clone(), path, anchor));
        }
    }
    found
}

#[test]
fn every_book_include_resolves() {
    let includes = book_includes();
    assert!(
        includes.len() >= 20,
        "the book includes the examples: {includes:?}"
    );
    for (page, path, anchor) in includes {
        let file = page.parent().expect("dir").join(&path);
        assert!(file.is_file(), "{}: {path} does not exist", page.display());
        if let Some(anchor) = anchor {
            let text = read(&file);
            assert!(
                text.contains(&format!("ANCHOR: {anchor}"))
                    && text.contains(&format!("ANCHOR_END: {anchor}")),
                "{}: {path} has no anchor `{anchor}`",
                page.display()
            );
        }
    }
}
