//! Files: atomic writes, and reading safetensors and PyTorch files through burn-store.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use burn::tensor::{DType, TensorData};
use burn_store::{ModuleStore, PytorchStore, TensorSnapshot};

use d2l_blocks::tensor;

use crate::IoError;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> IoError + '_ {
    move |source| IoError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `bytes` to `path` so that `path` holds either its old content or all of `bytes`,
/// whatever happens: a temporary file in the same directory, fsync, rename over `path`, fsync
/// of the directory.
///
/// # Errors
/// [`IoError::Io`] naming `path`; the temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    write_atomic_with(path, |file| file.write_all(bytes))
}

/// [`write_atomic`] with the content written by `fill` into the temporary file.
pub(crate) fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> Result<(), IoError> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().ok_or_else(|| IoError::Io {
        path: path.to_owned(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"),
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(
        ".{}.{}-{unique}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = File::create(&tmp)?;
        fill(&mut file)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(source) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(IoError::Io {
            path: path.to_owned(),
            source,
        });
    }
    // Make the rename itself durable.
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io(&dir))
}

/// Whether `path` is a PyTorch file (`torch.save`: a zip archive, or a legacy pickle) rather
/// than safetensors: by extension, else by content.
fn is_pytorch(path: &Path) -> Result<bool, IoError> {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "safetensors" => return Ok(false),
        "pt" | "pth" | "bin" | "ckpt" => return Ok(true),
        _ => {}
    }
    let mut head = [0u8; 9];
    let mut file = File::open(path).map_err(io(path))?;
    let mut read = 0;
    while read < head.len() {
        match std::io::Read::read(&mut file, &mut head[read..]).map_err(io(path))? {
            0 => break,
            n => read += n,
        }
    }
    // safetensors: an 8-byte header length, then the JSON header's `{`.
    let safetensors = read == 9 && head[8] == b'{';
    // A zip archive starts with `PK`; a pickle of protocol 2 or later with `\x80`.
    Ok(!safetensors && read >= 2 && (head.starts_with(b"PK") || head[0] == 0x80))
}

/// The largest header the `safetensors` crate accepts (100 MB).
const MAX_HEADER: u64 = 100_000_000;

/// A tensor's place in a safetensors file.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    /// Its dtype.
    pub dtype: DType,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Its bytes' offsets from the start of the data.
    offsets: (u64, u64),
}

/// A safetensors file opened for reading tensor by tensor: the header is parsed and checked by
/// the `safetensors` crate (offsets contiguous, sizes matching shapes and dtypes), and against
/// the file's length, before anything is allocated from it; each tensor's bytes are read only
/// when asked for, straight into the buffer that keeps them.
pub(crate) struct SafetensorsFile {
    path: PathBuf,
    file: File,
    data_start: u64,
    /// Serializes seeking reads where there are no positioned ones.
    #[cfg(not(unix))]
    seek: std::sync::Mutex<()>,
    /// The tensors by key.
    pub tensors: BTreeMap<String, Stored>,
    /// The header's string metadata (`__metadata__`).
    pub metadata: HashMap<String, String>,
}

impl SafetensorsFile {
    /// Opens `path` and checks its header.
    pub(crate) fn open(path: &Path) -> Result<Self, IoError> {
        let format_error = |reason: String| IoError::Format {
            path: path.to_owned(),
            format: "safetensors",
            reason,
        };
        let len = not_a_directory(path)?.len();
        if len < 8 {
            return Err(format_error(format!("{len} bytes: too short for a header")));
        }
        let mut file = File::open(path).map_err(io(path))?;
        let mut prefix = [0u8; 8];
        std::io::Read::read_exact(&mut file, &mut prefix).map_err(io(path))?;
        let header_len = u64::from_le_bytes(prefix);
        if header_len > MAX_HEADER || header_len > len - 8 {
            return Err(format_error(format!(
                "the header claims {header_len} bytes; the file has {len}"
            )));
        }
        let mut header = vec![0u8; header_len as usize];
        std::io::Read::read_exact(&mut file, &mut header).map_err(io(path))?;
        let metadata: safetensors::tensor::Metadata =
            serde_json::from_slice(&header).map_err(|e| format_error(e.to_string()))?;
        let data_start = 8 + header_len;
        let data_len = metadata.data_len() as u64;
        if data_start.checked_add(data_len) != Some(len) {
            return Err(format_error(format!(
                "the header describes {data_len} bytes of data; the file has {}",
                len - data_start
            )));
        }
        let strings = metadata.metadata().clone().unwrap_or_default();
        let tensors = metadata
            .tensors()
            .into_iter()
            .map(|(key, info)| {
                let dtype = burn_dtype(info.dtype).ok_or_else(|| IoError::Tensor {
                    path: path.to_owned(),
                    key: key.clone(),
                    reason: format!("dtype {:?} is not supported", info.dtype),
                })?;
                let (start, end) = info.data_offsets;
                let stored = Stored {
                    dtype,
                    shape: info.shape.clone(),
                    offsets: (start as u64, end as u64),
                };
                Ok((key, stored))
            })
            .collect::<Result<_, IoError>>()?;
        Ok(SafetensorsFile {
            path: path.to_owned(),
            file,
            data_start,
            #[cfg(not(unix))]
            seek: std::sync::Mutex::new(()),
            tensors,
            metadata: strings,
        })
    }

