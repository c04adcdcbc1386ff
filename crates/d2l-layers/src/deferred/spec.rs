//! The [`Deferred`] specs: lazy convolutions and lazy batch norm, and their builders.

use burn::module::{AutodiffModule, Module};
use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::{PaddingConfig1d, PaddingConfig2d};
use burn::tensor::backend::{AutodiffBackend, Backend};
use d2l_blocks::layers::{BatchNorm, ConvRepr, py_float, tuple};
use serde::{Deserialize, Serialize};

use super::{Deferred, Lazy};

/// The weight's shape among `shapes` (keys relative to the layer).
pub(super) fn weight(shapes: &[(String, Vec<usize>)]) -> Option<&[usize]> {
    shapes
        .iter()
        .find(|(key, _)| key == "weight")
        .map(|(_, shape)| shape.as_slice())
}

/// The channel dimension of a batched (`rank`) or unbatched (`rank - 1`) input.
fn channels(shape: &[usize], rank: usize) -> Option<usize> {
    match shape.len() {
        r if r == rank => shape.get(1).copied(),
        r if r + 1 == rank => shape.first().copied(),
        _ => None,
    }
}

/// What a `LazyConv2d` will be: PyTorch's `LazyConv2d(out_channels, kernel_size, …)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conv2dSpec {
    out: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    bias: bool,
}

impl Conv2dSpec {
    /// `out_channels`.
    pub fn out_channels(&self) -> usize {
        self.out
    }

    /// `stride`.
    pub fn stride(&self) -> [usize; 2] {
        self.stride
    }

    fn repr(&self, name: &str, c_in: usize) -> String {
        ConvRepr {
            name,
            channels: [c_in, self.out],
            kernel: &self.kernel,
            stride: &self.stride,
            padding: self
                .padding
                .iter()
                .any(|&p| p > 0)
                .then(|| tuple(&self.padding)),
            dilation: &self.dilation,
            output_padding: &[],
            groups: self.groups,
            bias: self.bias,
        }
        .render()
    }
}

impl Deferred for Conv2dSpec {
    type Block<B: Backend> = Conv2d<B>;

    fn infer(&self, shape: &[usize]) -> Option<usize> {
        channels(shape, 4).filter(|c| c % self.groups == 0)
    }

    fn inferred<B: Backend>(block: &Conv2d<B>) -> usize {
        block.weight.dims()[1] * block.groups
    }

    fn from_shapes(&self, shapes: &[(String, Vec<usize>)]) -> Option<usize> {
        match weight(shapes)? {
            &[out, c, kh, kw] if out == self.out && [kh, kw] == self.kernel => {
                Some(c * self.groups)
            }
            _ => None,
        }
    }

    fn from_record<B: Backend>(
        &self,
        record: &<Conv2d<B> as Module<B>>::Record,
    ) -> Option<(usize, B::Device)> {
        let [out, c, kh, kw] = record.weight.dims();
        (out == self.out && [kh, kw] == self.kernel)
            .then(|| (c * self.groups, record.weight.device()))
    }

    fn build<B: Backend>(&self, inferred: usize, device: &B::Device) -> Conv2d<B> {
        let [ph, pw] = self.padding;
        Conv2dConfig::new([inferred, self.out], self.kernel)
            .with_stride(self.stride)
            .with_padding(PaddingConfig2d::Explicit(ph, pw, ph, pw))
            .with_dilation(self.dilation)
            .with_groups(self.groups)
            .with_bias(self.bias)
            .init(device)
    }

    fn lazy_repr(&self) -> String {
        self.repr("LazyConv2d", 0)
    }

    fn pending_shapes(&self) -> Vec<(&'static str, Vec<isize>)> {
        let [kh, kw] = self.kernel.map(|k| k as isize);
        let out = self.out as isize;
        let mut shapes = vec![("weight", vec![out, -1, kh, kw])];
        if self.bias {
            shapes.push(("bias", vec![out]));
        }
        shapes
    }

    fn valid<B: AutodiffBackend>(block: &Conv2d<B>) -> Conv2d<B::InnerBackend> {
        block.valid()
    }

    fn from_inner<B: AutodiffBackend>(block: Conv2d<B::InnerBackend>) -> Conv2d<B> {
        Conv2d::from_inner(block)
    }
}

/// What a `LazyConv1d` will be: PyTorch's `LazyConv1d(out_channels, kernel_size, …)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conv1dSpec {
    out: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
    groups: usize,
    bias: bool,
}

