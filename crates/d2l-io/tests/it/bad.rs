//! Bad files are typed errors naming the file — never a panic, never a huge allocation.

use std::path::Path;

use burn::tensor::TensorData;
use d2l_io::{IoError, load_tensors, save_tensors};

use crate::scratch;

fn good_file(dir: &Path) -> (std::path::PathBuf, Vec<u8>) {
    let path = dir.join("good.safetensors");
    save_tensors(
        &path,
        [(
            "w",
            TensorData::new((0..64).map(|v| v as f32).collect::<Vec<_>>(), [8, 8]),
        )],
    )
    .expect("save");
    let bytes = std::fs::read(&path).expect("read");
    (path, bytes)
}

#[track_caller]
fn rejects(path: &Path, what: &str) -> String {
    let err = load_tensors(path).expect_err(what);
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string()),
        "{what}: the error names the file: {text}"
    );
    assert!(!matches!(err, IoError::Load { .. }), "{what}: {err:?}");
    text
}

#[test]
fn missing_paths_and_directories_are_io_errors() {
    let dir = scratch("paths");
    assert!(matches!(
        load_tensors(dir.join("nope.safetensors")),
        Err(IoError::Io { .. })
    ));
    assert!(matches!(load_tensors(&dir), Err(IoError::Io { .. })));
    assert!(matches!(
        save_tensors(&dir, [("x", TensorData::new(vec![1.0f32], [1]))]),
        Err(IoError::Io { .. })
    ));
    rejects(&dir.join("nope.pt"), "missing .pt");
}

#[test]
fn truncated_and_corrupted_safetensors_are_format_errors() {
    let dir = scratch("corrupt");
    let (path, bytes) = good_file(&dir);
    assert_eq!(
        load_tensors(&path).expect("the good file loads")["w"]
            .shape
            .to_vec(),
        [8, 8]
    );
    let bad = dir.join("bad.safetensors");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("seven bytes", bytes[..7].to_vec()),
        ("truncated header", bytes[..bytes.len().min(20)].to_vec()),
        ("truncated data", bytes[..bytes.len() - 10].to_vec()),
        ("a header that claims 2^60 bytes", {
            let mut b = bytes.clone();
            b[..8].copy_from_slice(&(1u64 << 60).to_le_bytes());
            b
        }),
        ("a flipped byte in the header", {
            let mut b = bytes.clone();
            b[10] ^= 0xff;
            b
        }),
        ("header json that lies about the offsets", {
            let text = String::from_utf8_lossy(&bytes).replace("[0,256]", "[0,999]");
            text.into_bytes()
        }),
    ];
    for (what, content) in cases {
        std::fs::write(&bad, &content).expect("write");
        rejects(&bad, what);
    }
    // A header length past the end says so, with both sizes.
    let mut b = bytes.clone();
    let len = b.len() as u64;
    b[..8].copy_from_slice(&len.to_le_bytes());
    std::fs::write(&bad, &b).expect("write");
    let text = rejects(&bad, "a header length past the end");
    let after = b.len() - 8;
    assert!(
        text.contains(&format!(
            "says {} bytes, but only {after} bytes follow",
            b.len()
        )),
        "{text}"
    );
    // A flipped byte in the data is not detectable (safetensors has no checksum): it loads,
    // with that one value changed.
    let mut b = bytes.clone();
    let last = b.len() - 1;
    b[last] ^= 0x01;
    std::fs::write(&bad, &b).expect("write");
    assert_eq!(
        load_tensors(&bad).expect("loads")["w"].shape.to_vec(),
        [8, 8]
    );
}

#[test]
fn a_pytorch_file_that_is_not_a_state_dict_is_a_format_error() {
    let dir = scratch("pt");
    for (name, content) in [
        ("garbage.pt", b"this is not a pickle".to_vec()),
        ("zip-but-empty.pt", b"PK\x03\x04not really a zip".to_vec()),
        // A pickle of the integer 7 (protocol 2): `\x80\x02K\x07.`
        ("int.pt", b"\x80\x02K\x07.".to_vec()),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, content).expect("write");
        let text = rejects(&path, name);
        assert!(
            text.contains("PyTorch") || text.contains("tensor"),
            "{name}: {text}"
        );
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_save_over_a_fifo_replaces_it_without_waiting_for_a_writer() {
    // A save never opens a FIFO (opening one waits for the other end: the save would hang):
    // not the one it replaces, nor one named like a temporary file it would reclaim.
    let dir = scratch("fifo");
    let path = dir.join("pipe.safetensors");
    let lookalike = dir.join(".pipe.safetensors.1-1.tmp");
    for fifo in [&path, &lookalike] {
        let made = std::process::Command::new("mkfifo")
            .arg(fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "mkfifo {}", fifo.display());
    }
    save_tensors(&path, [("x", TensorData::new(vec![1.0f32, 2.0], [2]))]).expect("save");
    assert!(std::fs::symlink_metadata(&path).expect("saved").is_file());
    let back = load_tensors(&path).expect("load");
    assert_eq!(back["x"].iter::<f32>().collect::<Vec<_>>(), [1.0, 2.0]);
}
