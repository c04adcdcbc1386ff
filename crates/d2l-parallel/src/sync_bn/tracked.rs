//! The all-reduce the autodiff graph sees through: a Burn backward op of our own, the way
//! Burn's own differentiable collectives are written (`burn-autodiff`'s `ops/distributed.rs`).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use burn::backend::Autodiff;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorPrimitive};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind, unary};

use crate::{Communicator, ParallelError};

/// The group's element-wise sum of a flat buffer on backend `B`, and the first failure a
/// backward pass met (a backward step cannot return an error; the next forward does).
#[derive(Clone)]
pub struct GroupSum<B: Backend> {
    sum: Arc<dyn Fn(Tensor<B, 1>) -> Result<Tensor<B, 1>, ParallelError> + Send + Sync>,
    failure: Arc<Mutex<Option<ParallelError>>>,
}

impl<B: Backend> fmt::Debug for GroupSum<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupSum")
            .field("failure", &self.failure.lock().map(|f| f.clone()).ok())
            .finish_non_exhaustive()
    }
}

impl<B: Backend> GroupSum<B> {
    /// The sum over `comm`'s group: its mean times the world size (exact for a power-of-two
    /// world; otherwise within one rounding).
    pub fn new<C: Communicator<B> + Send + Sync + 'static>(comm: Arc<C>) -> Self {
        let sum = move |x: Tensor<B, 1>| {
            let k = comm.world_size();
            comm.all_reduce_mean(x)
                .map(|mean| mean.mul_scalar(k as f64))
        };
        Self {
            sum: Arc::new(sum),
            failure: Arc::new(Mutex::new(None)),
        }
    }

    /// The sum; refused once a backward pass failed.
    pub fn call(&self, x: Tensor<B, 1>) -> Result<Tensor<B, 1>, ParallelError> {
        if let Some(failure) = self.failure() {
            return Err(failure);
        }
        (self.sum)(x)
    }

    /// The failure a backward pass met, if any.
    pub fn failure(&self) -> Option<ParallelError> {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn record(&self, error: ParallelError) {
        let mut slot = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        slot.get_or_insert(error);
    }
}

/// An autodiff backend whose graph can hold a group all-reduce: the sum's gradient is the
/// group's sum of the gradients, which is what makes the statistics of `SyncBatchNorm`
/// differentiable across replicas (PyTorch all-reduces `sum_dy` and `sum_dy_xmu` in its
/// backward; this is the same sums, derived by the graph).
///
/// Implemented for Burn's [`Autodiff`] over any backend.
pub trait SyncBackend: AutodiffBackend {
    /// `x` summed over the group, tracked by the graph.
    ///
    /// # Errors
    /// The group's failure (a peer died, timed out or disagreed on the length).
    fn all_reduce_sum(
        x: Tensor<Self, 1>,
        group: &GroupSum<Self::InnerBackend>,
    ) -> Result<Tensor<Self, 1>, ParallelError>;
}

#[derive(Debug)]
struct AllReduceSum;

impl<B: Backend> Backward<B, 1> for AllReduceSum {
    type State = GroupSum<B>;

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let group = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            let local = Tensor::<B, 1>::from_primitive(TensorPrimitive::Float(grad));
            match group.call(local.clone()) {
                Ok(sum) => sum.into_primitive().tensor(),
                Err(error) => {
                    // The next collective of every rank fails too (the group is reset);
                    // keep the local gradient so this pass ends.
                    group.record(error);
                    local.into_primitive().tensor()
                }
            }
        });
    }
}

impl<B: Backend, C: CheckpointStrategy> SyncBackend for Autodiff<B, C> {
    fn all_reduce_sum(
        x: Tensor<Self, 1>,
        group: &GroupSum<B>,
    ) -> Result<Tensor<Self, 1>, ParallelError> {
        let tensor = x.into_primitive().tensor();
        let local = Tensor::<B, 1>::from_primitive(TensorPrimitive::Float(tensor.primitive));
        let sum = group.call(local)?.into_primitive().tensor();
        let output = match AllReduceSum
            .prepare::<C>([tensor.node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(group.clone(), sum),
            OpsKind::UnTracked(prep) => prep.finish(sum),
        };
        Ok(Tensor::from_primitive(TensorPrimitive::Float(output)))
    }
}
