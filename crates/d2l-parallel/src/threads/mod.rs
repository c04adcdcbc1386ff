//! [`ThreadGroup`]: one peer per thread (and device) in one process, on burn-collective — the
//! setting of D2L §13.5–§13.6, several devices driven from one program.

mod watchdog;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorPrimitive};
use burn_collective::{CollectiveConfig, PeerId, ReduceOperation};

use crate::{Communicator, ParallelError};
use watchdog::{State, watch};

/// burn-collective keeps one server per backend in the process: one group at a time.
static ONE_GROUP: Mutex<()> = Mutex::new(());

/// A group of `world_size` peers, each a thread driving one device, that communicate through
/// burn-collective (Burn's in-process all-reduce and broadcast).
///
/// [`run`](Self::run) starts the peers, hands each a [`ThreadComm`], and returns every peer's
/// result in rank order. A peer that returns an error or panics makes the others fail at their
/// next collective step ([`ParallelError::PeerFailed`]); a step that waits longer than the
/// group's timeout fails with [`ParallelError::Timeout`]. Groups run one at a time in a
/// process (burn-collective's server is process-wide); a second `run` waits for the first.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_parallel::{Communicator, ThreadGroup};
///
/// let devices = vec![Default::default(); 2];
/// let means = ThreadGroup::new(2)
///     .unwrap()
///     .run::<NdArray, _, _, d2l_parallel::ParallelError>(&devices, |comm| {
///         let mine = Tensor::<NdArray, 1>::from_floats([comm.rank() as f32, 10.0], &devices[0]);
///         let mean = comm.all_reduce_mean(mine)?;
///         Ok(mean.into_data().to_vec::<f32>().unwrap())
///     })
///     .unwrap();
/// assert_eq!(means, [vec![0.5, 10.0], vec![0.5, 10.0]]);
/// ```
#[derive(Debug, Clone)]
pub struct ThreadGroup {
    world_size: usize,
    timeout: Duration,
}

impl ThreadGroup {
    /// The default limit on one collective step's wait for its peers.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

    /// A group of `world_size` peers (at least one).
    ///
    /// # Errors
    /// [`ParallelError::Config`] for a world size of zero.
    pub fn new(world_size: usize) -> Result<Self, ParallelError> {
        if world_size == 0 {
            return Err(ParallelError::Config(
                "a group needs at least one rank".into(),
            ));
        }
        Ok(Self {
            world_size,
            timeout: Self::DEFAULT_TIMEOUT,
        })
    }

    /// The same group with another limit on one collective step's wait (PyTorch's
    /// `init_process_group(timeout=…)`).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many peers the group has.
    pub fn world_size(&self) -> usize {
        self.world_size
    }

    /// Runs `peer` once per rank, each on its own thread with `devices[rank]`, and returns the
    /// results in rank order.
    ///
    /// # Errors
    /// [`ParallelError::Config`] if `devices` does not have one device per rank; otherwise the
    /// first failure: a peer's own error (a [`ParallelError`] as it is, any other as
    /// [`ParallelError::PeerFailed`] naming its rank and message), a panic, or a timeout.
    pub fn run<B, T, F, E>(&self, devices: &[B::Device], peer: F) -> Result<Vec<T>, ParallelError>
    where
        B: Backend,
        T: Send,
        E: std::fmt::Display + 'static,
        F: Fn(ThreadComm<B>) -> Result<T, E> + Sync,
    {
        if devices.len() != self.world_size {
            return Err(ParallelError::Config(format!(
                "{} devices for a group of {} ranks",
                devices.len(),
                self.world_size
            )));
        }
        let _one = ONE_GROUP.lock().unwrap_or_else(PoisonError::into_inner);
        burn_collective::reset_collective::<B>();
        let state = Arc::new(State::new(self.world_size));
        let config = CollectiveConfig::default().with_num_devices(self.world_size);
        let results: Vec<Result<T, ParallelError>> = std::thread::scope(|scope| {
            let watcher = scope.spawn(|| watch::<B>(&state, self.timeout));
            let handles: Vec<_> = devices
                .iter()
                .enumerate()
                .map(|(rank, device)| {
                    let comm = ThreadComm {
                        rank,
                        world_size: self.world_size,
                        device: device.clone(),
                        state: state.clone(),
                        timeout: self.timeout,
                    };
                    let (peer, config) = (&peer, config.clone());
                    scope.spawn(move || {
                        let state = comm.state.clone();
                        let outcome = catch_unwind(AssertUnwindSafe(|| {
                            comm.register(config)?;
                            peer(comm).map_err(|e| as_parallel(rank, e))
                        }))
                        .unwrap_or_else(|panic| {
                            Err(ParallelError::PeerFailed {
                                rank,
                                reason: format!("panicked: {}", panic_message(&*panic)),
                            })
                        });
                        state.finish(rank, outcome.as_ref().err());
                        outcome
                    })
                })
                .collect();
            let results = handles
                .into_iter()
                .enumerate()
                .map(|(rank, h)| {
                    h.join().unwrap_or_else(|_| {
                        Err(ParallelError::PeerFailed {
                            rank,
                            reason: "its thread was lost".into(),
                        })
                    })
                })
                .collect();
            state.close();
            let _ = watcher.join();
            results
        });
        burn_collective::reset_collective::<B>();
        if let Some(first) = state.first_failure() {
            return Err(first);
        }
        results.into_iter().collect()
    }
}

