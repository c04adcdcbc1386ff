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
    write_atomic_with(path, |file, _| file.write_all(bytes))
}

/// [`write_atomic`] with the content written by `fill` into the temporary file (given open,
/// and by its path).
pub(crate) fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut File, &Path) -> std::io::Result<()>,
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
    // The file being replaced, held open across the rename: its storage is then freed when
    // this handle closes, on a thread of its own (freeing 420 MB took 65 ms here, in the
    // rename) rather than in the caller's save. The rename is as atomic either way.
    // Only a regular file: opening a FIFO to read would wait for a writer.
    #[cfg(unix)]
    let replaced = std::fs::symlink_metadata(path)
        .is_ok_and(|meta| meta.is_file())
        .then(|| File::open(path).ok())
        .flatten();
    let written = (|| {
        let mut file = File::create(&tmp)?;
        fill(&mut file, &tmp)?;
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
    let synced = File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io(&dir));
    #[cfg(unix)]
    if let Some(replaced) = replaced {
        // Where no thread can start, the handle just closes here.
        let _ = std::thread::Builder::new()
            .name("d2l-io-unlink".into())
            .spawn(move || drop(replaced));
    }
    synced
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
        self.read_range(stored, 0, buf)
    }

    /// Reads `buf.len()` bytes of `stored`'s data from byte `from` on (the caller keeps the
    /// range inside the tensor).
    pub(crate) fn read_range(
        &self,
        stored: &Stored,
        from: usize,
        buf: &mut [u8],
    ) -> Result<(), IoError> {
        let at = self.data_start + stored.offsets.0 + from as u64;
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
pub(crate) struct Chunk<'a> {
    bytes: Held<'a>,
    /// `(rows, cols, element size)` of a row-major matrix to be written transposed (a Linear
    /// weight in Burn's orientation).
    transpose: Option<(usize, usize, usize)>,
}

/// Who holds a [`Chunk`]'s bytes.
enum Held<'a> {
    /// The caller (data on the host, a parameter read in place, a snapshot).
    Borrowed(&'a [u8]),
    /// The chunk: bytes made for the write (read back from a device, a conversion).
    Owned(TensorData),
}

impl<'a> Chunk<'a> {
    /// Bytes the caller holds, written as they are.
    pub(crate) fn borrowed(bytes: &'a [u8]) -> Self {
        Chunk {
            bytes: Held::Borrowed(bytes),
            transpose: None,
        }
    }

    /// Bytes made for the write, written as they are.
    pub(crate) fn owned(data: TensorData) -> Self {
        Chunk {
            bytes: Held::Owned(data),
            transpose: None,
        }
    }

