//! Where the CUDA toolkit's libraries are: cubecl opens NVRTC (the run-time compiler of its
//! kernels) by name, so the runner puts the toolkit's library folder on `LD_LIBRARY_PATH`.
//!
//! The folder is `targets/x86_64-linux/lib` (or `lib64`) of a toolkit install — never
//! `lib/stubs`, whose link-time stand-ins fail at run time.

use std::path::{Path, PathBuf};

/// The library folder of the first toolkit found: `$CUDA_HOME`, `$CUDA_PATH`, `/usr/local/cuda`,
/// then `/usr/local/cuda-*` newest first.
pub(super) fn find() -> Option<PathBuf> {
    let mut roots: Vec<PathBuf> = ["CUDA_HOME", "CUDA_PATH"]
        .into_iter()
        .filter_map(std::env::var_os)
        .map(PathBuf::from)
        .collect();
    roots.push("/usr/local/cuda".into());
    roots.extend(versioned(Path::new("/usr/local")));
    roots.iter().find_map(|root| lib_dir(root))
}

/// `prefix/cuda-<version>` folders, newest version first.
fn versioned(prefix: &Path) -> Vec<PathBuf> {
    let mut found: Vec<(Vec<u32>, PathBuf)> = std::fs::read_dir(prefix)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix("cuda-")?;
            let numbers = version
                .split('.')
                .map(|n| n.parse().ok())
                .collect::<Option<_>>()?;
            Some((numbers, entry.path()))
        })
        .collect();
    found.sort();
    found.into_iter().rev().map(|(_, path)| path).collect()
}

/// The folder of `root` holding `libnvrtc.so*`, if any (stubs excluded).
fn lib_dir(root: &Path) -> Option<PathBuf> {
    ["targets/x86_64-linux/lib", "lib64", "lib"]
        .into_iter()
        .map(|sub| root.join(sub))
        .find(|dir| !dir.ends_with("stubs") && has_nvrtc(dir))
}

fn has_nvrtc(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with("libnvrtc.so")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, b"").expect("file");
    }

    #[test]
    fn finds_the_toolkit_libraries_not_the_stubs() {
        let prefix = std::env::temp_dir().join(format!("d2l-cuda-libs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&prefix);
        // Only stubs: no library folder.
        touch(&prefix.join("cuda-12.4/lib64/stubs/libnvrtc.so"));
        touch(&prefix.join("cuda-12.4/lib64/stubs/libcuda.so"));
        assert_eq!(lib_dir(&prefix.join("cuda-12.4")), None);
        // A real toolkit layout.
        touch(&prefix.join("cuda-13.0/targets/x86_64-linux/lib/libnvrtc.so.13"));
        touch(&prefix.join("cuda-9.2/lib64/libnvrtc.so.9.2"));
        touch(&prefix.join("cuda-other/lib64/libnvrtc.so"));
        let roots = versioned(&prefix);
        assert_eq!(
            roots,
            ["cuda-13.0", "cuda-12.4", "cuda-9.2"].map(|v| prefix.join(v))
        );
        let found: Vec<_> = roots.iter().filter_map(|r| lib_dir(r)).collect();
        assert_eq!(
            found,
            [
                prefix.join("cuda-13.0/targets/x86_64-linux/lib"),
                prefix.join("cuda-9.2/lib64")
            ]
        );
        let _ = std::fs::remove_dir_all(&prefix);
    }
}
