//! Atomic file replacement, and reclaiming what crashed writers left behind.
//!
//! A save writes a temporary file beside its target (`.{name}.{pid}-{n}.tmp`), holds an
//! exclusive lock on it while it is written, and renames it over the target. A process killed
//! mid-save leaves its temporary file but not its lock (the kernel drops the locks of a dead
//! process), so the next save of the same target removes every such file it can lock.

use std::ffi::OsStr;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::IoError;

/// An empty temporary file is a writer's between creating and locking its file, or a writer
/// killed right then; it is reclaimed once this old (or at once where its process is known to
/// be gone).
const EMPTY_GRACE: Duration = Duration::from_secs(60);

/// Writes `bytes` to `path` atomically: a reader, or the next process after a crash or a power
/// loss, finds either the previous file or all of `bytes`, never a mix.
///
/// A temporary file in the same directory is written, fsynced and renamed over `path`; on Unix
/// the directory is then fsynced, so that the rename itself survives a power loss. Temporary
/// files of earlier saves of `path` whose process died (killed mid-save) are removed first.
///
/// What is true after each outcome:
/// - `Ok(())`: `path` holds `bytes`, durably.
/// - [`IoError::Io`]: the failure came before the rename (creating, writing or syncing the
///   temporary file — a full disk, a read-only directory, `path` being a directory — or the
///   rename itself): `path` is untouched and the temporary file removed.
/// - [`IoError::NotDurable`]: the rename happened (`path` holds `bytes`, and every reader sees
///   them), but the directory could not be fsynced: after a power loss `path` may hold its
///   previous content.
///
/// # Errors
/// As above, each naming `path` (or its directory) and the operating system's error.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), IoError> {
    write_atomic_with(path.as_ref(), |file, _| {
        std::io::Write::write_all(&mut &*file, bytes)
    })
}

/// [`write_atomic`] with the content written by `fill` into the temporary file (given open for
/// writing, and by its path).
pub(crate) fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&File, &Path) -> std::io::Result<()>,
) -> Result<(), IoError> {
    let io = |source| IoError::Io {
        path: path.to_owned(),
        source,
    };
    let (dir, name) = split(path).map_err(io)?;
    // Best effort: the save goes on whatever happens here (a directory that cannot be listed
    // may still be written to).
    let _ = reclaim_in(&dir, name);
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let unique = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(temporary_name(name, std::process::id(), unique));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io)?;
    let written = (|| {
        // Held until the file is renamed (Unix) or closed: a reclaimer never takes it.
        file.lock()?;
        fill(&file, &tmp)?;
        file.sync_all()?;
        // Windows cannot rename a file that is open; elsewhere the lock stays held across it.
        #[cfg(not(unix))]
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if let Err(source) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(source));
    }
    sync_dir(&dir).map_err(|source| IoError::NotDurable {
        path: path.to_owned(),
        source,
    })
}

/// Makes a rename in `dir` durable: fsync of the directory, where the platform has it.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Windows has no directory handle to fsync through `std` (NTFS journals the rename's
/// metadata itself); other platforms are treated alike.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

/// `path`'s directory (`.` for a bare name) and file name.
fn split(path: &Path) -> std::io::Result<(PathBuf, &OsStr)> {
    let name = path.file_name().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file name (ends in `..` or is a root)",
        )
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name))
}

fn temporary_name(name: &OsStr, pid: u32, unique: u64) -> String {
    format!(".{}.{pid}-{unique}.tmp", name.to_string_lossy())
}

/// The process id in a temporary file name of `name`, if `file` is one.
fn temporary_pid(file: &str, name: &OsStr) -> Option<u32> {
    let rest = file
        .strip_prefix('.')?
        .strip_prefix(&*name.to_string_lossy())?
        .strip_prefix('.')?
        .strip_suffix(".tmp")?;
    let (pid, unique) = rest.split_once('-')?;
    unique.parse::<u64>().ok()?;
    pid.parse().ok()
}

