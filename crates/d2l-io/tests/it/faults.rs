//! Faults as users' machines produce them: a full disk, a file-size limit, a read-only
//! directory, a path that is a directory. Each save fails with a typed error naming the path
//! and the operating system's cause; the previous file stays whole and no temporary file is
//! left. The disk faults run in a child process of this test binary: under `ulimit -f`, and
//! (as root, where mounts are allowed) on a small or read-only tmpfs in a private mount
//! namespace (`unshare -m`), so nothing outside the test sees the mount.

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::tensor::TensorData;
use d2l_io::{IoError, load_tensors, save_tensors};

/// The environment variables that turn [`fault_child`] into a child: the scenario, the dir.
const SCENARIO: &str = "D2L_IO_FAULT";
const DIR: &str = "D2L_IO_FAULT_DIR";

fn small() -> [(&'static str, TensorData); 1] {
    [("w", TensorData::new(vec![7.0f32; 256], [16, 16]))]
}

/// 16 MB: more than the limits the faults set.
fn large() -> [(&'static str, TensorData); 1] {
    [("w", TensorData::new(vec![1.0f32; 4 << 20], [4096, 1024]))]
}

/// Saves `large()` over the previous `small()` file, which must fail with an `IoError::Io`
/// naming the file; prints the OS error code and checks the previous file and the directory.
fn failing_save_keeps_the_previous_file(dir: &Path) -> i32 {
    let path = dir.join("ckpt.safetensors");
    let err = save_tensors(&path, large()).expect_err("the save must fail");
    let IoError::Io {
        path: named,
        source,
    } = &err
    else {
        panic!("not an I/O error: {err:?}");
    };
    assert_eq!(named, &path, "{err}");
    let previous = load_tensors(&path).expect("the previous file loads");
    assert_eq!(previous["w"], small()[0].1, "the previous file is whole");
    assert_eq!(
        crate::strays(dir),
        Vec::<String>::new(),
        "no temporary file left"
    );
    println!("fault error: {err}");
    source.raw_os_error().unwrap_or(-1)
}

/// As a child ([`SCENARIO`] set): one fault scenario, its OS error code printed as
/// `fault errno N`. In the test run: the path-is-a-directory fault, in process.
#[test]
fn fault_child() {
    let Some(scenario) = std::env::var_os(SCENARIO) else {
        let dir = crate::scratch("fault-dir");
        let path = dir.join("a-directory");
        std::fs::create_dir(&path).expect("mkdir");
        let err = save_tensors(&path, small()).expect_err("a directory is not replaced");
        assert!(
            matches!(&err, IoError::Io { path: p, .. } if *p == path),
            "{err:?}"
        );
        assert!(path.is_dir());
        assert_eq!(crate::strays(&dir), Vec::<String>::new());
        return;
    };
    let dir = PathBuf::from(std::env::var_os(DIR).expect("dir"));
    match scenario.to_str() {
        Some("prepare") => save_tensors(dir.join("ckpt.safetensors"), small()).expect("save"),
        Some("fail") => println!("fault errno {}", failing_save_keeps_the_previous_file(&dir)),
        other => panic!("unknown scenario {other:?}"),
    }
}

/// Runs `script` under `sh -c` with `$CHILD` set to this test binary's fault child, and
/// returns the errno it printed.
fn run_child(script: &str, dir: &Path) -> i32 {
    let exe = std::env::current_exe().expect("test binary");
    let child = format!(
        "'{}' --exact faults::fault_child --nocapture --test-threads=1",
        exe.display()
    );
    let output = Command::new("sh")
        .arg("-c")
        .arg(script.replace("$CHILD", &child))
        .env(DIR, dir)
        .output()
        .expect("sh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{script}: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("fault errno "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no errno in:\n{stdout}"))
}

/// Whether this process may mount a tmpfs in a private mount namespace (root, and a
/// container that allows it).
fn can_mount() -> bool {
    let dir = crate::scratch("mount-probe");
    Command::new("unshare")
        .arg("-m")
        .arg("sh")
        .arg("-c")
        .arg(format!(
            "mount -t tmpfs -o size=1m tmpfs '{}'",
            dir.display()
        ))
        .output()
        .is_ok_and(|o| o.status.success())
}

const EFBIG: i32 = 27;
const ENOSPC: i32 = 28;
const EROFS: i32 = 30;
const EACCES: i32 = 13;

#[cfg(target_os = "linux")]
#[test]
fn a_file_size_limit_is_reported_as_such() {
    let dir = crate::scratch("fault-fsize");
    // SIGXFSZ ignored (inherited through exec): the write returns EFBIG instead of killing.
    let script = "D2L_IO_FAULT=prepare $CHILD && trap '' XFSZ && ulimit -f 4096 && \
                  D2L_IO_FAULT=fail exec $CHILD";
    assert_eq!(run_child(script, &dir), EFBIG);
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_is_reported_as_enospc() {
    if !can_mount() {
        eprintln!("no tmpfs mounts here (not root?): the file-size limit test covers the fault");
        return;
    }
    let dir = crate::scratch("fault-full");
    let script = "unshare -m sh -c \"mount -t tmpfs -o size=4m tmpfs \\\"\\$D2L_IO_FAULT_DIR\\\" && \
                  D2L_IO_FAULT=prepare $CHILD && D2L_IO_FAULT=fail $CHILD\"";
    assert_eq!(run_child(script, &dir), ENOSPC);
}

#[cfg(target_os = "linux")]
#[test]
fn a_read_only_directory_is_reported_and_left_alone() {
    let dir = crate::scratch("fault-readonly");
    if can_mount() {
        let script = "unshare -m sh -c \"mount -t tmpfs -o size=8m tmpfs \\\"\\$D2L_IO_FAULT_DIR\\\" && \
                      D2L_IO_FAULT=prepare $CHILD && \
                      mount -o remount,ro \\\"\\$D2L_IO_FAULT_DIR\\\" && D2L_IO_FAULT=fail $CHILD\"";
        assert_eq!(run_child(script, &dir), EROFS);
        return;
    }
    // Not root: the directory's permissions refuse (root would ignore them).
    use std::os::unix::fs::PermissionsExt;
    save_tensors(dir.join("ckpt.safetensors"), small()).expect("prepare");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).expect("chmod");
    let errno = failing_save_keeps_the_previous_file(&dir);
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    assert_eq!(errno, EACCES);
}
