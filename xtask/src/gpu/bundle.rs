//! `cargo xtask gpu-bundle`: build, strip and pack the GPU run (see the module above).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{BUNDLE_DIR, Binary, CARRY_BUDGET, Kind, PROBE_BINARY, Part};

/// The backends the bundle's binaries are built with: CUDA, wgpu (the GPU's Vulkan driver) and
/// flex (the CPU check of the runner here). ndarray comes along through d2l-io's tests.
const FEATURES: &str = "d2l/flex,d2l/wgpu,d2l/cuda";

/// The benchmarks with GPU rows.
const BENCHES: [&str; 3] = ["cnn", "train", "io"];

/// The Vulkan loader wgpu opens at run time: carried in case the GPU machine lacks it.
const VULKAN_LOADER: &str = "/usr/lib/x86_64-linux-gnu/libvulkan.so.1";

pub(crate) fn run(args: &[String]) -> Result<(), String> {
    if let Some(arg) = args.first() {
        return Err(format!("gpu-bundle takes no arguments (got `{arg}`)"));
    }
    let root = crate::workspace_root();
    let binaries = build()?;
    let stage = root.join("target/gpu-stage");
    let _ = std::fs::remove_dir_all(&stage);
    let bundle = root.join(BUNDLE_DIR);
    let _ = std::fs::remove_dir_all(&bundle);
    std::fs::create_dir_all(&bundle).map_err(|e| format!("{}: {e}", bundle.display()))?;
    write(&bundle.join("run.sh"), include_str!("run.sh"))?;
    let mut over = Vec::new();
    for part in Part::ALL {
        let dir = stage.join(part.name());
        let size = pack(part, &binaries, &dir, &bundle.join(part.payload()))?;
        if size > CARRY_BUDGET {
            over.push(format!("{} is {} MiB", part.payload(), size >> 20));
        }
    }
    if !over.is_empty() {
        return Err(format!(
            "over the {} MiB budget of one call's carry: {}",
            CARRY_BUDGET >> 20,
            over.join(", ")
        ));
    }
    println!("on the GPU machine, from the repository root, one call per payload:");
    for part in Part::ALL {
        println!(
            "    bash {BUNDLE_DIR}/run.sh    (carry {BUNDLE_DIR}/run.sh and {BUNDLE_DIR}/{})",
            part.payload()
        );
    }
    Ok(())
}

/// Stages one part's binaries (stripped), the runner, the manifest and the Vulkan loader in
/// `stage`, and packs them into `payload`; returns the payload's size.
fn pack(
    part: Part,
    binaries: &[(Binary, PathBuf)],
    stage: &Path,
    payload: &Path,
) -> Result<u64, String> {
    std::fs::create_dir_all(stage.join("bin")).map_err(|e| format!("{}: {e}", stage.display()))?;
    let mut manifest = String::new();
    let mut stripped = 0;
    let mut count = 0;
    for (binary, path) in binaries {
        if part.holds(binary.kind) {
            manifest.push_str(&binary.line());
        } else if binary.name != PROBE_BINARY {
            continue;
        }
        stripped += strip(path, &stage.join("bin").join(&binary.name))?;
        count += 1;
    }
    let runner = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
    stripped += strip(&runner, &stage.join("xtask"))?;
    write(&stage.join(part.manifest()), &manifest)?;
    if Path::new(VULKAN_LOADER).exists() {
        std::fs::create_dir_all(stage.join("lib")).map_err(|e| e.to_string())?;
        std::fs::copy(VULKAN_LOADER, stage.join("lib/libvulkan.so.1"))
            .map_err(|e| format!("{VULKAN_LOADER}: {e}"))?;
    }
    println!(
        "packing {}: {count} binaries and the runner ({} MiB stripped)…",
        part.name(),
        stripped >> 20
    );
    let packed = Command::new("tar")
        .args(["-cJf"])
        .arg(payload)
        .arg("-C")
        .arg(stage)
        .arg(".")
        .env("XZ_OPT", "-9 -T0")
        .status()
        .is_ok_and(|s| s.success());
    if !packed {
        return Err("tar -cJf failed (are tar and xz installed?)".into());
    }
    let size = std::fs::metadata(payload).map_or(0, |m| m.len());
    println!(
        "{}: {:.1} MiB (budget {} MiB of one call's 64 MiB carry)",
        payload.display(),
        size as f64 / (1 << 20) as f64,
        CARRY_BUDGET >> 20
    );
    Ok(size)
}