/// Removes the temporary files that earlier, dead saves of `path` left beside it (a process
/// killed mid-save). Saves do this themselves; call it to reclaim the space without saving
/// (at a training job's start, say). Temporary files of live saves, in this process or
/// another, are kept: each is locked by its writer until renamed.
///
/// Returns the number of files removed.
///
/// # Errors
/// [`IoError::Io`] if `path` has no file name or its directory cannot be listed.
pub fn reclaim_temporaries(path: impl AsRef<Path>) -> Result<usize, IoError> {
    let path = path.as_ref();
    let io = |source| IoError::Io {
        path: path.to_owned(),
        source,
    };
    let (dir, name) = split(path).map_err(io)?;
    reclaim_in(&dir, name).map_err(io)
}

/// [`reclaim_temporaries`] of `dir/name`: an error only if `dir` cannot be listed; each file is
/// best effort.
fn reclaim_in(dir: &Path, name: &OsStr) -> std::io::Result<usize> {
    let entries = std::fs::read_dir(dir)?;
    let mut removed = 0;
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name.to_str().and_then(|f| temporary_pid(f, name)) else {
            continue;
        };
        // Only regular files: never a link, a directory or a FIFO (opening one would wait).
        if !entry.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let candidate = entry.path();
        let Ok(file) = std::fs::OpenOptions::new().write(true).open(&candidate) else {
            continue;
        };
        // Only files no writer holds.
        let Ok(meta) = file.metadata() else { continue };
        if file.try_lock().is_err() {
            continue;
        }
        // A live writer locks its file before writing a byte; an empty file may be one that
        // has not locked it yet.
        let abandoned = meta.len() > 0
            || process_gone(pid)
            || meta
                .modified()
                .ok()
                .and_then(|m| m.elapsed().ok())
                .is_some_and(|age| age > EMPTY_GRACE);
        if abandoned && std::fs::remove_file(&candidate).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Whether process `pid` is known not to run (Linux's `/proc`; elsewhere never known).
fn process_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    pid != std::process::id() && proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_parse_back_and_nothing_else_does() {
        let name = OsStr::new("ckpt.safetensors");
        let tmp = temporary_name(name, 4242, 7);
        assert_eq!(tmp, ".ckpt.safetensors.4242-7.tmp");
        assert_eq!(temporary_pid(&tmp, name), Some(4242));
        for other in [
            "ckpt.safetensors",
            ".ckpt.safetensors.tmp",
            ".ckpt.safetensors.x-7.tmp",
            ".ckpt.safetensors.4242-.tmp",
            ".other.4242-7.tmp",
            ".ckpt.safetensors.4242-7.tmp.bak",
        ] {
            assert_eq!(temporary_pid(other, name), None, "{other}");
        }
    }

    #[test]
    fn locked_and_fresh_empty_temporaries_are_kept_dead_ones_removed() {
        let dir = std::env::temp_dir().join(format!("d2l-io-reclaim-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let name = OsStr::new("t.bin");
        let me = std::process::id();
        // A dead writer's file (holds bytes, nobody's lock).
        let dead = dir.join(temporary_name(name, me, 1_000_001));
        std::fs::write(&dead, b"half a checkpoint").expect("write");
        // A live writer's (locked by this handle).
        let live = dir.join(temporary_name(name, me, 1_000_002));
        std::fs::write(&live, b"being written").expect("write");
        let held = File::options().write(true).open(&live).expect("open");
        held.lock().expect("lock");
        // A writer's that has not locked it yet (empty, fresh, its process alive).
        let fresh = dir.join(temporary_name(name, me, 1_000_003));
        std::fs::write(&fresh, b"").expect("write");
        // Another file's temporary, and a look-alike directory.
        let other = dir.join(temporary_name(OsStr::new("u.bin"), me, 1));
        std::fs::write(&other, b"x").expect("write");
        std::fs::create_dir(dir.join(temporary_name(name, me, 1_000_004))).expect("mkdir");

        assert_eq!(reclaim_temporaries(dir.join("t.bin")).expect("reclaim"), 1);
        assert!(!dead.exists());
        assert!(live.exists() && fresh.exists() && other.exists());
        drop(held);
        assert_eq!(reclaim_temporaries(dir.join("t.bin")).expect("reclaim"), 1);
        assert!(!live.exists() && fresh.exists());
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
