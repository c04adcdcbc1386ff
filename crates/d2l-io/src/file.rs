//! Files: atomic writes, and reading safetensors and PyTorch files through burn-store.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use burn::tensor::{DType, TensorData};
use burn_store::{ModuleStore, PytorchStore, SafetensorsStore, TensorSnapshot};

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
        file.write_all(bytes)?;
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

/// Every tensor of a safetensors or PyTorch (`torch.save` of a dict of tensors) file, by key.
///
/// Sizes come from the file system and are checked against the header before anything is
/// allocated from it; every failure is an [`IoError`] naming the file.
pub(crate) fn read(path: &Path) -> Result<BTreeMap<String, TensorData>, IoError> {
    let meta = std::fs::metadata(path).map_err(io(path))?;
    if meta.is_dir() {
        return Err(IoError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        });
    }
    let pytorch = is_pytorch(path)?;
    let format = if pytorch { "PyTorch" } else { "safetensors" };
    // The readers return errors for the bad files we know of; a panic on one we do not know
    // is still turned into an error here rather than reaching the caller.
    let snapshots = std::panic::catch_unwind(|| {
        if pytorch {
            // Keys as written: burn-store would renumber `2.weight` to `1.weight` otherwise.
            let mut store = PytorchStore::from_file(path).map_indices_contiguous(false);
            store
                .get_all_snapshots()
                .map(Clone::clone)
                .map_err(|e| e.to_string())
        } else {
            let mut store = SafetensorsStore::from_file(path).map_indices_contiguous(false);
            store
                .get_all_snapshots()
                .map(Clone::clone)
                .map_err(|e| e.to_string())
        }
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

/// `data` as safetensors can store it: its dtype, shape and bytes.
struct Entry<'a>(&'a TensorData, safetensors::Dtype);

impl safetensors::View for Entry<'_> {
    fn dtype(&self) -> safetensors::Dtype {
        self.1
    }
    fn shape(&self) -> &[usize] {
        self.0.shape.as_slice()
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(self.0.as_bytes())
    }
    fn data_len(&self) -> usize {
        self.0.as_bytes().len()
    }
}

/// The safetensors dtype of a Burn dtype, if safetensors has one.
fn dtype(dtype: DType) -> Option<safetensors::Dtype> {
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

/// Serializes `tensors` as safetensors and writes them atomically to `path`.
pub(crate) fn write(path: &Path, tensors: &[(String, TensorData)]) -> Result<(), IoError> {
    write_with_metadata(path, tensors, HashMap::new())
}

/// The string metadata of a safetensors file's header.
pub(crate) fn read_metadata(path: &Path) -> Result<HashMap<String, String>, IoError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let (_, metadata) =
        safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| IoError::Format {
            path: path.to_owned(),
            format: "safetensors",
            reason: e.to_string(),
        })?;
    Ok(metadata.metadata().clone().unwrap_or_default())
}

/// [`write`] with string metadata in the header.
pub(crate) fn write_with_metadata(
    path: &Path,
    tensors: &[(String, TensorData)],
    metadata: HashMap<String, String>,
) -> Result<(), IoError> {
    let mut owned = Vec::new();
    let mut entries = Vec::with_capacity(tensors.len());
    // Booleans stored as u8/u32 are rewritten as native booleans first.
    for (key, data) in tensors {
        if let DType::Bool(store) = data.dtype {
            if store != burn::tensor::BoolStore::Native {
                owned.push((
                    key,
                    TensorData::new(
                        data.iter::<bool>().collect::<Vec<bool>>(),
                        data.shape.clone(),
                    ),
                ));
                continue;
            }
        }
        entries.push((key, data));
    }
    let all: Vec<(&String, &TensorData)> = entries
        .into_iter()
        .chain(owned.iter().map(|(k, d)| (*k, d)))
        .collect();
    let mut views = Vec::with_capacity(all.len());
    for (key, data) in all {
        let st = dtype(data.dtype).ok_or_else(|| IoError::Tensor {
            path: path.to_owned(),
            key: key.clone(),
            reason: format!("dtype {:?} cannot be stored in safetensors", data.dtype),
        })?;
        views.push((key.clone(), Entry(data, st)));
    }
    let metadata = (!metadata.is_empty()).then_some(metadata);
    let bytes = safetensors::serialize(views, metadata).map_err(|e| IoError::Format {
        path: path.to_owned(),
        format: "safetensors",
        reason: e.to_string(),
    })?;
    write_atomic(path, &bytes)
}