    /// Reads the bytes of `stored` (one of [`tensors`](Self::tensors)) into `buf`, which holds
    /// exactly as many.
    pub(crate) fn read_into(&self, stored: &Stored, buf: &mut [u8]) -> Result<(), IoError> {
        let at = self.data_start + stored.offsets.0;
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, at);
        #[cfg(not(unix))]
        let read = {
            // One reader at a time where positioned reads are not available.
            use std::io::{Read, Seek, SeekFrom};
            let _one = self.seek.lock();
            let mut file = &self.file;
            file.seek(SeekFrom::Start(at))
                .and_then(|_| file.read_exact(buf))
        };
        read.map_err(io(&self.path))
    }

    /// The number of bytes of `stored`.
    pub(crate) fn len(stored: &Stored) -> usize {
        (stored.offsets.1 - stored.offsets.0) as usize
    }

    /// Every tensor, by key, as host data.
    pub(crate) fn read_all(&self) -> Result<BTreeMap<String, TensorData>, IoError> {
        self.tensors
            .iter()
            .map(|(key, stored)| Ok((key.clone(), self.data(stored)?)))
            .collect()
    }

    /// The tensor `stored` as host data, in a buffer aligned for its elements (so a backend
    /// can take it without copying).
    pub(crate) fn data(&self, stored: &Stored) -> Result<TensorData, IoError> {
        let mut bytes = tensor::zeroed_bytes(Self::len(stored), stored.dtype);
        self.read_into(stored, &mut bytes)?;
        Ok(TensorData::from_bytes(
            bytes,
            stored.shape.clone(),
            stored.dtype,
        ))
    }
}

/// The file system's metadata of `path`, an error for a directory.
fn not_a_directory(path: &Path) -> Result<std::fs::Metadata, IoError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if meta.is_dir() {
        return Err(IoError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        });
    }
    Ok(meta)
}

/// Whether `path` holds a PyTorch file rather than safetensors (see [`is_pytorch`]); an
/// error for a directory or an unreadable path.
pub(crate) fn is_pytorch_file(path: &Path) -> Result<bool, IoError> {
    not_a_directory(path)?;
    is_pytorch(path)
}

/// Every tensor of a safetensors or PyTorch (`torch.save` of a dict of tensors) file, by key.
///
/// Sizes come from the file system and are checked against the header before anything is
/// allocated from it; every failure is an [`IoError`] naming the file.
pub(crate) fn read(path: &Path) -> Result<BTreeMap<String, TensorData>, IoError> {
    if !is_pytorch_file(path)? {
        return SafetensorsFile::open(path)?.read_all();
    }
    let format = "PyTorch";
    // The reader returns errors for the bad files we know of; a panic on one we do not know
    // is still turned into an error here rather than reaching the caller.
    let snapshots = std::panic::catch_unwind(|| {
        // Keys as written: burn-store would renumber `2.weight` to `1.weight` otherwise.
        let mut store = PytorchStore::from_file(path).map_indices_contiguous(false);
        store
            .get_all_snapshots()
            .map(Clone::clone)
            .map_err(|e| e.to_string())
    })
    .unwrap_or_else(|_| Err("the reader failed on this input".to_owned()));
    let format_error = |reason: String| IoError::Format {
        path: path.to_owned(),
        format,
        reason,
    };
    let snapshots = snapshots.map_err(format_error)?;
    snapshots
        .into_iter()
        .map(|(key, snapshot)| {
            let data = data_of(&snapshot).map_err(|reason| IoError::Tensor {
                path: path.to_owned(),
                key: key.clone(),
                reason,
            })?;
            Ok((key, data))
        })
        .collect()
}

