//! Files, one job per module: atomic replacement ([`atomic`]), the dtype map ([`dtype`]),
//! reading safetensors ([`safetensors`]) and PyTorch ([`pytorch`]) files, a snapshot's tensors
//! ([`entry`]), and writing safetensors ([`writer`]).

pub(crate) mod atomic;
pub(crate) mod dtype;
pub(crate) mod entry;
pub(crate) mod pytorch;
pub(crate) mod safetensors;
pub(crate) mod writer;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use burn::tensor::TensorData;

use self::safetensors::SafetensorsFile;
use crate::IoError;

/// An [`IoError::Io`] naming `path`.
pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> IoError + '_ {
    move |source| IoError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A file opened for loading, its format known.
pub(crate) enum Opened {
    /// A safetensors file, its header read and checked.
    Safetensors(SafetensorsFile),
    /// A PyTorch file (`torch.save`: a zip archive, or a legacy pickle).
    Pytorch(File),
}

/// Opens `path` once and tells its format: by extension (`.safetensors`; `.pt`, `.pth`, `.bin`,
/// `.ckpt`), else by content (a zip archive or a pickle is PyTorch; anything else is read as
/// safetensors, whose header check then says what is wrong).
///
/// # Errors
/// [`IoError::Io`] for a missing or unreadable path or a directory; a safetensors header's
/// errors.
pub(crate) fn open(path: &Path) -> Result<Opened, IoError> {
    let file = File::open(path).map_err(io_error(path))?;
    let meta = file.metadata().map_err(io_error(path))?;
    if meta.is_dir() {
        return Err(IoError::Io {
            path: path.to_owned(),
            source: std::io::Error::new(std::io::ErrorKind::IsADirectory, "is a directory"),
        });
    }
    let pytorch = match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "safetensors" => false,
        "pt" | "pth" | "bin" | "ckpt" => true,
        _ => {
            let mut head = [0u8; 9];
            let read = read_head(&file, &mut head).map_err(io_error(path))?;
            // safetensors: an 8-byte header length, then the JSON header's `{`.
            let safetensors = read == 9 && head[8] == b'{';
            // A zip archive starts with `PK`; a pickle of protocol 2 or later with `\x80`.
            !safetensors && read >= 2 && (head.starts_with(b"PK") || head[0] == 0x80)
        }
    };
    Ok(if pytorch {
        Opened::Pytorch(file)
    } else {
        Opened::Safetensors(SafetensorsFile::from_file(path, file, meta.len())?)
    })
}

/// Reads up to `buf.len()` bytes from the start of `file` (without moving its cursor where
/// positioned reads exist); the number read.
fn read_head(file: &File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut read = 0;
    while read < buf.len() {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(file, &mut buf[read..], read as u64)?;
        #[cfg(not(unix))]
        let n = std::io::Read::read(&mut &*file, &mut buf[read..])?;
        if n == 0 {
            break;
        }
        read += n;
    }
    #[cfg(not(unix))]
    std::io::Seek::rewind(&mut &*file)?;
    Ok(read)
}

/// Every tensor of a safetensors or PyTorch file, by key.
///
/// Sizes come from the file system and are checked against the header before anything is
/// allocated from it; every failure is an [`IoError`] naming the file.
pub(crate) fn read(path: &Path) -> Result<BTreeMap<String, TensorData>, IoError> {
    match open(path)? {
        Opened::Safetensors(file) => file.read_all(),
        Opened::Pytorch(file) => pytorch::read(path, file),
    }
}
