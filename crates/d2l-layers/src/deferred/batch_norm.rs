//! [`BatchNormSpec`]: what a `LazyBatchNorm1d` / `LazyBatchNorm2d` will be.

use burn::module::{AutodiffModule, Module};
use burn::tensor::backend::{AutodiffBackend, Backend};
use d2l_blocks::layers::{BatchNorm, py_float};
use serde::{Deserialize, Serialize};

use super::{Deferred, Lazy, weight};

/// What a `LazyBatchNorm1d` (`SPATIAL = 1`) or `LazyBatchNorm2d` (`SPATIAL = 2`) will be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchNormSpec<const SPATIAL: usize> {
    eps: f64,
    momentum: f64,
}

impl<const SPATIAL: usize> Deferred for BatchNormSpec<SPATIAL> {
    type Block<B: Backend> = BatchNorm<B>;

    fn infer(&self, shape: &[usize]) -> Option<usize> {
        let fits = if SPATIAL == 1 {
            matches!(shape.len(), 2 | 3)
        } else {
            shape.len() == SPATIAL + 2
        };
        fits.then(|| shape[1])
    }

    fn inferred<B: Backend>(block: &BatchNorm<B>) -> usize {
        block.num_features()
    }

    fn from_shapes(&self, shapes: &[(String, Vec<usize>)]) -> Option<usize> {
        match weight(shapes)? {
            &[c] => Some(c),
            _ => None,
        }
    }

    fn from_record<B: Backend>(
        &self,
        record: &<BatchNorm<B> as Module<B>>::Record,
    ) -> Option<(usize, B::Device)> {
        let [c] = record.weight.dims();
        Some((c, record.weight.device()))
    }

    fn build<B: Backend>(&self, inferred: usize, device: &B::Device) -> BatchNorm<B> {
        let bn = if SPATIAL == 1 {
            BatchNorm::new_1d(inferred, device)
        } else {
            BatchNorm::new_2d(inferred, device)
        };
        bn.with_eps(self.eps).with_momentum(self.momentum)
    }

    fn lazy_repr(&self) -> String {
        format!(
            "LazyBatchNorm{SPATIAL}d(0, eps={}, momentum={}, affine=True, track_running_stats=True)",
            py_float(self.eps),
            py_float(self.momentum)
        )
    }

    fn pending_shapes(&self) -> Vec<(&'static str, Vec<isize>)> {
        vec![
            ("weight", vec![-1]),
            ("bias", vec![-1]),
            ("running_mean", vec![-1]),
            ("running_var", vec![-1]),
            ("num_batches_tracked", vec![]),
        ]
    }

    fn valid<B: AutodiffBackend>(block: &BatchNorm<B>) -> BatchNorm<B::InnerBackend> {
        block.valid()
    }

    fn from_inner<B: AutodiffBackend>(block: BatchNorm<B::InnerBackend>) -> BatchNorm<B> {
        BatchNorm::from_inner(block)
    }
}

impl<B: Backend, const SPATIAL: usize> Lazy<B, BatchNormSpec<SPATIAL>> {
    /// `LazyBatchNorm1d()` / `LazyBatchNorm2d()`: eps `1e-5`, momentum `0.1`.
    pub fn new() -> Self {
        Self::from_spec(BatchNormSpec {
            eps: 1e-5,
            momentum: 0.1,
        })
    }

    /// With `eps`.
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.spec.eps = eps;
        self
    }

    /// With `momentum`.
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.spec.momentum = momentum;
        self
    }
}

impl<B: Backend, const SPATIAL: usize> Default for Lazy<B, BatchNormSpec<SPATIAL>> {
    fn default() -> Self {
        Self::new()
    }
}