/// A snapshot's data, checked against its declared shape and dtype.
fn data_of(snapshot: &TensorSnapshot) -> Result<TensorData, String> {
    let data = snapshot.to_data().map_err(|e| e.to_string())?;
    let expected = data
        .shape
        .num_elements()
        .checked_mul(data.dtype.size())
        .ok_or("size overflows")?;
    if data.as_bytes().len() != expected {
        return Err(format!(
            "{} bytes for shape {:?} of {:?}",
            data.as_bytes().len(),
            data.shape.to_vec(),
            data.dtype
        ));
    }
    Ok(data)
}

/// The Burn dtype of a safetensors dtype, if Burn has one.
fn burn_dtype(dtype: safetensors::Dtype) -> Option<DType> {
    use safetensors::Dtype as S;
    Some(match dtype {
        S::F64 => DType::F64,
        S::F32 => DType::F32,
        S::F16 => DType::F16,
        S::BF16 => DType::BF16,
        S::I64 => DType::I64,
        S::I32 => DType::I32,
        S::I16 => DType::I16,
        S::I8 => DType::I8,
        S::U64 => DType::U64,
        S::U32 => DType::U32,
        S::U16 => DType::U16,
        S::U8 => DType::U8,
        S::BOOL => DType::Bool(burn::tensor::BoolStore::Native),
        _ => return None,
    })
}

/// The safetensors dtype of a Burn dtype, if safetensors has one.
fn safetensors_dtype(dtype: DType) -> Option<safetensors::Dtype> {
    use safetensors::Dtype as S;
    Some(match dtype {
        DType::F64 => S::F64,
        DType::F32 | DType::Flex32 => S::F32,
        DType::F16 => S::F16,
        DType::BF16 => S::BF16,
        DType::I64 => S::I64,
        DType::I32 => S::I32,
        DType::I16 => S::I16,
        DType::I8 => S::I8,
        DType::U64 => S::U64,
        DType::U32 => S::U32,
        DType::U16 => S::U16,
        DType::U8 => S::U8,
        DType::Bool(burn::tensor::BoolStore::Native) => S::BOOL,
        DType::Bool(_) | DType::QFloat(_) => return None,
    })
}

/// One tensor of a file being written: key, dtype and shape up front (for the header), its
/// bytes when the writer reaches it.
pub(crate) struct Pending<'a> {
    /// The key in the file.
    pub key: String,
    /// The dtype of the bytes `bytes` returns.
    pub dtype: DType,
    /// The shape in the file.
    pub shape: Vec<usize>,
    /// Produces the bytes (a snapshot of a parameter, or data already on the host).
    pub bytes: Box<dyn FnOnce() -> Chunk<'a> + Send + 'a>,
}

/// The bytes of one tensor on their way to the file.
pub(crate) enum Chunk<'a> {
    /// Bytes the caller holds.
    Borrowed(&'a [u8]),
    /// Bytes made for the write (a snapshot, a conversion).
    Owned(TensorData),
    /// A rank-2 snapshot to be written transposed (a Linear weight in Burn's orientation).
    Transpose(std::borrow::Cow<'a, TensorData>),
    /// A buffer of the writer's own (what a `Transpose` becomes).
    Buffer(Vec<u8>),
}

impl Chunk<'_> {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Chunk::Borrowed(bytes) => bytes,
            Chunk::Owned(data) => data.as_bytes(),
            Chunk::Transpose(data) => data.as_bytes(),
            Chunk::Buffer(bytes) => bytes,
        }
    }
}

