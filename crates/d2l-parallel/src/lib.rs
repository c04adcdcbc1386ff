//! Data-parallel training for d2l-burn: D2L §13.5–§13.6 ("Training on Multiple GPUs") with
//! PyTorch's `DistributedDataParallel` semantics, on Burn.
//!
//! - [`Communicator`]: rank, world size, all-reduce-mean, broadcast, barrier — the engine is
//!   swappable.
//! - [`ThreadGroup`]: one peer per thread and device in one process, on burn-collective; a
//!   failed, finished-early or late peer is an error on the others, never a hang.
//! - `MpiComm` (feature `mpi`): across processes and machines on MPI, launched by `mpirun`;
//!   a failed or late rank ends the job with its error.
//! - [`DistributedDataParallel`]: replicas start from rank 0's parameters and buffers, one
//!   bucketed all-reduce of the averaged gradients per step, buffers broadcast from rank 0
//!   (PyTorch's `broadcast_buffers`), models that differ across ranks refused with the first
//!   differing key.
//! - [`convert_sync_batchnorm`]: PyTorch's `SyncBatchNorm` — batch statistics over every
//!   rank's batch, their gradients summed across ranks by a backward op of the autodiff graph
//!   ([`SyncBackend`]), so `k` ranks normalize as one rank on the whole batch.
//! - [`DistributedSampler`]: each epoch's indices sharded by rank, as PyTorch's.
//! - [`split_batch`]: the book's `split_batch` (§13.5).
//!
//! ```
//! use burn::backend::{Autodiff, NdArray};
//! use burn::nn::LinearConfig;
//! use burn::optim::{GradientsParams, Optimizer, SgdConfig};
//! use burn::tensor::Tensor;
//! use d2l_blocks::Sequential;
//! use d2l_params::Parameters;
//! use d2l_parallel::{DistributedDataParallel, ParallelError, ThreadGroup};
//!
//! type B = Autodiff<NdArray>;
//! let devices = vec![Default::default(); 2];
//! let weights = ThreadGroup::new(2).unwrap().run::<NdArray, _, _, ParallelError>(&devices, |comm| {
//!     let device = comm.device().clone();
//!     // Each rank builds its own replica; rank 0's weights win.
//!     let net = Sequential::<B>::new().add(LinearConfig::new(2, 1).init(&device));
//!     let (ddp, mut net) = DistributedDataParallel::new(comm, net)?;
//!     let x = Tensor::<B, 2>::ones([4, 2], &device) * (ddp.rank() + 1) as f32;
//!     let loss = net.forward_tensor::<2, 2>(x).unwrap().mean();
//!     let grads = ddp.average_gradients(&net, GradientsParams::from_grads(loss.backward(), &net))?;
//!     net = SgdConfig::new().init().step(0.1, net, grads);
//!     Ok(net.param("0.weight").unwrap().data().to_vec::<f32>().unwrap())
//! }).unwrap();
//! // Every replica took the same step.
//! assert_eq!(weights[0], weights[1]);
//! ```

mod comm;
mod ddp;
mod error;
#[cfg(feature = "mpi")]
mod mpi_comm;
mod sampler;
mod split;
mod sync_bn;
mod threads;

pub use comm::Communicator;
pub use ddp::DistributedDataParallel;
pub use error::ParallelError;
#[cfg(feature = "mpi")]
pub use mpi_comm::MpiComm;
pub use sampler::DistributedSampler;
pub use split::split_batch;
pub use sync_bn::{GroupSum, SyncBackend, SyncStats, convert_sync_batchnorm};
pub use threads::{ThreadComm, ThreadGroup};