    /// The same bytes, a row-major `rows × cols` matrix of `size`-byte elements, written
    /// transposed (by the writer, a band at a time, so no transposed copy is ever whole).
    pub(crate) fn transposed(self, rows: usize, cols: usize, size: usize) -> Self {
        Chunk {
            transpose: Some((rows, cols, size)),
            ..self
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match &self.bytes {
            Held::Borrowed(bytes) => bytes,
            Held::Owned(data) => data.as_bytes(),
        }
    }
}

impl<'a> Pending<'a> {
    /// Host data already in memory; booleans stored as u8/u32 are rewritten as safetensors'
    /// native booleans when written.
    pub(crate) fn borrowed(key: &str, data: &'a TensorData) -> Self {
        let bytes: Box<dyn FnOnce() -> Chunk<'a> + Send + 'a> = match data.dtype {
            DType::Bool(store) if store != burn::tensor::BoolStore::Native => Box::new(move || {
                Chunk::owned(TensorData::new(
                    data.iter::<bool>().collect::<Vec<bool>>(),
                    data.shape.clone(),
                ))
            }),
            _ => Box::new(move || Chunk::borrowed(data.as_bytes())),
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
        Cores::All,
    )
}

/// Writes `tensors` (in their order) and string `metadata` as a safetensors file, atomically.
///
/// The header is built by the `safetensors` crate; the data is streamed into the temporary
/// file ([`stream`]): a producer hands tensors over (and transposes Linear weights band by band,
/// on `cores`) while this thread passes their bytes on to be written, so a save costs about the
/// larger of producing and writing, and holds a few bands' bytes besides the caller's.
pub(crate) fn write_with_metadata(
    path: &Path,
    tensors: Vec<Pending<'_>>,
    metadata: HashMap<String, String>,
    cores: Cores,
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
    write_atomic_with(path, |file, tmp| {
        let tensors = tensors.into_iter().map(|(_, pending)| pending).collect();
        let head: [&[u8]; 2] = [&header_len, &header];
        stream(
            file,
            tmp,
            &head,
            tensors,
            &expected,
            cores,
            &|key, reason| {
                if let Ok(mut failure) = failure.lock() {
                    failure.get_or_insert_with(|| tensor_error(key, reason));
                }
            },
        )
    })
    .map_err(|err| failure.into_inner().ok().flatten().unwrap_or(err))
}

/// Writes `head` and then the bytes of `tensors` (each `expected[i]` long) to `file` (open at
/// `tmp`), `total` bytes in all, in order.
///
/// A producer thread hands tensors over (transposing Linear weights band by band) while this
/// thread passes their bytes to the [`Out`] that writes them. A tensor that
/// produces the wrong number of bytes is reported through `fail` and ends the write with an
/// error.
fn stream(
    file: &mut File,
    tmp: &Path,
    head: &[&[u8]],
    tensors: Vec<Pending<'_>>,
    expected: &[usize],
    cores: Cores,
    fail: &(dyn Fn(&str, String) + Sync),
) -> std::io::Result<()> {
    use std::sync::mpsc::{channel, sync_channel};
    let total = head.iter().map(|h| h.len()).sum::<usize>() + expected.iter().sum::<usize>();
    let direct = direct::open(tmp, total);
    // One producer: its transposes run on `cores`; a second one would hold a tensor it got
    // ahead on.
    let work: Vec<(Pending<'_>, usize)> =
        tensors.into_iter().zip(expected.iter().copied()).collect();
    let count = work.len();
    std::thread::scope(|scope| {
        let (send, pieces) = sync_channel::<Piece<'_>>(2);
        let (spares, spare) = channel::<Vec<u8>>();
        scope.spawn(move || produce(work, &send, &spare, cores, fail));
        let mut out = match direct {
            Some(device) => Out::Direct(direct::Writer::start(scope, device, tmp)),
            None => Out::cached(scope, file)?,
        };
        let mut result = head.iter().try_for_each(|h| out.write(h));
        'tensors: for _ in 0..count {
            // A tensor's pieces, up to its last.
            loop {
                if result.is_err() {
                    break 'tensors;
                }
                let Ok(piece) = pieces.recv() else {
                    result = Err(std::io::Error::other("a tensor could not be produced"));
                    break 'tensors;
                };
                result = out.write(piece.as_bytes());
                match piece {
                    Piece::Whole(_) | Piece::Band(_, true) => {
                        if let Piece::Band(band, _) = piece {
                            let _ = spares.send(band);
                        }
                        break;
                    }
                    Piece::Band(band, false) => {
                        let _ = spares.send(band);
                    }
                }
            }
        }
        // The producer, waiting on a full channel or a spare band, stops when these close.
        drop(pieces);
        drop(spares);
        result.and(out.finish())
    })?;
    // A direct write ends on a whole block; the file is cut to its length.
    file.set_len(total as u64)
}

/// Where [`stream`] writes.
enum Out<'scope, 'f> {
    /// Through the page cache, with a thread that writes back what is written as it goes (so
    /// the final fsync has little left to do).
    Cached {
        file: &'f mut File,
        written: std::sync::mpsc::Sender<()>,
        syncer: std::thread::ScopedJoinHandle<'scope, std::io::Result<()>>,
    },
    /// Straight to the device.
    Direct(direct::Writer<'scope>),
}

impl<'scope, 'f> Out<'scope, 'f> {
    fn cached<'env>(
        scope: &'scope std::thread::Scope<'scope, 'env>,
        file: &'f mut File,
    ) -> std::io::Result<Self> {
        let syncing = file.try_clone()?;
        let (written, wakes) = std::sync::mpsc::channel::<()>();
        let syncer = scope.spawn(move || {
            while wakes.recv().is_ok() {
                while wakes.try_recv().is_ok() {}
                syncing.sync_data()?;
            }
            Ok(())
        });
        Ok(Out::Cached {
            file,
            written,
            syncer,
        })
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match self {
            Out::Cached { file, written, .. } => {
                file.write_all(bytes)?;
                let _ = written.send(());
                Ok(())
            }
            Out::Direct(writer) => writer.write(bytes),
        }
    }

    /// Waits for everything written to reach the file.
    fn finish(self) -> std::io::Result<()> {
        match self {
            Out::Cached {
                written, syncer, ..
            } => {
                drop(written);
                syncer
                    .join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("the sync thread panicked")))
            }
            Out::Direct(writer) => writer.finish(),
        }
    }
}