impl<'a> Pending<'a> {
    /// Host data already in memory; booleans stored as u8/u32 are rewritten as safetensors'
    /// native booleans when written.
    pub(crate) fn borrowed(key: &str, data: &'a TensorData) -> Self {
        let bytes: Box<dyn FnOnce() -> Chunk<'a> + Send + 'a> = match data.dtype {
            DType::Bool(store) if store != burn::tensor::BoolStore::Native => Box::new(move || {
                Chunk::Owned(TensorData::new(
                    data.iter::<bool>().collect::<Vec<bool>>(),
                    data.shape.clone(),
                ))
            }),
            _ => Box::new(move || Chunk::Borrowed(data.as_bytes())),
        };
        let dtype = match data.dtype {
            DType::Bool(_) => DType::Bool(burn::tensor::BoolStore::Native),
            dtype => dtype,
        };
        Pending {
            key: key.to_owned(),
            dtype,
            shape: data.shape.to_vec(),
            bytes,
        }
    }
}

/// Serializes `tensors` as safetensors and writes them atomically to `path`.
pub(crate) fn write(path: &Path, tensors: &[(String, TensorData)]) -> Result<(), IoError> {
    write_with_metadata(
        path,
        tensors
            .iter()
            .map(|(key, data)| Pending::borrowed(key, data))
            .collect(),
        HashMap::new(),
    )
}