/// Builds the test and benchmark binaries in release; returns them with their paths.
fn build() -> Result<Vec<(Binary, PathBuf)>, String> {
    let mut command = crate::cargo();
    command.args([
        "test",
        "--release",
        "--no-run",
        "--workspace",
        "--lib",
        "--tests",
        "--features",
        FEATURES,
        "--message-format=json-render-diagnostics",
    ]);
    for bench in BENCHES {
        command.args(["--bench", bench]);
    }
    println!("=== gpu-bundle: release build (features {FEATURES}) ===");
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if !output.status.success() {
        return Err("the release build failed".into());
    }
    let root = crate::workspace_root();
    let binaries: Vec<_> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| artifact(line, &root))
        .collect();
    if binaries.is_empty() {
        return Err("cargo reported no test binaries".into());
    }
    Ok(binaries)
}

/// A test or benchmark executable from one line of cargo's JSON messages.
fn artifact(line: &str, root: &Path) -> Option<(Binary, PathBuf)> {
    if !line.contains(r#""reason":"compiler-artifact""#) {
        return None;
    }
    let executable = json_string(line, "executable")?;
    let target = &line[line.find(r#""target":{"#)?..];
    let name = json_string(target, "name")?;
    let src_path = PathBuf::from(json_string(target, "src_path")?);
    let kind = json_string(target, "kind")?;
    let relative = src_path.strip_prefix(root).ok()?;
    // crates/<package>/{src,tests,benches}/…
    let mut parts = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy());
    let (crates, package, folder) = (parts.next()?, parts.next()?, parts.next()?);
    if crates != "crates" {
        return None;
    }
    let (kind, label) = match (kind, folder.as_ref()) {
        ("bench", _) => (Kind::Bench, format!("bench-{name}")),
        (_, "src") => (Kind::Test, "lib".to_owned()),
        _ => (Kind::Test, name.to_owned()),
    };
    let binary = Binary {
        name: format!("{package}-{label}"),
        kind,
        package_dir: format!("crates/{package}"),
    };
    Some((binary, PathBuf::from(executable)))
}

/// The string value of `"key":"…"` (or the first string of `"key":["…"]`) in a JSON line
/// whose strings have no escapes, as cargo's paths and names here have none.
fn json_string<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let start = json.find(&format!(r#""{key}":"#))? + key.len() + 3;
    let rest = json[start..].trim_start_matches('[');
    let rest = rest.strip_prefix('"')?;
    Some(&rest[..rest.find('"')?])
}

/// Copies `from` to `to` without symbols (or as it is where `strip` is missing); the size.
fn strip(from: &Path, to: &Path) -> Result<u64, String> {
    let stripped = Command::new("strip")
        .arg("--strip-all")
        .arg("-o")
        .arg(to)
        .arg(from)
        .status()
        .is_ok_and(|s| s.success());
    if !stripped {
        std::fs::copy(from, to).map_err(|e| format!("{}: {e}", from.display()))?;
    }
    std::fs::metadata(to)
        .map(|m| m.len())
        .map_err(|e| format!("{}: {e}", to.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cargo_artifact_lines() {
        let root = Path::new("/w");
        let line = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/crates/d2l-io#0.1.0","target":{"kind":["test"],"crate_types":["bin"],"name":"it","src_path":"/w/crates/d2l-io/tests/it/main.rs","edition":"2024"},"executable":"/w/target/release/deps/it-1"}"#;
        let (binary, path) = artifact(line, root).expect("a test");
        assert_eq!(binary.name, "d2l-io-it");
        assert_eq!(binary.kind, Kind::Test);
        assert_eq!(binary.package_dir, "crates/d2l-io");
        assert_eq!(path, Path::new("/w/target/release/deps/it-1"));

        let lib = line
            .replace(r#""kind":["test"]"#, r#""kind":["lib"]"#)
            .replace("tests/it/main.rs", "src/lib.rs")
            .replace(r#""name":"it""#, r#""name":"d2l_io""#);
        assert_eq!(
            artifact(&lib, root).expect("unit tests").0.name,
            "d2l-io-lib"
        );

        let bench = line
            .replace(r#""kind":["test"]"#, r#""kind":["bench"]"#)
            .replace("tests/it/main.rs", "benches/io.rs")
            .replace(r#""name":"it""#, r#""name":"io""#);
        let (bench, _) = artifact(&bench, root).expect("a benchmark");
        assert_eq!(
            (bench.name.as_str(), bench.kind),
            ("d2l-io-bench-io", Kind::Bench)
        );

        // A dependency's build script, or a line without an executable, is no binary.
        assert!(artifact(&line.replace("/w/crates/", "/r/crates/"), root).is_none());
        assert!(artifact(r#"{"reason":"compiler-artifact","executable":null}"#, root).is_none());
        assert!(artifact(r#"{"reason":"build-finished","success":true}"#, root).is_none());
    }
}
