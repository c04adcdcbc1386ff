//! [`BatchNorm`]: PyTorch's `BatchNorm1d` / `BatchNorm2d`, with its buffers and its statistics.

use burn::module::{Module, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

mod sync;

pub use sync::{StatsReducer, StatsSync};

use super::check::{self, py_float};
use crate::mode::Mode;
use crate::{Activation, BlockError, Buffer, Forward, impl_block, tensor};

/// Batch normalization over the channel dimension (D2L §8.5): PyTorch's `BatchNorm1d`
/// (`[N, C]` or `[N, C, L]`) and `BatchNorm2d` (`[N, C, H, W]`).
///
/// Not Burn's `BatchNorm`, whose state and statistics differ from PyTorch's: here the keys are
/// PyTorch's (`weight`, `bias`, and the buffers `running_mean`, `running_var`,
/// `num_batches_tracked`), the running variance is updated with the **unbiased** batch
/// variance, and `num_batches_tracked` counts training batches — so a network trained here
/// evaluates in PyTorch to the same outputs, and a PyTorch checkpoint loads strictly.
///
/// Training or evaluation follows its own [`Mode`] ([`mode`](crate::mode): `train()` /
/// `eval()` on it or on any block above it), else the backend (`Autodiff` trains).
/// `num_batches_tracked` is held as a float `[1]` (exact to 2²⁴ batches) and exchanged as
/// PyTorch's int64 scalar ([`path::is_torch_scalar`](crate::path::is_torch_scalar)).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_blocks::{Forward, Sequential, layers::BatchNorm};
///
/// let device = Default::default();
/// let mut net = Sequential::<NdArray>::new().add(BatchNorm::new_1d(2, &device));
/// assert_eq!(
///     net.to_string(),
///     "Sequential(\n  (0): BatchNorm1d(2, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n)"
/// );
/// net.train();
/// let x = Tensor::<NdArray, 2>::from_floats([[1.0, 2.0], [3.0, 6.0]], &device);
/// let y = net.forward(x).unwrap();
/// assert!((y.into_data().to_vec::<f32>().unwrap()[0] + 1.0).abs() < 1e-4); // (1 - 2) / 1
/// let bn = net.child::<BatchNorm<NdArray>>(0).unwrap();
/// // Unbiased batch variances 2 and 8, momentum 0.1: 0.9 · 1 + 0.1 · [2, 8].
/// let var = bn.running_var.value().into_data().to_vec::<f32>().unwrap();
/// assert!((var[0] - 1.1).abs() < 1e-6 && (var[1] - 1.7).abs() < 1e-6);
/// ```
#[derive(Module, Debug)]
pub struct BatchNorm<B: Backend> {
    /// The scale γ, `[C]` (PyTorch's `weight`).
    pub weight: Param<Tensor<B, 1>>,
    /// The shift β, `[C]` (PyTorch's `bias`).
    pub bias: Param<Tensor<B, 1>>,
    /// The running mean, `[C]` (a buffer).
    pub running_mean: Buffer<B, 1>,
    /// The running (unbiased) variance, `[C]` (a buffer).
    pub running_var: Buffer<B, 1>,
    /// Training batches seen, `[1]` (a buffer; PyTorch's int64 scalar).
    pub num_batches_tracked: Buffer<B, 1>,
    eps: f64,
    momentum: f64,
    /// 1 for `BatchNorm1d`, 2 for `BatchNorm2d`.
    spatial: usize,
    training: Mode<B>,
    sync: StatsSync<B>,
}

impl<B: Backend> BatchNorm<B> {
    /// PyTorch's `BatchNorm1d(num_features)`: γ = 1, β = 0, running mean 0 and variance 1.
    pub fn new_1d(num_features: usize, device: &B::Device) -> Self {
        Self::new(num_features, 1, device)
    }

    /// PyTorch's `BatchNorm2d(num_features)`.
    pub fn new_2d(num_features: usize, device: &B::Device) -> Self {
        Self::new(num_features, 2, device)
    }

    fn new(num_features: usize, spatial: usize, device: &B::Device) -> Self {
        let ones = || Tensor::ones([num_features], device);
        let zeros = || Tensor::zeros([num_features], device);
        Self {
            weight: Param::from_tensor(ones()),
            bias: Param::from_tensor(zeros()),
            running_mean: Buffer::new(zeros()),
            running_var: Buffer::new(ones()),
            num_batches_tracked: Buffer::new(Tensor::zeros([1], device)),
            eps: 1e-5,
            momentum: 0.1,
            spatial,
            training: Mode::unset(),
            sync: StatsSync::none(),
        }
    }

    /// With `eps` added to the variance (PyTorch's default `1e-5`).
    pub fn with_eps(mut self, eps: f64) -> Self {
        self.eps = eps;
        self
    }

    /// With `momentum` for the running statistics (PyTorch's default `0.1`).
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// The number of channels.
    pub fn num_features(&self) -> usize {
        self.weight.dims()[0]
    }

    /// 1 for `BatchNorm1d`, 2 for `BatchNorm2d`.
    pub fn spatial_dims(&self) -> usize {
        self.spatial
    }

    /// The `eps` added to the variance.
    pub fn eps(&self) -> f64 {
        self.eps
    }

    /// The momentum of the running statistics.
    pub fn momentum(&self) -> f64 {
        self.momentum
    }

    /// Training statistics over every replica of a data-parallel group (`Some`), PyTorch's
    /// `SyncBatchNorm`, or over this replica's batch (`None`, the default). The module then
    /// prints as `SyncBatchNorm`; its state (keys, shapes) is a `BatchNorm`'s, so checkpoints
    /// move between the two. Evaluation uses the running statistics either way.
    pub fn set_sync(&mut self, reducer: Option<std::sync::Arc<dyn StatsReducer<B>>>) {
        self.sync = StatsSync::new(reducer);
    }

    /// Whether training statistics are the group's ([`set_sync`](Self::set_sync)).
    pub fn is_sync(&self) -> bool {
        self.sync.get().is_some()
    }

    /// Normalizes `x`, viewed as `[N, C, L]`, with batch statistics (updating the running
    /// ones) or with the running ones.
    ///
    /// Formulated for the CPU backends' fast paths: every reduction runs over the inner axis
    /// `L` first, and every per-channel operand is repeated to `[N, C, 1]` (one value per row)
    /// before it meets `[N, C, L]` — burn-flex has a fast kernel for that broadcast, not for a
    /// `[1, C, 1]` one, and neither does autodiff's backward of a reduction over an outer axis.
    /// The output is PyTorch's CPU formulation, `x · α + β` per channel with
    /// `α = γ / √(σ² + ε)`; the values equal the textbook order's to float rounding.
    fn normalize(&self, x: Tensor<B, 3>, training: bool) -> Result<Tensor<B, 3>, BlockError> {
        let [n, c, l] = x.dims();
        let rows = |t: Tensor<B, 3>| t.repeat_dim(0, n);
        let weight = self.weight.val().reshape([1, c, 1]);
        let bias = self.bias.val().reshape([1, c, 1]);
        if !training {
            let mean = self.running_mean.value().reshape([1, c, 1]);
            let scale = inverse_std(self.running_var.value().reshape([1, c, 1]), self.eps) * weight;
            let shift = bias - mean * scale.clone();
            return Ok(x * rows(scale) + rows(shift));
        }
        let (mean, var, centered, count) = match self.sync.get() {
            Some(reducer) => {
                let stats = sync::group_stats(x, reducer)?;
                if stats.count <= 1 {
                    return Err(BlockError::SingleValue {
                        path: String::new(),
                        actual: vec![n, c, l],
                    });
                }
                (stats.mean, stats.var, stats.centered, stats.count)
            }
            None => {
                let mean = x.clone().mean_dim(2).mean_dim(0);
                let centered = x - rows(mean.clone());
                let var = centered.clone().square().mean_dim(2).mean_dim(0);
                (mean, var, centered, n * l)
            }
        };
        let m = self.momentum;
        let unbiased = count as f64 / (count - 1) as f64;
        let batch_mean = mean.detach().reshape([c]);
        let batch_var = var.clone().detach().reshape([c]).mul_scalar(unbiased);
        self.running_mean
            .set(self.running_mean.value().mul_scalar(1.0 - m) + batch_mean.mul_scalar(m));
        self.running_var
            .set(self.running_var.value().mul_scalar(1.0 - m) + batch_var.mul_scalar(m));
        self.num_batches_tracked
            .set(self.num_batches_tracked.value().add_scalar(1.0));
        let scale = inverse_std(var, self.eps) * weight;
        Ok(centered * rows(scale) + rows(bias))
    }
}

/// `1 / √(var + ε)`, as `ones / σ`: the gradient of a division by a tensor is `grad ·
/// recip(σ)`, and ndarray's SIMD `recip` (≥ 32 values) is the CPU's approximate reciprocal
/// (`rcpps`: up to 3·10⁻⁴ relative error; `rcp14`: 3·10⁻⁵). A division whose numerator is a
/// constant needs no `recip` either way, so both passes stay exact.
fn inverse_std<B: Backend>(var: Tensor<B, 3>, eps: f64) -> Tensor<B, 3> {
    let std = var.add_scalar(eps).sqrt();
    std.ones_like() / std
}

impl<B: Backend> Forward<B> for BatchNorm<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let shape = x.shape();
        let ranks = if self.spatial == 1 { 2..=3 } else { 4..=4 };
        if !ranks.contains(&shape.len()) {
            return Err(BlockError::Rank {
                path: String::new(),
                expected: self.spatial + 2,
                actual: shape,
            });
        }
        check::channels(self.num_features(), &shape)?;
        check::device::<B>(&self.weight.device(), &x.device())?;
        let training = self.training.resolve(&x.device());
        let (n, c) = (shape[0], shape[1]);
        let l: usize = shape[2..].iter().product();
        let sync = training && self.is_sync();
        if training && !sync && n * l == 1 {
            // PyTorch's "Expected more than 1 value per channel when training".
            return Err(BlockError::SingleValue {
                path: String::new(),
                actual: shape,
            });
        }
        if n * c * l == 0 && !sync {
            // PyTorch counts an empty training batch and leaves the statistics alone.
            if training {
                let tracked = self.num_batches_tracked.value();
                self.num_batches_tracked.set(tracked.add_scalar(1.0));
            }
            return Ok(x);
        }
        let x3 = Tensor::<B, 3>::from_primitive(tensor::reshape(x.into_primitive(), &[n, c, l]));
        let y = self.normalize(x3, training)?;
        Ok(Activation::from_primitive(tensor::reshape(
            y.into_primitive(),
            &shape,
        )))
    }

    fn set_training(&mut self, training: bool) {
        self.training.set(training);
    }

    fn mode(&self) -> Option<bool> {
        self.training.get()
    }

    fn repr(&self) -> String {
        format!(
            "{}({}, eps={}, momentum={}, affine=True, track_running_stats=True)",
            if self.is_sync() {
                "SyncBatchNorm".to_string()
            } else {
                format!("BatchNorm{}d", self.spatial)
            },
            self.num_features(),
            py_float(self.eps),
            py_float(self.momentum)
        )
    }
}
impl_block!(BatchNorm<B>);
