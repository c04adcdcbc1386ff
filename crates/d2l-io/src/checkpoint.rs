//! Checkpoints written off the compute path, for sync and async (tokio) callers alike.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use burn::tensor::backend::Backend;
use d2l_blocks::path::Visitable;

use crate::IoError;
use crate::file::entry::Entry;
use crate::file::writer::{Cores, write};

/// Writes checkpoints on a background thread, in the order they were asked for.
///
/// [`save`](Self::save) (or [`save_async`](Self::save_async)) snapshots the parameters and
/// queues the write: on flex and ndarray the snapshot keeps a handle to each parameter (no
/// copy — Burn's tensors are values, so training goes on beside it); elsewhere it copies them
/// to host memory (the only part that waits for the device). The writer thread transposes,
/// serializes, writes atomically and fsyncs, on its own core (not rayon's pool, which flex
/// trains on).
///
/// **Back-pressure and memory.** At most `capacity` snapshots wait while one is written
/// ([`with_capacity`](Self::with_capacity); [`new`](Self::new) takes 1): a save that finds the
/// queue full waits for room (`save` blocks its thread, `save_async` yields). Host memory the
/// checkpointer holds is bounded by `capacity + 1` snapshots, each the size of the state dict —
/// on flex and ndarray as parameter buffers kept alive after training replaced them, elsewhere
/// as host copies.
///
/// **Errors** of a write reach the caller at the next call: `save`, `save_async`, `flush` or
/// `flush_async` returns the first write that failed since the last report (the save asked for
/// is still queued). Each failed write leaves its file as it was ([`write_atomic`](crate::write_atomic)).
///
/// **Sync and async.** Nothing here runs on or needs a tokio runtime: the sync methods only
/// wait on a condition variable, so they never panic inside a runtime (they block the
/// runtime's thread while they wait — use the `_async` methods there); the async ones are
/// futures of any executor. Dropping the checkpointer waits for the queued writes (their errors
/// can no longer be reported: call `flush` first).
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
    shared: Arc<Shared>,
    writer: Option<std::thread::JoinHandle<()>>,
}

/// What the caller and the writer thread share.
struct Shared {
    state: Mutex<State>,
    /// Wakes the writer (a job, or closing) and sync callers (room in the queue, idle).
    changed: Condvar,
    /// Wakes async callers.
    notify: tokio::sync::Notify,
    capacity: usize,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    writing: bool,
    /// The first failure not yet reported.
    failure: Option<IoError>,
    closed: bool,
}

struct Job {
    path: PathBuf,
    entries: Vec<Entry>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn wake(&self) {
        self.changed.notify_all();
        self.notify.notify_waiters();
    }
}

impl State {
    fn idle(&self) -> bool {
        self.queue.is_empty() && !self.writing
    }

    fn report(&mut self) -> Result<(), IoError> {
        self.failure.take().map_or(Ok(()), Err)
    }
}

impl Checkpointer {
    /// A checkpointer with its own writer thread and room for one waiting snapshot.
    ///
    /// # Errors
    /// [`IoError::Io`] if the thread cannot be started.
    pub fn new() -> Result<Self, IoError> {
        Self::with_capacity(1)
    }

