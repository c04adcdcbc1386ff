//! Reading safetensors files tensor by tensor.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};

use burn::tensor::{DType, TensorData};
use d2l_blocks::tensor;

use super::{dtype, io_error};
use crate::IoError;

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

impl Stored {
    /// The number of bytes.
    pub(crate) fn len(&self) -> usize {
        (self.offsets.1 - self.offsets.0) as usize
    }
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
    /// Reads and checks the header of `file`, open at `path`, `len` bytes long.
    pub(crate) fn from_file(path: &Path, file: File, len: u64) -> Result<Self, IoError> {
        let format_error = |reason: String| IoError::Format {
            path: path.to_owned(),
            format: "safetensors",
            reason,
        };
        if len < 8 {
            return Err(format_error(format!(
                "{len} bytes: too short for the 8-byte header length"
            )));
        }
        let mut prefix = [0u8; 8];
        read_exact_at(&file, &mut prefix, 0).map_err(io_error(path))?;
        let header_len = u64::from_le_bytes(prefix);
        let after = len - 8;
        if header_len > after {
            return Err(format_error(format!(
                "the header length field says {header_len} bytes, but only {after} bytes follow \
                 it (a {len}-byte file): truncated, or not a safetensors file"
            )));
        }
        if header_len > MAX_HEADER {
            return Err(format_error(format!(
                "a header of {header_len} bytes is over the 100 MB limit"
            )));
        }
        let mut header = vec![0u8; header_len as usize];
        read_exact_at(&file, &mut header, 8).map_err(io_error(path))?;
        let metadata: safetensors::tensor::Metadata =
            serde_json::from_slice(&header).map_err(|e| format_error(format!("header: {e}")))?;
        let data_start = 8 + header_len;
        let data_len = metadata.data_len() as u64;
        if data_start.checked_add(data_len) != Some(len) {
            return Err(format_error(format!(
                "the header describes {data_len} bytes of data; {} follow it{}",
                len - data_start,
                if data_start + data_len > len {
                    " (truncated)"
                } else {
                    ""
                }
            )));
        }
        let strings = metadata.metadata().clone().unwrap_or_default();
        let tensors = metadata
            .tensors()
            .into_iter()
            .map(|(key, info)| {
                let dtype = dtype::to_burn(info.dtype).ok_or_else(|| IoError::Tensor {
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
        let read = read_exact_at(&self.file, buf, at);
        #[cfg(not(unix))]
        let read = {
            // One reader at a time where positioned reads are not available.
            let _one = self.seek.lock();
            read_exact_at(&self.file, buf, at)
        };
        read.map_err(io_error(&self.path))
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
        let mut bytes = tensor::zeroed_bytes(stored.len(), stored.dtype);
        self.read_range(stored, 0, &mut bytes)?;
        Ok(TensorData::from_bytes(
            bytes,
            stored.shape.clone(),
            stored.dtype,
        ))
    }
}

/// Fills `buf` from `file` at offset `at`; a file that ends first is an `UnexpectedEof`.
#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

/// Fills `buf` from `file` at offset `at` (seeking: the caller serializes).
#[cfg(not(unix))]
fn read_exact_at(file: &File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = file;
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(buf)
}
