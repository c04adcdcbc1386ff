//! Writing safetensors files, the second half of the one save pipeline: every saver takes a
//! snapshot (a list of [`Entry`]s owning or holding their bytes), then calls [`write`] — here
//! or on a background thread. This thread produces the bytes (transposing Linear weights a
//! band at a time) while a sink thread writes them into the atomic write's temporary file; the
//! file is byte-identical to `safetensors::serialize` of the same tensors.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

use d2l_blocks::tensor;

use super::entry::Entry;
use super::{atomic, dtype};
use crate::IoError;

/// Which cores a write transposes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cores {
    /// Every core (rayon's pool): a save the caller waits for.
    All,
    /// The writing thread only: a background save, which must not take the cores training
    /// runs on (rayon's pool is flex's).
    One,
}

/// Writes `entries` and string `metadata` as a safetensors file at `path`, atomically (see
/// [`write_atomic`](crate::write_atomic) for what is true after each failure).
pub(crate) fn write(
    path: &Path,
    entries: Vec<Entry>,
    metadata: HashMap<String, String>,
    cores: Cores,
) -> Result<(), IoError> {
    let tensor_error = |key: &str, reason: String| IoError::Tensor {
        path: path.to_owned(),
        key: key.to_owned(),
        reason,
    };
    let mut entries = entries
        .into_iter()
        .map(|entry| match dtype::to_safetensors(entry.dtype) {
            Some(dtype) => Ok((dtype, entry)),
            None => Err(tensor_error(
                &entry.key,
                format!("dtype {:?} cannot be stored in safetensors", entry.dtype),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // The order `safetensors::serialize` writes: by descending alignment, then by key.
    entries.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.key.cmp(&y.key)));
    let mut infos = Vec::with_capacity(entries.len());
    let mut offset = 0usize;
    for (dtype, entry) in &entries {
        let len = entry
            .shape
            .iter()
            .try_fold(dtype.bitsize() / 8, |n, &d| n.checked_mul(d))
            .ok_or_else(|| tensor_error(&entry.key, "size overflows".into()))?;
        let held = entry.bytes.as_bytes().len();
        if held != len {
            return Err(tensor_error(
                &entry.key,
                format!("{held} bytes for shape {:?}, expected {len}", entry.shape),
            ));
        }
        let end = offset + len;
        infos.push((
            entry.key.clone(),
            safetensors::tensor::TensorInfo {
                dtype: *dtype,
                shape: entry.shape.clone(),
                data_offsets: (offset, end),
            },
        ));
        offset = end;
    }
    let format_error = |reason: String| IoError::Format {
        path: path.to_owned(),
        format: "safetensors",
        reason,
    };
    let metadata = (!metadata.is_empty()).then_some(metadata);
    let header = safetensors::tensor::Metadata::new(metadata, infos)
        .map_err(|e| format_error(e.to_string()))?;
    let mut header = serde_json::to_vec(&header).map_err(|e| format_error(e.to_string()))?;
    // The data starts 8-byte aligned, as the crate's own writer pads it.
    header.resize(header.len().next_multiple_of(8), b' ');
    let mut head = (header.len() as u64).to_le_bytes().to_vec();
    head.extend_from_slice(&header);
    let entries: Vec<Entry> = entries.into_iter().map(|(_, entry)| entry).collect();
    atomic::write_atomic_with(path, |file, _| stream(file, head, &entries, cores))
}

/// Bytes on their way to the sink: borrowed from the snapshot, or a band of a transposed
/// tensor (whose buffer comes back to be reused).
enum Piece<'a> {
    Borrowed(&'a [u8]),
    Band(Vec<u8>),
}

/// The bytes of a band of a transposed tensor: about 4 MB, transposed 1 MB apiece by the
/// cores of [`Cores`] (at least whole rows of the stored matrix).
const BAND: usize = 4 << 20;
/// The bytes one core transposes at a time.
const PART: usize = 1 << 20;
/// Bands in use at most: being filled, queued, being written.
const BANDS: usize = 4;

/// Writes `head` and then the bytes of `entries` to `file`, in order, and waits until they are
/// on the device. The sink's own error (a full disk, an I/O error) is the one returned.
fn stream(file: &File, head: Vec<u8>, entries: &[Entry], cores: Cores) -> std::io::Result<()> {
    std::thread::scope(|scope| {
        let (send, pieces) = sync_channel::<Piece<'_>>(2);
        let (give_back, spares) = channel::<Vec<u8>>();
        let sink = scope.spawn(move || sink(file, &head, pieces, give_back));
        // Stops early only when the sink has (its error is then the one to report).
        produce(entries, &send, &spares, cores);
        drop(send);
        sink.join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the writing thread panicked")))
    })
}

/// Hands the bytes of `entries` to the sink; a tensor written transposed is transposed here, a
/// band at a time, into buffers that come back once written. Returns when done or when the
/// sink has stopped.
fn produce<'a>(
    entries: &'a [Entry],
    send: &SyncSender<Piece<'a>>,
    spares: &Receiver<Vec<u8>>,
    cores: Cores,
) {
    let mut made = 0;
    for entry in entries {
        let src = entry.bytes.as_bytes();
        let (true, &[cols, rows]) = (entry.transposed, entry.shape.as_slice()) else {
            if send.send(Piece::Borrowed(src)).is_err() {
                return;
            }
            continue;
        };
        // `src` is the row-major `rows × cols` transpose of the file's `[cols, rows]`.
        let size = entry.dtype.size();
        let row = rows * size;
        if row == 0 || cols == 0 {
            continue;
        }
        let step = (BAND / row).clamp(1, cols);
        for start in (0..cols).step_by(step) {
            let mut band = if made < BANDS {
                made += 1;
                Vec::new()
            } else {
                match spares.recv() {
                    Ok(band) => band,
                    Err(_) => return,
                }
            };
            let end = (start + step).min(cols);
            band.resize((end - start) * row, 0);
            let part = (PART / row).max(1);
            let transpose = |(k, out): (usize, &mut [u8])| {
                let first = start + k * part;
                let last = (first + part).min(end);
                tensor::transpose_columns(src, rows, cols, size, first..last, out);
            };
            match cores {
                Cores::All => {
                    use rayon::prelude::*;
                    band.par_chunks_mut(part * row)
                        .enumerate()
                        .for_each(transpose);
                }
                Cores::One => band.chunks_mut(part * row).enumerate().for_each(transpose),
            }
            if send.send(Piece::Band(band)).is_err() {
                return;
            }
        }
    }
}

/// The writing thread: writes `head` and every piece to `file` as it comes, with a thread that
/// writes back what is written as it goes (so the final fsync has little left to do).
fn sink(
    file: &File,
    head: &[u8],
    pieces: Receiver<Piece<'_>>,
    give_back: std::sync::mpsc::Sender<Vec<u8>>,
) -> std::io::Result<()> {
    std::thread::scope(|scope| {
        let (written, wakes) = channel::<()>();
        let syncer = scope.spawn(move || {
            while wakes.recv().is_ok() {
                while wakes.try_recv().is_ok() {}
                file.sync_data()?;
            }
            Ok(())
        });
        let mut out = file;
        let mut result = out.write_all(head);

        for piece in pieces {
            if result.is_err() {
                // Dropping the receiver stops the producer.
                break;
            }
            match piece {
                Piece::Borrowed(bytes) => result = out.write_all(bytes),
                Piece::Band(band) => {
                    result = out.write_all(&band);
                    let _ = give_back.send(band);
                }
            }
            let _ = written.send(());
        }
        drop(written);
        let synced = syncer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the sync thread panicked")));
        // The first failure: a write's, else the write-back's.
        result.and(synced)
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use burn::tensor::TensorData;

    use super::super::entry::{Entry, HostBytes};
    use super::Cores;

    /// What the `safetensors` crate itself writes for `tensors`.
    fn reference(tensors: &[(String, TensorData)]) -> Vec<u8> {
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
            .iter()
            .map(|(key, data)| {
                let dtype = super::dtype::to_safetensors(data.dtype).expect("storable");
                let view = safetensors::tensor::TensorView::new(
                    dtype,
                    data.shape.to_vec(),
                    data.as_bytes(),
                )
                .expect("view");
                (key.clone(), view)
            })
            .collect();
        safetensors::serialize(views, None::<HashMap<String, String>>).expect("serialize")
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("d2l-io-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        dir
    }

    #[test]
    fn files_of_every_size_are_byte_identical_to_the_safetensors_crate() {
        let dir = scratch("sizes");
        let path = dir.join("t.safetensors");
        const MB: usize = 1 << 20;
        for sizes in [
            vec![],
            vec![0, 3],
            vec![3, 5 * MB],
            vec![8 * MB + 13],
            vec![7, 9 * MB + 1, 4096, 3 * MB + 5],
        ] {
            let tensors: Vec<(String, TensorData)> = sizes
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let bytes: Vec<u8> = (0..n).map(|k| (k * 31 + i) as u8).collect();
                    (format!("t{i}"), TensorData::new(bytes, [n]))
                })
                .collect();
            let entries = tensors
                .iter()
                .map(|(k, d)| Entry::data(k.clone(), d.clone()))
                .collect();
            super::write(&path, entries, HashMap::new(), Cores::All).expect("write");
            let written = std::fs::read(&path).expect("read");
            assert!(written == reference(&tensors), "{sizes:?}: bytes differ");
        }
        std::fs::remove_dir_all(&dir).expect("clean");
    }

    #[test]
    fn transposed_entries_are_written_in_the_files_orientation_on_either_cores() {
        let dir = scratch("transposed");
        let path = dir.join("t.safetensors");
        // Stored [in, out] = 3 × 700_000 f32 (8.4 MB: several bands), written [out, in].
        let (rows, cols) = (3usize, 700_000usize);
        let stored: Vec<f32> = (0..rows * cols).map(|k| k as f32).collect();
        let mut file_order = vec![0f32; rows * cols];
        for i in 0..rows {
            for j in 0..cols {
                file_order[j * rows + i] = stored[i * cols + j];
            }
        }
        let expected = reference(&[(
            "w".into(),
            TensorData::new(file_order.clone(), [cols, rows]),
        )]);
        for cores in [Cores::All, Cores::One] {
            let entry = Entry {
                key: "w".into(),
                dtype: burn::tensor::DType::F32,
                shape: vec![cols, rows],
                bytes: HostBytes::Data(TensorData::new(stored.clone(), [rows, cols])),
                transposed: true,
            };
            super::write(&path, vec![entry], HashMap::new(), cores).expect("write");
            assert!(std::fs::read(&path).expect("read") == expected, "{cores:?}");
        }
        std::fs::remove_dir_all(&dir).expect("clean");
    }

    #[test]
    fn bytes_that_do_not_fit_the_shape_are_refused_before_the_file_is_touched() {
        let dir = scratch("short");
        let path = dir.join("t.safetensors");
        std::fs::write(&path, b"previous").expect("write");
        let entry = Entry {
            key: "w".into(),
            dtype: burn::tensor::DType::F32,
            shape: vec![2, 2],
            bytes: HostBytes::Data(TensorData::new(vec![1f32; 3], [3])),
            transposed: false,
        };
        let err = super::write(&path, vec![entry], HashMap::new(), Cores::All)
            .expect_err("3 floats are not a 2 × 2 tensor");
        assert!(
            err.to_string()
                .contains("tensor `w`: 12 bytes for shape [2, 2], expected 16"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).expect("read"), b"previous");
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