    /// A checkpointer whose queue holds up to `capacity` snapshots (at least 1) while one is
    /// written.
    ///
    /// # Errors
    /// [`IoError::Io`] if the thread cannot be started.
    pub fn with_capacity(capacity: usize) -> Result<Self, IoError> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            notify: tokio::sync::Notify::new(),
            capacity: capacity.max(1),
        });
        let writer = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("d2l-checkpoint".into())
                .spawn(move || run(&shared))
                .map_err(|source| IoError::Io {
                    path: PathBuf::from("<checkpoint writer>"),
                    source,
                })?
        };
        Ok(Self {
            shared,
            writer: Some(writer),
        })
    }

    /// Snapshots `module`'s parameters and queues their write to `path` (PyTorch keys and
    /// orientation, as [`save_state`](crate::save_state)), after the writes asked for before;
    /// waits (blocking this thread) while the queue is full.
    ///
    /// # Errors
    /// The first earlier write that failed since the last report (this save is still queued).
    pub fn save<B: Backend, T: Visitable<B> + ?Sized>(
        &mut self,
        path: impl AsRef<Path>,
        module: &T,
    ) -> Result<(), IoError> {
        let job = job(path.as_ref(), module);
        let mut state = self.shared.lock();
        while state.queue.len() >= self.shared.capacity {
            state = self.shared.wait(state);
        }
        state.queue.push_back(job);
        let earlier = state.report();
        drop(state);
        self.shared.wake();
        earlier
    }

    /// [`save`](Self::save) for async callers: the snapshot is taken now, before the first
    /// `.await`; the future waits (yielding) while the queue is full.
    ///
    /// ```
    /// use burn::backend::NdArray;
    /// use burn::nn::LinearConfig;
    /// use d2l_blocks::Sequential;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let path = std::env::temp_dir().join(format!("d2l-ckpt-async-{}.safetensors", std::process::id()));
    /// let net = Sequential::<NdArray>::new().add(LinearConfig::new(4, 2).init(&Default::default()));
    /// let mut checkpoints = d2l_io::Checkpointer::new().unwrap();
    /// checkpoints.save_async(&path, &net).await.unwrap();
    /// checkpoints.flush_async().await.unwrap();
    /// assert_eq!(d2l_io::load_tensors(&path).unwrap().len(), 2);
    /// # std::fs::remove_file(&path).unwrap();
    /// # });
    /// ```
    ///
    /// # Errors
    /// As [`save`](Self::save).
    pub fn save_async<B: Backend, T: Visitable<B> + ?Sized>(
        &mut self,
        path: impl AsRef<Path>,
        module: &T,
    ) -> impl Future<Output = Result<(), IoError>> + Send + '_ {
        let mut job = Some(job(path.as_ref(), module));
        async move {
            self.until(
                |state| state.queue.len() < self.shared.capacity,
                |state| {
                    state.queue.extend(job.take());
                },
            )
            .await
        }
    }

    /// The snapshots the checkpointer holds: waiting, and being written (at most
    /// `capacity + 1`).
    pub fn queued(&self) -> usize {
        let state = self.shared.lock();
        state.queue.len() + usize::from(state.writing)
    }

    /// Waits (blocking this thread) for every queued write.
    ///
    /// # Errors
    /// The first write that failed since the last report.
    pub fn flush(&mut self) -> Result<(), IoError> {
        let mut state = self.shared.lock();
        while !state.idle() {
            state = self.shared.wait(state);
        }
        state.report()
    }

    /// [`flush`](Self::flush) for async callers.
    ///
    /// # Errors
    /// As [`flush`](Self::flush).
    pub async fn flush_async(&mut self) -> Result<(), IoError> {
        self.until(State::idle, |_| {}).await
    }

    /// Waits (yielding) until `ready` holds, then runs `then` under the same lock and reports
    /// the first failure.
    async fn until(
        &self,
        ready: impl Fn(&State) -> bool,
        then: impl FnOnce(&mut State),
    ) -> Result<(), IoError> {
        let mut then = Some(then);
        loop {
            let mut notified = std::pin::pin!(self.shared.notify.notified());
            // Registered before the check, so a wake between the check and the await counts.
            notified.as_mut().enable();
            {
                let mut state = self.shared.lock();
                if ready(&state) {
                    if let Some(then) = then.take() {
                        then(&mut state);
                    }
                    let earlier = state.report();
                    drop(state);
                    self.shared.wake();
                    return earlier;
                }
            }
            notified.await;
        }
    }
}

impl Drop for Checkpointer {
    /// Finishes the queued writes (their errors can no longer be reported).
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn job<B: Backend, T: Visitable<B> + ?Sized>(path: &Path, module: &T) -> Job {
    Job {
        path: path.to_owned(),
        entries: crate::state::snapshot(module),
    }
}

/// The writer thread: writes queued jobs until closed and drained.
fn run(shared: &Shared) {
    loop {
        let job = {
            let mut state = shared.lock();
            loop {
                if let Some(job) = state.queue.pop_front() {
                    state.writing = true;
                    break job;
                }
                if state.closed {
                    return;
                }
                state = shared.wait(state);
            }
        };
        // Room in the queue.
        shared.wake();
        let Job { path, entries } = job;
        let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write(&path, entries, HashMap::new(), Cores::One)
        }))
        .unwrap_or_else(|_| {
            Err(IoError::Io {
                path: path.clone(),
                source: std::io::Error::other("the checkpoint writer panicked"),
            })
        });
        let mut state = shared.lock();
        state.writing = false;
        if let Err(err) = written {
            state.failure.get_or_insert(err);
        }
        drop(state);
        shared.wake();
    }
}