/// Large saves straight to the device (Linux `O_DIRECT`): no copy into the page cache (whose
/// fresh pages cost more than the copy) and no write-back left for the fsync. The bytes are
/// gathered into blocks aligned for the device, which a thread writes while the next fills.
mod direct {
    use std::fs::File;
    use std::path::Path;
    use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};

    /// The alignment of buffers, offsets and lengths (the largest logical block size in use).
    const ALIGN: usize = 4096;
    /// The bytes of one write.
    const BLOCK: usize = 8 << 20;
    /// Blocks in use at most: one filling, one being written, one waiting.
    const BLOCKS: usize = 3;
    /// The smallest file written this way: below, the page cache is as fast.
    const MIN: usize = BLOCK;

    /// `tmp` opened again for direct writes, if the file is large enough and the file system
    /// allows it (tmpfs and some others refuse: the caller then writes through the cache).
    #[cfg(target_os = "linux")]
    pub(super) fn open(tmp: &Path, total: usize) -> Option<File> {
        use std::os::unix::fs::OpenOptionsExt;
        if total < MIN {
            return None;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_DIRECT)
            .open(tmp)
            .ok()
    }

    /// Direct writes are Linux's here.
    #[cfg(not(target_os = "linux"))]
    pub(super) fn open(_tmp: &Path, _total: usize) -> Option<File> {
        None
    }

    /// A buffer whose window `start..start + BLOCK` is aligned to [`ALIGN`].
    struct Block {
        buffer: Vec<u8>,
        start: usize,
        len: usize,
    }

    impl Block {
        fn new() -> Self {
            let buffer = vec![0; BLOCK + ALIGN];
            // (`align_offset` may in principle decline; an unaligned block is then refused by
            // the device and written through the page cache.)
            let start = buffer.as_ptr().align_offset(ALIGN).min(ALIGN);
            Block {
                buffer,
                start,
                len: 0,
            }
        }

        /// The filled bytes, zero-padded to a multiple of [`ALIGN`].
        fn padded(&mut self) -> &[u8] {
            let end = self.len.next_multiple_of(ALIGN);
            self.buffer[self.start + self.len..self.start + end].fill(0);
            &self.buffer[self.start..self.start + end]
        }
    }

    /// Gathers bytes into blocks and hands each full one to the writing thread.
    pub(super) struct Writer<'scope> {
        block: Block,
        /// The file offset of `block`.
        at: u64,
        made: usize,
        full: SyncSender<(u64, Block)>,
        free: Receiver<Block>,
        thread: std::thread::ScopedJoinHandle<'scope, std::io::Result<()>>,
    }

    impl<'scope> Writer<'scope> {
        pub(super) fn start<'env>(
            scope: &'scope std::thread::Scope<'scope, 'env>,
            device: File,
            tmp: &'env Path,
        ) -> Self {
            let (full, blocks) = sync_channel::<(u64, Block)>(1);
            let (give_back, free) = channel();
            let thread = scope.spawn(move || {
                let mut file = device;
                let mut direct = true;
                for (at, mut block) in blocks {
                    let bytes = block.padded();
                    match write_at(&file, bytes, at) {
                        // A device that wants a larger alignment: the rest goes through the
                        // page cache (the final fsync covers it).
                        Err(err) if direct && err.kind() == std::io::ErrorKind::InvalidInput => {
                            direct = false;
                            file = std::fs::OpenOptions::new().write(true).open(tmp)?;
                            write_at(&file, bytes, at)?;
                        }
                        written => written?,
                    }
                    block.len = 0;
                    let _ = give_back.send(block);
                }
                Ok(())
            });
            Writer {
                block: Block::new(),
                at: 0,
                made: 1,
                full,
                free,
                thread,
            }
        }

        pub(super) fn write(&mut self, mut bytes: &[u8]) -> std::io::Result<()> {
            while !bytes.is_empty() {
                let Block { buffer, start, len } = &mut self.block;
                let n = (BLOCK - *len).min(bytes.len());
                buffer[*start + *len..*start + *len + n].copy_from_slice(&bytes[..n]);
                *len += n;
                bytes = &bytes[n..];
                if *len == BLOCK {
                    let next = if self.made < BLOCKS {
                        self.made += 1;
                        Block::new()
                    } else {
                        match self.free.recv() {
                            Ok(block) => block,
                            Err(_) => return Err(self.stopped()),
                        }
                    };
                    let block = std::mem::replace(&mut self.block, next);
                    if self.full.send((self.at, block)).is_err() {
                        return Err(self.stopped());
                    }
                    self.at += BLOCK as u64;
                }
            }
            Ok(())
        }

        /// The writing thread ended early: its error comes out of [`finish`](Self::finish).
        fn stopped(&self) -> std::io::Error {
            std::io::Error::other("the writing thread stopped")
        }

        /// Writes the last, partial block and waits for the writing thread.
        pub(super) fn finish(self) -> std::io::Result<()> {
            let Writer {
                block,
                at,
                full,
                thread,
                ..
            } = self;
            let sent = if block.len > 0 {
                full.send((at, block)).map_err(|_| ())
            } else {
                Ok(())
            };
            drop(full);
            let result = thread
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the writing thread panicked")));
            result.and(sent.map_err(|_| std::io::Error::other("the writing thread stopped")))
        }
    }

    #[cfg(unix)]
    fn write_at(file: &File, bytes: &[u8], at: u64) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::write_all_at(file, bytes, at)
    }

    #[cfg(not(unix))]
    fn write_at(_: &File, _: &[u8], _: u64) -> std::io::Result<()> {
        Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
    }
}

