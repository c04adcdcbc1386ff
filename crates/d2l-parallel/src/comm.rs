//! [`Communicator`]: the few collective operations data-parallel training needs, so that the
//! engine (threads in one process, MPI across machines, NCCL on GPUs) can be swapped.

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::ParallelError;

/// One rank's handle on a group of `world_size` ranks.
///
/// Every rank calls the same operations in the same order with buffers of the same length
/// (as in MPI and PyTorch's `torch.distributed`). An engine turns a peer that failed, or one
/// that never arrives, into an error on the others within a bounded time.
pub trait Communicator<B: Backend> {
    /// This rank, `0..world_size`.
    fn rank(&self) -> usize;

    /// How many ranks the group has.
    fn world_size(&self) -> usize;

    /// The element-wise mean of `x` over all ranks, returned on every rank (an all-reduce
    /// with sum, divided by the world size).
    ///
    /// # Errors
    /// A failed or late peer ([`ParallelError::PeerFailed`], [`ParallelError::Timeout`]) or a
    /// length that differs between ranks.
    fn all_reduce_mean(&self, x: Tensor<B, 1>) -> Result<Tensor<B, 1>, ParallelError>;

    /// `root`'s `x` on every rank; every rank passes a buffer of the same length.
    ///
    /// # Errors
    /// As [`all_reduce_mean`](Self::all_reduce_mean); a `root` outside the group.
    fn broadcast(&self, x: Tensor<B, 1>, root: usize) -> Result<Tensor<B, 1>, ParallelError>;

    /// Returns once every rank has called it.
    ///
    /// # Errors
    /// As [`all_reduce_mean`](Self::all_reduce_mean).
    fn barrier(&self, device: &B::Device) -> Result<(), ParallelError> {
        self.all_reduce_mean(Tensor::zeros([1], device)).map(drop)
    }

    /// Whether this is rank 0, the one that saves checkpoints and prints.
    fn is_main(&self) -> bool {
        self.rank() == 0
    }
}

/// A borrowed communicator is one: a wrapper can take `&comm` while the caller keeps it.
impl<B: Backend, C: Communicator<B> + ?Sized> Communicator<B> for &C {
    fn rank(&self) -> usize {
        (**self).rank()
    }

    fn world_size(&self) -> usize {
        (**self).world_size()
    }

    fn all_reduce_mean(&self, x: Tensor<B, 1>) -> Result<Tensor<B, 1>, ParallelError> {
        (**self).all_reduce_mean(x)
    }

    fn broadcast(&self, x: Tensor<B, 1>, root: usize) -> Result<Tensor<B, 1>, ParallelError> {
        (**self).broadcast(x, root)
    }

    fn barrier(&self, device: &B::Device) -> Result<(), ParallelError> {
        (**self).barrier(device)
    }
}
