//! [`MpiComm`]: the [`Communicator`] across processes and machines, on MPI (OpenMPI from
//! Debian through the `mpi` crate), launched with `mpirun`.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::{Communicator as _, SimpleCommunicator};
use mpi::traits::{CommunicatorCollectives, Root};

use crate::{Communicator, ParallelError};

/// This process's rank in the job `mpirun` started: one process per device, on one machine or
/// many (`mpirun -n 4 -H node1:2,node2:2 ./train`).
///
/// Faults end the whole job within a bounded time, as MPI jobs end: [`run`](Self::run) turns
/// a rank's error or panic into `MPI_Abort` (which stops every rank) after printing it; a
/// collective step that waits longer than the timeout prints [`ParallelError::Timeout`] and
/// exits, and `mpirun` then stops the others. A rank killed by a signal is reported by
/// `mpirun`, which stops the rest.
///
/// Clones share the job (MPI is finalized when the last one is dropped), and a clone can move
/// into a module: `SyncBatchNorm` over processes holds one
/// (`GroupSum::new(Arc::new(comm.clone()))`). Collectives are called from the thread that
/// initialized MPI, as MPI's default thread level requires.
#[derive(Clone)]
pub struct MpiComm {
    _universe: Arc<Universe>,
    timeout: Duration,
}

impl std::fmt::Debug for MpiComm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MpiComm")
            .field("rank", &self.rank())
            .field("world_size", &self.world_size())
            .finish()
    }
}

impl MpiComm {
    /// Initializes MPI (once per process).
    ///
    /// # Errors
    /// [`ParallelError::Engine`] if MPI was initialized already.
    pub fn init() -> Result<Self, ParallelError> {
        let universe = mpi::initialize().ok_or_else(|| ParallelError::Engine {
            rank: 0,
            message: "MPI is initialized already (one MpiComm per process)".into(),
        })?;
        Ok(Self {
            _universe: Arc::new(universe),
            timeout: crate::ThreadGroup::DEFAULT_TIMEOUT,
        })
    }

    /// `MPI_COMM_WORLD` (a handle to the predefined communicator: nothing to free; not held,
    /// so that the communicator is `Send` and `Sync`).
    fn world(&self) -> SimpleCommunicator {
        SimpleCommunicator::world()
    }

    /// This process's rank (also [`Communicator::rank`]).
    pub fn rank(&self) -> usize {
        usize::try_from(self.world().rank()).unwrap_or(0)
    }

    /// How many processes the job has (also [`Communicator::world_size`]).
    pub fn world_size(&self) -> usize {
        usize::try_from(self.world().size()).unwrap_or(1)
    }

    /// The same communicator with another limit on one collective step's wait.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Runs `body` on this rank; an error or panic is printed with the rank and aborts the
    /// whole job (`MPI_Abort`), so no other rank waits for this one. Returns `body`'s value.
    pub fn run<T, E: std::fmt::Display>(self, body: impl FnOnce(&Self) -> Result<T, E>) -> T {
        let rank = self.rank();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(&self)));
        let reason = match outcome {
            Ok(Ok(value)) => return value,
            Ok(Err(error)) => error.to_string(),
            Err(_) => "panicked".to_owned(),
        };
        eprintln!("{}", ParallelError::PeerFailed { rank, reason });
        self.world().abort(1)
    }

    /// Runs one blocking MPI call under the watchdog: past the timeout, the process prints
    /// the timeout and exits (MPI calls cannot be interrupted; `mpirun` stops the others).
    fn step<R>(&self, op: &'static str, call: impl FnOnce() -> R) -> R {
        let (done, wait) = mpsc::channel::<()>();
        let (rank, timeout) = (self.rank(), self.timeout);
        let started = Instant::now();
        let watchdog = std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = wait.recv_timeout(timeout) {
                let waited = started.elapsed();
                eprintln!(
                    "{}",
                    ParallelError::Timeout {
                        rank,
                        op,
                        waited,
                        timeout
                    }
                );
                std::process::exit(3);
            }
        });
        let out = call();
        let _ = done.send(());
        let _ = watchdog.join();
        out
    }

    /// Every rank's length agrees, else a [`ParallelError::Length`] on every rank.
    fn same_length(&self, op: &'static str, len: usize) -> Result<(), ParallelError> {
        let mine = [len as i64, -(len as i64)];
        let mut max = [0i64; 2];
        self.step(op, || {
            self.world()
                .all_reduce_into(&mine[..], &mut max[..], SystemOperation::max())
        });
        let (largest, smallest) = (max[0] as usize, (-max[1]) as usize);
        if largest == smallest {
            return Ok(());
        }
        let other = if len == largest { smallest } else { largest };
        Err(ParallelError::Length {
            op,
            rank: self.rank(),
            expected: other,
            actual: len,
        })
    }
}

/// `x`'s values on the host as f32, moved out of the read-back buffer (converted only if the
/// backend's float is another type).
fn host<B: Backend>(x: Tensor<B, 1>) -> Vec<f32> {
    let data = x.into_data();
    match data.dtype {
        burn::tensor::DType::F32 => data.into_vec::<f32>().unwrap_or_default(),
        _ => data.convert::<f32>().into_vec::<f32>().unwrap_or_default(),
    }
}

impl<B: Backend> Communicator<B> for MpiComm {
    fn rank(&self) -> usize {
        MpiComm::rank(self)
    }

    fn world_size(&self) -> usize {
        MpiComm::world_size(self)
    }

    fn all_reduce_mean(&self, x: Tensor<B, 1>) -> Result<Tensor<B, 1>, ParallelError> {
        let device = x.device();
        let len = x.dims()[0];
        self.same_length("all_reduce_mean", len)?;
        let mine = host(x);
        let mut sum = vec![0f32; len];
        self.step("all_reduce_mean", || {
            self.world()
                .all_reduce_into(&mine[..], &mut sum[..], SystemOperation::sum())
        });
        let world = MpiComm::world_size(self) as f32;
        sum.iter_mut().for_each(|s| *s /= world);
        Ok(Tensor::from_data(TensorData::new(sum, [len]), &device))
    }

    fn broadcast(&self, x: Tensor<B, 1>, root: usize) -> Result<Tensor<B, 1>, ParallelError> {
        let world = MpiComm::world_size(self);
        let root = i32::try_from(root)
            .ok()
            .filter(|&r| (r as usize) < world)
            .ok_or_else(|| {
                ParallelError::Config(format!("broadcast from rank {root} in a group of {world}"))
            })?;
        let device = x.device();
        let len = x.dims()[0];
        self.same_length("broadcast", len)?;
        let mut buffer = host(x);
        self.step("broadcast", || {
            self.world()
                .process_at_rank(root)
                .broadcast_into(&mut buffer[..])
        });
        Ok(Tensor::from_data(TensorData::new(buffer, [len]), &device))
    }

    fn barrier(&self, _device: &B::Device) -> Result<(), ParallelError> {
        self.step("barrier", || self.world().barrier());
        Ok(())
    }
}