/// Which cores a write transposes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cores {
    /// Every core (rayon's pool): a save the caller waits for.
    All,
    /// The writer's own thread: a background save, which must not take the cores training
    /// runs on (rayon's pool is flex's).
    One,
}

/// A tensor's bytes, or one band of a tensor written transposed, as a producer hands them to
/// the writer.
enum Piece<'a> {
    /// All of a tensor's bytes, as they are.
    Whole(Chunk<'a>),
    /// Rows of a transposed tensor, and whether they are its last.
    Band(Vec<u8>, bool),
}

impl Piece<'_> {
    fn as_bytes(&self) -> &[u8] {
        match self {
            Piece::Whole(chunk) => chunk.as_bytes(),
            Piece::Band(band, _) => band,
        }
    }
}

/// The bytes of a band of a transposed tensor: about 4 MB, transposed by every core of rayon's
/// pool, 1 MB apiece (at least 64 columns of the stored matrix: whole cache lines of each row).
const BAND: usize = 4 << 20;
/// The bytes one core transposes at a time.
const PART: usize = 1 << 20;
/// Bands one producer has at a time (filling, queued, being written).
const BANDS: usize = 4;

/// Produces the bytes of `lane`'s tensors (all of them, in file order) and sends them; a tensor written transposed
/// is transposed here, a band at a time (on rayon's pool), into buffers that come back once
/// written.
fn produce<'a>(
    lane: Vec<(Pending<'a>, usize)>,
    send: &std::sync::mpsc::SyncSender<Piece<'a>>,
    spare: &std::sync::mpsc::Receiver<Vec<u8>>,
    cores: Cores,
    fail: &(dyn Fn(&str, String) + Sync),
) {
    let mut made = 0;
    for (pending, expected) in lane {
        let chunk = (pending.bytes)();
        let len = chunk.as_bytes().len();
        let fits = match chunk.transpose {
            Some((rows, cols, size)) => rows
                .checked_mul(cols)
                .and_then(|n| n.checked_mul(size))
                .is_some_and(|n| n == len),
            None => true,
        };
        if len != expected || !fits {
            fail(
                &pending.key,
                format!(
                    "{len} bytes for shape {:?}, expected {expected}",
                    pending.shape
                ),
            );
            return;
        }
        let (rows, cols, size) = match chunk.transpose {
            Some(matrix) if len > 0 => matrix,
            _ => {
                if send.send(Piece::Whole(chunk)).is_err() {
                    return; // The writer stopped.
                }
                continue;
            }
        };
        let row = rows * size;
        let step = (BAND / row).clamp(1, cols);
        for start in (0..cols).step_by(step) {
            let mut band = if made < BANDS {
                made += 1;
                Vec::new()
            } else {
                match spare.recv() {
                    Ok(band) => band,
                    Err(_) => return, // The writer stopped.
                }
            };
            let end = (start + step).min(cols);
            band.resize((end - start) * row, 0);
            let src = chunk.as_bytes();
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
            if send.send(Piece::Band(band, end == cols)).is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use burn::tensor::TensorData;

    /// What the `safetensors` crate itself writes for `tensors`.
    fn reference(tensors: &[(String, TensorData)]) -> Vec<u8> {
        let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
            .iter()
            .map(|(key, data)| {
                let dtype = super::safetensors_dtype(data.dtype).expect("storable");
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

    #[test]
    fn files_of_every_size_are_byte_identical_to_the_safetensors_crate() {
        let dir = std::env::temp_dir().join(format!("d2l-io-sizes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("t.safetensors");
        const MB: usize = 1 << 20;
        // Below the direct-write size; just past one block with a partial last block; whole
        // blocks once the header is counted out; several blocks with odd tensor sizes.
        for sizes in [
            vec![3, 5 * MB],
            vec![8 * MB + 13],
            vec![16 * MB - 200],
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
            super::write(&path, &tensors).expect("write");
            let written = std::fs::read(&path).expect("read");
            let expected = reference(&tensors);
            assert_eq!(written.len(), expected.len(), "{sizes:?}");
            assert!(written == expected, "{sizes:?}: bytes differ");
        }
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