/// One peer's [`Communicator`] in a [`ThreadGroup`].
#[derive(Debug)]
pub struct ThreadComm<B: Backend> {
    rank: usize,
    world_size: usize,
    device: B::Device,
    state: Arc<State>,
    timeout: Duration,
}

impl<B: Backend> ThreadComm<B> {
    /// The device this peer drives.
    pub fn device(&self) -> &B::Device {
        &self.device
    }

    fn peer(&self) -> PeerId {
        PeerId::from(u32::try_from(self.rank).unwrap_or(u32::MAX))
    }

    fn register(&self, config: CollectiveConfig) -> Result<(), ParallelError> {
        let device = self.device.clone();
        self.step("register", 0, || {
            burn_collective::register::<B>(self.peer(), device, config)
        })
    }

    /// Runs one collective step: refused at once after a peer failed; timed by the watchdog.
    fn step<R>(
        &self,
        op: &'static str,
        len: usize,
        call: impl FnOnce() -> Result<R, burn_collective::CollectiveError>,
    ) -> Result<R, ParallelError> {
        if let Some(failure) = self.state.failure_seen_by(self.rank) {
            return Err(failure);
        }
        let started = Instant::now();
        self.state.enter(self.rank, op, len);
        let result = call();
        self.state.leave(self.rank);
        result.map_err(|error| {
            if let Some(failure) = self.state.failure_seen_by(self.rank) {
                return match failure {
                    ParallelError::Timeout { .. } => ParallelError::Timeout {
                        rank: self.rank,
                        op,
                        waited: started.elapsed(),
                        timeout: self.timeout,
                    },
                    other => other,
                };
            }
            // A length that differs between ranks: burn-collective fails the step (one rank
            // learns why, the other sees its reply dropped); both are told the lengths.
            match self.state.other_len(self.rank) {
                Some(other) => ParallelError::Length {
                    op,
                    rank: self.rank,
                    expected: other,
                    actual: len,
                },
                None => ParallelError::Engine {
                    rank: self.rank,
                    message: format!("{error:?}"),
                },
            }
        })
    }
}

fn float<B: Backend>(x: Tensor<B, 1>) -> B::FloatTensorPrimitive {
    x.into_primitive().tensor()
}

impl<B: Backend> Communicator<B> for ThreadComm<B> {
    fn rank(&self) -> usize {
        self.rank
    }

    fn world_size(&self) -> usize {
        self.world_size
    }

    fn all_reduce_mean(&self, x: Tensor<B, 1>) -> Result<Tensor<B, 1>, ParallelError> {
        let len = x.dims()[0];
        if self.world_size == 1 {
            return Ok(x);
        }
        let y = self.step("all_reduce_mean", len, || {
            burn_collective::all_reduce::<B>(self.peer(), float(x), ReduceOperation::Mean)
        })?;
        Ok(Tensor::from_primitive(TensorPrimitive::Float(y)))
    }

    fn broadcast(&self, x: Tensor<B, 1>, root: usize) -> Result<Tensor<B, 1>, ParallelError> {
        if root >= self.world_size {
            return Err(ParallelError::Config(format!(
                "broadcast from rank {root} in a group of {}",
                self.world_size
            )));
        }
        let len = x.dims()[0];
        if self.world_size == 1 {
            return Ok(x);
        }
        let mine = (root == self.rank).then(|| float(x));
        let y = self.step("broadcast", len, || {
            burn_collective::broadcast::<B>(self.peer(), mine)
        })?;
        let y: Tensor<B, 1> = Tensor::from_primitive(TensorPrimitive::Float(y));
        if y.dims()[0] != len {
            return Err(ParallelError::Length {
                op: "broadcast",
                rank: self.rank,
                expected: y.dims()[0],
                actual: len,
            });
        }
        Ok(y)
    }
}

/// A peer's error: a [`ParallelError`] as it is, any other as [`ParallelError::PeerFailed`].
fn as_parallel<E: std::fmt::Display + 'static>(rank: usize, error: E) -> ParallelError {
    match (&error as &dyn std::any::Any).downcast_ref::<ParallelError>() {
        Some(error) => error.clone(),
        None => ParallelError::PeerFailed {
            rank,
            reason: error.to_string(),
        },
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic".into())
}