impl Deferred for Conv1dSpec {
    type Block<B: Backend> = Conv1d<B>;

    fn infer(&self, shape: &[usize]) -> Option<usize> {
        channels(shape, 3).filter(|c| c % self.groups == 0)
    }

    fn inferred<B: Backend>(block: &Conv1d<B>) -> usize {
        block.weight.dims()[1] * block.groups
    }

    fn from_shapes(&self, shapes: &[(String, Vec<usize>)]) -> Option<usize> {
        match weight(shapes)? {
            &[out, c, k] if out == self.out && k == self.kernel => Some(c * self.groups),
            _ => None,
        }
    }

    fn from_record<B: Backend>(
        &self,
        record: &<Conv1d<B> as Module<B>>::Record,
    ) -> Option<(usize, B::Device)> {
        let [out, c, k] = record.weight.dims();
        (out == self.out && k == self.kernel).then(|| (c * self.groups, record.weight.device()))
    }

    fn build<B: Backend>(&self, inferred: usize, device: &B::Device) -> Conv1d<B> {
        Conv1dConfig::new(inferred, self.out, self.kernel)
            .with_stride(self.stride)
            .with_padding(PaddingConfig1d::Explicit(self.padding, self.padding))
            .with_dilation(self.dilation)
            .with_groups(self.groups)
            .with_bias(self.bias)
            .init(device)
    }

    fn lazy_repr(&self) -> String {
        ConvRepr {
            name: "LazyConv1d",
            channels: [0, self.out],
            kernel: &[self.kernel],
            stride: &[self.stride],
            padding: (self.padding > 0).then(|| tuple(&[self.padding])),
            dilation: &[self.dilation],
            output_padding: &[],
            groups: self.groups,
            bias: self.bias,
        }
        .render()
    }

    fn pending_shapes(&self) -> Vec<(&'static str, Vec<isize>)> {
        let out = self.out as isize;
        let mut shapes = vec![("weight", vec![out, -1, self.kernel as isize])];
        if self.bias {
            shapes.push(("bias", vec![out]));
        }
        shapes
    }

    fn valid<B: AutodiffBackend>(block: &Conv1d<B>) -> Conv1d<B::InnerBackend> {
        block.valid()
    }

    fn from_inner<B: AutodiffBackend>(block: Conv1d<B::InnerBackend>) -> Conv1d<B> {
        Conv1d::from_inner(block)
    }
}

/// The builder of a lazy convolution of spec `$spec`, whose per-dimension sizes are `$size`
/// (`usize` for 1-d, `[usize; 2]` for 2-d): PyTorch's keyword arguments, one method each.
macro_rules! conv_builder {
    ($spec:ident, $size:ty, $one:expr, $zero:expr, $doc:literal) => {
        impl<B: Backend> Lazy<B, $spec> {
            #[doc = $doc]
            pub fn new(out_channels: usize, kernel_size: $size) -> Self {
                Self::from_spec($spec {
                    out: out_channels,
                    kernel: kernel_size,
                    stride: $one,
                    padding: $zero,
                    dilation: $one,
                    groups: 1,
                    bias: true,
                })
            }

            /// With `stride`.
            pub fn with_stride(mut self, stride: $size) -> Self {
                self.spec.stride = stride;
                self
            }

            /// With zero `padding` on each side, per spatial dimension.
            pub fn with_padding(mut self, padding: $size) -> Self {
                self.spec.padding = padding;
                self
            }

            /// With `dilation`.
            pub fn with_dilation(mut self, dilation: $size) -> Self {
                self.spec.dilation = dilation;
                self
            }

            /// With `groups` (must divide the inferred channels and `out_channels`).
            pub fn with_groups(mut self, groups: usize) -> Self {
                self.spec.groups = groups.max(1);
                self
            }

            /// Without a bias (`bias=False`).
            pub fn without_bias(mut self) -> Self {
                self.spec.bias = false;
                self
            }
        }
    };
}

conv_builder!(
    Conv2dSpec,
    [usize; 2],
    [1, 1],
    [0, 0],
    "`LazyConv2d(out_channels, kernel_size)`: stride 1, no padding, a bias."
);
conv_builder!(
    Conv1dSpec,
    usize,
    1,
    0,
    "`LazyConv1d(out_channels, kernel_size)`: stride 1, no padding, a bias."
);

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