/// Writes `tensors` (in their order) and string `metadata` as a safetensors file, atomically.
///
/// The header is built by the `safetensors` crate; the data is streamed into the temporary
/// file: a writer thread writes tensor `i` while this thread produces tensor `i + 1` (and
/// transposes it into one of two buffers the writer hands back), so a save costs about the
/// larger of snapshotting and writing, and holds at most a few tensors' bytes besides the
/// caller's.
pub(crate) fn write_with_metadata(
    path: &Path,
    tensors: Vec<Pending<'_>>,
    metadata: HashMap<String, String>,
) -> Result<(), IoError> {
    let tensor_error = |key: &str, reason: String| IoError::Tensor {
        path: path.to_owned(),
        key: key.to_owned(),
        reason,
    };
    let format_error = |reason: String| IoError::Format {
        path: path.to_owned(),
        format: "safetensors",
        reason,
    };
    let mut tensors = tensors
        .into_iter()
        .map(|pending| match safetensors_dtype(pending.dtype) {
            Some(dtype) => Ok((dtype, pending)),
            None => Err(tensor_error(
                &pending.key,
                format!("dtype {:?} cannot be stored in safetensors", pending.dtype),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    // The order `safetensors::serialize` writes: by descending alignment, then by key.
    tensors.sort_by(|(a, x), (b, y)| b.cmp(a).then_with(|| x.key.cmp(&y.key)));
    let mut infos = Vec::with_capacity(tensors.len());
    let mut offset = 0usize;
    for (dtype, pending) in &tensors {
        let dtype = *dtype;
        let len = pending
            .shape
            .iter()
            .try_fold(dtype.bitsize() / 8, |n, &d| n.checked_mul(d))
            .ok_or_else(|| tensor_error(&pending.key, "size overflows".into()))?;
        let end = offset
            .checked_add(len)
            .ok_or_else(|| tensor_error(&pending.key, "size overflows".into()))?;
        infos.push((
            pending.key.clone(),
            safetensors::tensor::TensorInfo {
                dtype,
                shape: pending.shape.clone(),
                data_offsets: (offset, end),
            },
        ));
        offset = end;
    }
    let expected: Vec<usize> = infos
        .iter()
        .map(|(_, info)| info.data_offsets.1 - info.data_offsets.0)
        .collect();
    let metadata = (!metadata.is_empty()).then_some(metadata);
    let header = safetensors::tensor::Metadata::new(metadata, infos)
        .map_err(|e| format_error(e.to_string()))?;
    let mut header = serde_json::to_vec(&header).map_err(|e| format_error(e.to_string()))?;
    // The data starts 8-byte aligned, as the crate's own writer pads it.
    header.resize(header.len().next_multiple_of(8), b' ');
    let header_len = (header.len() as u64).to_le_bytes();

    let failure = std::sync::Mutex::new(None);
    write_atomic_with(path, |file| {
        file.write_all(&header_len)?;
        file.write_all(&header)?;
        let tensors = tensors.into_iter().map(|(_, pending)| pending).collect();
        stream(file, tensors, &expected, &|key, reason| {
            if let Ok(mut failure) = failure.lock() {
                failure.get_or_insert_with(|| tensor_error(key, reason));
            }
        })
    })
    .map_err(|err| failure.into_inner().ok().flatten().unwrap_or(err))
}

/// Writes the bytes of `tensors` (each `expected[i]` long) to `file`, in order.
///
/// Two producer threads snapshot tensors (even and odd ones) while a writer thread writes,
/// and a fourth thread flushes what is written to disk as it goes, so the final fsync has
/// little left to do. A tensor that produces the wrong number of bytes is reported through
/// `fail` and ends the write with an error.
fn stream(
    file: &mut File,
    tensors: Vec<Pending<'_>>,
    expected: &[usize],
    fail: &(dyn Fn(&str, String) + Sync),
) -> std::io::Result<()> {
    use std::sync::mpsc::{channel, sync_channel};
    const LANES: usize = 1;
    let syncing = file.try_clone()?;
    let mut lanes: [Vec<(Pending<'_>, usize)>; LANES] = Default::default();
    for (i, (pending, &len)) in tensors.into_iter().zip(expected).enumerate() {
        lanes[i % LANES].push((pending, len));
    }
    let count = expected.len();
    std::thread::scope(|scope| {
        let mut chunks = Vec::new();
        let mut spares = Vec::new();
        for lane in lanes {
            let (send, receive) = sync_channel::<Chunk<'_>>(1);
            let (give_back, spare) = channel::<Vec<u8>>();
            chunks.push(receive);
            spares.push(give_back);
            scope.spawn(move || produce(lane, &send, &spare, fail));
        }
        let (flushed, written) = channel::<()>();
        let syncer = scope.spawn(move || {
            // Start writing back what is written while the rest is produced.
            while written.recv().is_ok() {
                while written.try_recv().is_ok() {}
                syncing.sync_data()?;
            }
            Ok::<(), std::io::Error>(())
        });
        let mut result = Ok(());
        for i in 0..count {
            let Ok(chunk) = chunks[i % LANES].recv() else {
                result = Err(std::io::Error::other("a tensor could not be produced"));
                break;
            };
            if let Err(err) = file.write_all(chunk.as_bytes()) {
                result = Err(err);
                break;
            }
            let _ = flushed.send(());
            if let Chunk::Buffer(buffer) = chunk {
                let _ = spares[i % LANES].send(buffer);
            }
        }
        // Producers waiting on a full channel or a spare buffer stop when these close.
        drop(chunks);
        drop(spares);
        drop(flushed);
        let synced = syncer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the sync thread panicked")));
        result.and(synced)
    })
}

/// Produces the bytes of `lane`'s tensors in order and sends them; a transposed snapshot is
/// transposed into one of two buffers that come back once written.
fn produce<'a>(
    lane: Vec<(Pending<'a>, usize)>,
    send: &std::sync::mpsc::SyncSender<Chunk<'a>>,
    spare: &std::sync::mpsc::Receiver<Vec<u8>>,
    fail: &(dyn Fn(&str, String) + Sync),
) {
    let mut buffers = 0;
    for (pending, expected) in lane {
        let mut chunk = (pending.bytes)();
        if chunk.as_bytes().len() != expected {
            let len = chunk.as_bytes().len();
            fail(
                &pending.key,
                format!(
                    "{len} bytes for shape {:?}, expected {expected}",
                    pending.shape
                ),
            );
            return;
        }
        if let Chunk::Transpose(data) = &chunk {
            if let &[rows, cols] = data.shape.as_slice() {
                // Two buffers in turn: one being written, one being filled.
                let mut buffer = if buffers < 2 {
                    buffers += 1;
                    Vec::new()
                } else {
                    match spare.recv() {
                        Ok(buffer) => buffer,
                        Err(_) => return, // The writer stopped.
                    }
                };
                buffer.clear();
                buffer.resize(expected, 0);
                tensor::transpose_bytes(
                    data.as_bytes(),
                    rows,
                    cols,
                    data.dtype.size(),
                    &mut buffer,
                );
                chunk = Chunk::Buffer(buffer);
            }
        }
        if send.send(chunk).is_err() {
            return; // The writer stopped.
        }
    }
}
