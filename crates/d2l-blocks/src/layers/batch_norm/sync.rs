//! Batch statistics over every replica of a data-parallel group: the hook that turns a
//! [`BatchNorm`](super::BatchNorm) into PyTorch's `SyncBatchNorm`.

use std::fmt;
use std::sync::Arc;

use burn::module::{Content, ModuleDisplay, ModuleDisplayDefault};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::BlockError;

/// Sums a tensor over every replica of a data-parallel group, inside the autodiff graph: the
/// gradient that reaches each replica's input is the sum of every replica's gradient of the
/// output — the two all-reduces of PyTorch's `SyncBatchNorm` backward.
///
/// `d2l-parallel` implements it on its communicators (`SyncStats`); a [`BatchNorm`] given one
/// with [`set_sync`](super::BatchNorm::set_sync) normalizes with the statistics of the whole
/// group's batch.
///
/// [`BatchNorm`]: super::BatchNorm
pub trait StatsReducer<B: Backend>: Send + Sync + fmt::Debug {
    /// The element-wise sum of `x` over every replica; every replica calls it in the same
    /// order with the same length.
    ///
    /// # Errors
    /// A [`BlockError::Custom`] when the group fails (a peer died, timed out or disagreed).
    fn all_reduce_sum(&self, x: Tensor<B, 1>) -> Result<Tensor<B, 1>, BlockError>;
}

/// The [`StatsReducer`] a batch norm holds, if any: a module without parameters, cloned with
/// its block (clones share the group) and absent from the `valid()` twin, which evaluates.
pub struct StatsSync<B: Backend> {
    reducer: Option<Arc<dyn StatsReducer<B>>>,
}

impl<B: Backend> StatsSync<B> {
    /// No reducer: per-replica statistics.
    pub const fn none() -> Self {
        Self { reducer: None }
    }

    /// Holds `reducer`, or none.
    pub fn new(reducer: Option<Arc<dyn StatsReducer<B>>>) -> Self {
        Self { reducer }
    }

    /// The reducer, if any.
    pub fn get(&self) -> Option<&dyn StatsReducer<B>> {
        self.reducer.as_deref()
    }
}

impl<B: Backend> Clone for StatsSync<B> {
    fn clone(&self) -> Self {
        Self {
            reducer: self.reducer.clone(),
        }
    }
}

impl<B: Backend> fmt::Debug for StatsSync<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StatsSync").field(&self.reducer).finish()
    }
}

// None in the validation twin: it evaluates with the running statistics.
crate::stateless::stateless_module!(StatsSync, none);

impl<B: Backend> ModuleDisplayDefault for StatsSync<B> {
    fn content(&self, content: Content) -> Option<Content> {
        let text = if self.reducer.is_some() {
            "sync"
        } else {
            "local"
        };
        content.add_formatted(&text).optional()
    }
}

impl<B: Backend> ModuleDisplay for StatsSync<B> {}

/// Per-channel batch statistics of `x` (`[N, C, L]`) over the whole group: the mean and
/// the biased variance as `[1, C, 1]`, `x` centered, and the group's value count. Two
/// all-reduces (the sums, then the squared deviations from the group's mean), so the
/// variance is computed as the single-replica path computes it, not as `E[x²] − E[x]²`.
pub(super) fn group_stats<B: Backend>(
    x: Tensor<B, 3>,
    reducer: &dyn StatsReducer<B>,
) -> Result<GroupStats<B>, BlockError> {
    let [n, c, l] = x.dims();
    let device = x.device();
    let count = Tensor::<B, 1>::from_floats([(n * l) as f32], &device);
    let sums = Tensor::cat(vec![x.clone().sum_dim(2).sum_dim(0).reshape([c]), count], 0);
    let sums = reducer.all_reduce_sum(sums)?;
    let total = sums.clone().slice(c..c + 1).detach();
    // `1 / N` with a constant numerator: exact on every backend (see `inverse_std`).
    let inv_count = total.ones_like() / total.clone();
    let mean = (sums.slice(0..c) * inv_count.clone().expand([c])).reshape([1, c, 1]);
    let centered = x - mean.clone().repeat_dim(0, n);
    let squares = centered.clone().square().sum_dim(2).sum_dim(0).reshape([c]);
    let squares = reducer.all_reduce_sum(squares)?;
    let var = (squares * inv_count.expand([c])).reshape([1, c, 1]);
    let count = total
        .into_data()
        .to_vec::<f32>()
        .ok()
        .and_then(|v| v.first().copied());
    Ok(GroupStats {
        mean,
        var,
        centered,
        count: count.unwrap_or(0.0) as usize,
    })
}

/// What [`group_stats`] returns.
pub(super) struct GroupStats<B: Backend> {
    pub(super) mean: Tensor<B, 3>,
    pub(super) var: Tensor<B, 3>,
    pub(super) centered: Tensor<B, 3>,
    pub(super) count: usize,
}
