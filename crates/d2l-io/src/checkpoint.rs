//! Checkpoints written off the compute path (tokio): the parameters are snapshotted when a save
//! is asked for (kept where a CPU backend holds them, else copied to host memory), and
//! serialized, written and fsynced on a background thread.

use std::path::{Path, PathBuf};

use burn::tensor::backend::Backend;
use d2l_blocks::path::Visitable;
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

use crate::{IoError, file};

/// Writes checkpoints in the background, in the order they were asked for.
///
/// [`save`](Self::save) snapshots the parameters and returns: on flex and ndarray it keeps a
/// handle to each (no copy — Burn's tensors are values, and training goes on beside them);
/// elsewhere it copies them to host memory (the only part that waits for the device); the write (serialize, atomic write, fsync) runs on a background thread.
/// A failed write reaches the caller: at the next `save`, or at [`flush`](Self::flush), which
/// waits for every pending write.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::LinearConfig;
/// use d2l_blocks::Sequential;
///
/// let path = std::env::temp_dir().join(format!("d2l-ckpt-doc-{}.safetensors", std::process::id()));
/// let net = Sequential::<NdArray>::new().add(LinearConfig::new(4, 2).init(&Default::default()));
/// let mut checkpoints = d2l_io::Checkpointer::new().unwrap();
/// for _step in 0..3 {
///     // … a training step …
///     checkpoints.save(&path, &net).unwrap();
/// }
/// checkpoints.flush().unwrap();
/// assert_eq!(d2l_io::load_tensors(&path).unwrap().len(), 2);
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub struct Checkpointer {
    runtime: Runtime,
    last: Option<JoinHandle<Result<(), IoError>>>,
    failed: Option<IoError>,
}

impl Checkpointer {
    /// A checkpointer with its own background writer thread.
    ///
    /// # Errors
    /// [`IoError::Io`] if the thread cannot be started.
    pub fn new() -> Result<Self, IoError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(1)
            .thread_name("d2l-checkpoint")
            .build()
            .map_err(|source| IoError::Io {
                path: PathBuf::from("<checkpoint writer>"),
                source,
            })?;
        Ok(Self {
            runtime,
            last: None,
            failed: None,
        })
    }

    /// Snapshots `module`'s parameters (see [`Checkpointer`]) and writes them to `path`
    /// (PyTorch keys and orientation, as [`save_state`](crate::save_state)) in the background,
    /// after the writes asked for before.
    ///
    /// # Errors
    /// The error of an earlier write that failed since the last check (this save is still
    /// queued).
    pub fn save<B: Backend, T: Visitable<B> + ?Sized>(
        &mut self,
        path: impl AsRef<Path>,
        module: &T,
    ) -> Result<(), IoError> {
        // Only the snapshot happens here; transposes, serialization and I/O are the writer's.
        let snapshots = crate::state::snapshot(module);
        // Failures of the writes before this one (without waiting for any).
        let earlier_failure = self.take_failure();
        let path = path.as_ref().to_owned();
        let previous = self.last.take();
        self.last = Some(self.runtime.spawn(async move {
            let earlier = match previous {
                Some(handle) => joined(handle.await),
                None => Ok(()),
            };
            let written = tokio::task::spawn_blocking(move || {
                let tensors = crate::state::pending_snapshots(&snapshots);
                file::write_with_metadata(&path, tensors, Default::default(), file::Cores::One)
            })
            .await;
            // Report the earliest failure first; this write happened either way.
            earlier.and(joined(written))
        }));
        earlier_failure
    }

    /// Waits for every pending write.
    ///
    /// # Errors
    /// The first write that failed.
    pub fn flush(&mut self) -> Result<(), IoError> {
        if let Some(handle) = self.last.take() {
            if let Err(err) = joined(self.runtime.block_on(handle)) {
                self.failed.get_or_insert(err);
            }
        }
        self.take_failure()
    }

    /// The failure of a write that has finished, if any (without waiting).
    fn take_failure(&mut self) -> Result<(), IoError> {
        if self.last.as_ref().is_some_and(JoinHandle::is_finished) {
            if let Some(handle) = self.last.take() {
                if let Err(err) = joined(self.runtime.block_on(handle)) {
                    self.failed.get_or_insert(err);
                }
            }
        }
        self.failed.take().map_or(Ok(()), Err)
    }
}

impl Drop for Checkpointer {
    /// Finishes the pending writes (their errors can no longer be reported).
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// A background task's result, a panic in it counted as a failed write.
fn joined(result: Result<Result<(), IoError>, tokio::task::JoinError>) -> Result<(), IoError> {
    result.unwrap_or_else(|err| {
        Err(IoError::Io {
            path: PathBuf::from("<checkpoint writer>"),
            source: std::io::Error::other(err.to_string()),
        })
    })
}
