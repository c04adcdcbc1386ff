//! Saves are atomic: a process killed (SIGKILL) at any moment while saving leaves the previous
//! checkpoint whole.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use burn::tensor::TensorData;
use d2l_io::{load_tensors, save_tensors};

/// The environment variable that turns [`child_saves_in_a_loop`] into the looping child.
const CHILD: &str = "D2L_IO_CRASH_CHILD";

/// Version `k` of the checkpoint: 256 Ki floats all equal to `k`.
fn version(k: u32) -> TensorData {
    TensorData::new(vec![k as f32; 1 << 18], [512, 512])
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

#[cfg(unix)]
#[test]
fn a_killed_saver_never_leaves_a_broken_checkpoint() {
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
    let mut last = 0.0;
    for _ in 0..12 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::child_saves_in_a_loop",
                "--test-threads=1",
            ])
            .env(CHILD, &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        // A pseudo-random moment, 20–120 ms in: mid-write, mid-fsync or mid-rename.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let started = Instant::now();
        std::thread::sleep(Duration::from_millis(20 + seed % 100));
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        assert!(started.elapsed() < Duration::from_secs(30));
        last = check_whole(&path);
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        leftovers.iter().any(|n| n == "ckpt.safetensors"),
        "{leftovers:?}; last version {last}"
    );
}

#[test]
fn background_checkpoints_keep_order_snapshot_early_and_report_errors() {
    use burn::backend::NdArray;
    use burn::nn::{Initializer, LinearConfig};
    use d2l_blocks::Sequential;
    use d2l_io::Checkpointer;
    use d2l_params::{Parameters, init_params};
    let dir = crate::scratch("background");
    let path = dir.join("ckpt.safetensors");
    let device = Default::default();
    let mut net = Sequential::<NdArray>::new().add(
        LinearConfig::new(256, 256)
            .with_initializer(Initializer::Zeros)
            .init(&device),
    );
    let mut checkpoints = Checkpointer::new().expect("writer");
    for k in 1..=5 {
        init_params(&mut net, |_| Some(d2l_params::Init::Constant(f64::from(k)))).expect("init");
        checkpoints.save(&path, &net).expect("queued");
    }
    // Changed after the last save returned: not in the checkpoint (it was copied at save time).
    init_params(&mut net, |_| Some(d2l_params::Init::Constant(99.0))).expect("init");
    checkpoints.flush().expect("all written");
    let file = load_tensors(&path).expect("load");
    assert!(
        file["0.weight"].iter::<f32>().all(|v| v == 5.0),
        "the last save wins, as saved"
    );
    assert_eq!(
        net.param("0.bias")
            .expect("bias")
            .data()
            .iter::<f32>()
            .next(),
        Some(99.0)
    );
    // A write that fails (no such directory) reaches the caller.
    checkpoints
        .save(dir.join("missing/dir/ckpt.safetensors"), &net)
        .expect("queued");
    let err = checkpoints
        .flush()
        .expect_err("the directory does not exist");
    assert!(
        err.to_string().contains("missing/dir/ckpt.safetensors"),
        "{err}"
    );
    assert!(checkpoints.flush().is_ok(), "an error is reported once");
}
