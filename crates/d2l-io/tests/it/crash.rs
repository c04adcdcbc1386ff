//! Saves are atomic: a process killed (SIGKILL) at any moment while saving leaves the previous
//! checkpoint whole, and what it left beside it is reclaimed by the next save.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use burn::tensor::TensorData;
use d2l_io::{load_tensors, save_tensors};

/// The environment variable that turns [`child_saves_in_a_loop`] into the looping child.
const CHILD: &str = "D2L_IO_CRASH_CHILD";

/// What the child prints once its first save is done.
const SAVED: &str = "d2l-io-crash-child: saved";

/// Version `k` of the checkpoint: 1 Mi floats (4 MB) all equal to `k`.
fn version(k: u32) -> TensorData {
    TensorData::new(vec![k as f32; 1 << 20], [1024, 1024])
}

/// Checks that the file holds one whole version.
fn check_whole(path: &Path) -> f32 {
    let map = load_tensors(path).expect("the last checkpoint always loads");
    let w = &map["w"];
    let first = w.iter::<f32>().next().expect("not empty");
    assert!(w.iter::<f32>().all(|v| v == first), "a mix of two versions");
    assert_eq!(map["step"].iter::<f32>().next(), Some(first));
    first
}

/// In the test run, one save and load; as the crash child, saves versions in a loop until
/// killed.
#[test]
fn child_saves_in_a_loop() {
    match std::env::var_os(CHILD) {
        Some(path) => {
            let path = Path::new(&path);
            for k in 1.. {
                save_tensors(
                    path,
                    [
                        ("w", version(k)),
                        ("step", TensorData::new(vec![k as f32], [1])),
                    ],
                )
                .expect("save");
                if k == 1 {
                    println!("{SAVED}");
                }
            }
        }
        None => {
            let dir = crate::scratch("crash-once");
            let path = dir.join("ckpt.safetensors");
            save_tensors(
                &path,
                [
                    ("w", version(3)),
                    ("step", TensorData::new(vec![3.0f32], [1])),
                ],
            )
            .expect("save");
            assert_eq!(check_whole(&path), 3.0);
        }
    }
}

/// 100 saving processes killed (SIGKILL) mid-save: the checkpoint always loads whole, and each
/// save reclaims what the killed ones left, so at most one temporary file is ever left.
#[cfg(unix)]
#[test]
fn a_hundred_killed_savers_leave_a_whole_checkpoint_and_at_most_one_stray() {
    use std::io::BufRead;
    let dir = crate::scratch("crash");
    let path = dir.join("ckpt.safetensors");
    save_tensors(
        &path,
        [
            ("w", version(0)),
            ("step", TensorData::new(vec![0.0f32], [1])),
        ],
    )
    .expect("first save");
    let exe = std::env::current_exe().expect("test binary");
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(std::process::id());
    let (mut last, mut killed_mid_save) = (0.0, 0);
    for round in 0..100 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::child_saves_in_a_loop",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // Wait until the child's first save is done, then kill it 0–15 ms into the next ones.
        let mut line = String::new();
        let stdout = child.stdout.take().expect("piped");
        let mut lines = std::io::BufReader::new(stdout);
        // (libtest prints the test's name on the same line, before the test's output.)
        while !line.contains(SAVED) {
            line.clear();
            if lines.read_line(&mut line).expect("child output") == 0 {
                panic!("round {round}: the child ended before saving");
            }
        }
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let started = Instant::now();
        std::thread::sleep(Duration::from_micros(seed % 15_000));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        assert!(started.elapsed() < Duration::from_secs(30));
        last = check_whole(&path);
        let left = crate::strays(path.parent().expect("dir"));
        assert!(left.len() <= 1, "round {round}: {left:?}");
        killed_mid_save += left.len();
    }
    // The kills landed mid-save (else this test would prove nothing)…
    assert!(
        killed_mid_save > 0,
        "no kill left a temporary file; last version {last}"
    );
    // …and the next save takes what the last one left.
    save_tensors(
        &path,
        [
            ("w", version(1)),
            ("step", TensorData::new(vec![1.0f32], [1])),
        ],
    )
    .expect("save");
    assert_eq!(
        crate::strays(path.parent().expect("dir")),
        Vec::<String>::new()
    );
    assert_eq!(check_whole(&path), 1.0);
}
