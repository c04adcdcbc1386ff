//! Isolates the I/O strategy of a 420 MB save (no tensors, std only): writes through the page
//! cache (with and without a thread that `fdatasync`s as it goes) and with `O_DIRECT` (Linux),
//! each with fsync and rename, then reads the file back into fresh memory; prints each round.
//!
//! Run: `rustc -O bench/direct_vs_cache.rs -o /tmp/dvc && /tmp/dvc [dir]` (default: the current
//! directory; use a directory on the disk checkpoints go to, not a tmpfs).
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::time::Instant;
const N: usize = 420 << 20;
fn cached(path: &str, data: &[u8], syncer: bool) {
    let tmp = format!("{path}.tmp");
    let mut f = File::create(&tmp).unwrap();
    if syncer {
        let s = f.try_clone().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let h = std::thread::spawn(move || { while rx.recv().is_ok() { while rx.try_recv().is_ok() {} s.sync_data().unwrap(); } });
        for c in data.chunks(8 << 20) { f.write_all(c).unwrap(); let _ = tx.send(()); }
        drop(tx); h.join().unwrap();
    } else {
        for c in data.chunks(8 << 20) { f.write_all(c).unwrap(); }
    }
    f.sync_all().unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
fn direct(path: &str, data: &[u8]) {
    let tmp = format!("{path}.tmp");
    File::create(&tmp).unwrap();
    let f = OpenOptions::new().write(true).custom_flags(0o40000).open(&tmp).unwrap();
    let mut buf = vec![0u8; (8 << 20) + 4096];
    let off = buf.as_ptr().align_offset(4096);
    let mut at = 0u64;
    for c in data.chunks(8 << 20) {
        let b = &mut buf[off..off + (8 << 20)];
        b[..c.len()].copy_from_slice(c);
        let n = c.len().next_multiple_of(4096);
        f.write_all_at(&b[..n], at).unwrap();
        at += c.len() as u64;
    }
    f.set_len(data.len() as u64).unwrap();
    f.sync_all().unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
fn load(path: &str) -> usize {
    let f = File::open(path).unwrap();
    let mut v = vec![0u8; N];
    for (i, c) in v.chunks_mut(1 << 20).enumerate() { f.read_exact_at(c, (i << 20) as u64).unwrap(); }
    v[12345] as usize
}
fn main() {
    let data: Vec<u8> = (0..N).map(|i| (i * 7) as u8).collect();
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let path = &format!("{dir}/dvc-big.bin");
    for round in 0..6 {
        for mode in ["cached", "cached+syncer", "direct"] {
            let t = Instant::now();
            match mode { "direct" => direct(path, &data), "cached" => cached(path, &data, false), _ => cached(path, &data, true) }
            let s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            load(path);
            let l = t.elapsed().as_secs_f64();
            println!("{round} {mode:14} save {:.0} ms ({:.2} GB/s) load {:.0} ms ({:.2} GB/s) round trip {:.0} ms", s*1e3, N as f64/s/1e9, l*1e3, N as f64/l/1e9, (s+l)*1e3);
        }
    }
    std::fs::remove_file(path).unwrap();
}
