//! The [`Deferred`] specs of the lazy convolutions — Burn's `Conv1dConfig` / `Conv2dConfig`
//! less the input channels — and their builders.

use burn::module::{AutodiffModule, Module};
use burn::nn::Initializer;
use burn::nn::conv::{Conv1d, Conv1dConfig, Conv2d, Conv2dConfig};
use burn::nn::{PaddingConfig1d, PaddingConfig2d};
use burn::tensor::backend::{AutodiffBackend, Backend};
use d2l_blocks::layers::{ConvRepr, padding_1d, padding_2d};
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
    padding: PaddingConfig2d,
    dilation: [usize; 2],
    groups: usize,
    bias: bool,
    initializer: Initializer,
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
            padding: padding_2d(&self.padding, self.kernel, self.dilation).0,
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
        channels(shape, 4).filter(|c| self.groups_divide(*c))
    }

    fn inferred<B: Backend>(block: &Conv2d<B>) -> usize {
        block.weight.dims()[1] * block.groups
    }

    fn from_shapes(&self, shapes: &[(String, Vec<usize>)]) -> Option<usize> {
        match weight(shapes)? {
            &[out, c, kh, kw]
                if out == self.out
                    && [kh, kw] == self.kernel
                    && self.groups_divide(c * self.groups) =>
            {
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
        (out == self.out && [kh, kw] == self.kernel && self.groups_divide(c * self.groups))
            .then(|| (c * self.groups, record.weight.device()))
    }

    fn build<B: Backend>(&self, inferred: usize, device: &B::Device) -> Conv2d<B> {
        Conv2dConfig::new([inferred, self.out], self.kernel)
            .with_stride(self.stride)
            .with_padding(self.padding.clone())
            .with_initializer(self.initializer.clone())
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
    padding: PaddingConfig1d,
    dilation: usize,
    groups: usize,
    bias: bool,
    initializer: Initializer,
}

impl Deferred for Conv1dSpec {
    type Block<B: Backend> = Conv1d<B>;

    fn infer(&self, shape: &[usize]) -> Option<usize> {
        channels(shape, 3).filter(|c| self.groups_divide(*c))
    }

    fn inferred<B: Backend>(block: &Conv1d<B>) -> usize {
        block.weight.dims()[1] * block.groups
    }

    fn from_shapes(&self, shapes: &[(String, Vec<usize>)]) -> Option<usize> {
        match weight(shapes)? {
            &[out, c, k]
                if out == self.out && k == self.kernel && self.groups_divide(c * self.groups) =>
            {
                Some(c * self.groups)
            }
            _ => None,
        }
    }

    fn from_record<B: Backend>(
        &self,
        record: &<Conv1d<B> as Module<B>>::Record,
    ) -> Option<(usize, B::Device)> {
        let [out, c, k] = record.weight.dims();
        (out == self.out && k == self.kernel && self.groups_divide(c * self.groups))
            .then(|| (c * self.groups, record.weight.device()))
    }

    fn build<B: Backend>(&self, inferred: usize, device: &B::Device) -> Conv1d<B> {
        Conv1dConfig::new(inferred, self.out, self.kernel)
            .with_stride(self.stride)
            .with_padding(self.padding.clone())
            .with_initializer(self.initializer.clone())
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
            padding: padding_1d(&self.padding, self.kernel, self.dilation).0,
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

/// Whether `groups` divides both the input channels `c_in` and `out_channels` — Burn's
/// convolutions panic otherwise, so a lazy one refuses such an input with an error.
macro_rules! groups_divide {
    ($($spec:ident),*) => {$(
        impl $spec {
            fn groups_divide(&self, c_in: usize) -> bool {
                self.groups > 0 && c_in % self.groups == 0 && self.out % self.groups == 0
            }
        }
    )*};
}

groups_divide!(Conv1dSpec, Conv2dSpec);

/// Burn's default initializer of its convolutions (`Conv2dConfig::new(…).initializer`).
fn burn_default_initializer() -> Initializer {
    Initializer::KaimingUniform {
        gain: 1.0 / 3f64.sqrt(),
        fan_out_only: false,
    }
}

/// The builder of a lazy convolution of spec `$spec`, whose per-dimension sizes are `$size`
/// (`usize` for 1-d, `[usize; 2]` for 2-d): PyTorch's keyword arguments, one method each.
macro_rules! conv_builder {
    (
        $spec:ident, $config:ident, $padding:ty, $size:ty, $one:expr, $valid:expr,
        $out:expr, $explicit:expr, $doc:literal
    ) => {
        impl<B: Backend> Lazy<B, $spec> {
            #[doc = $doc]
            pub fn new(out_channels: usize, kernel_size: $size) -> Self {
                Self::from_spec($spec {
                    out: out_channels,
                    kernel: kernel_size,
                    stride: $one,
                    padding: $valid,
                    dilation: $one,
                    groups: 1,
                    bias: true,
                    initializer: burn_default_initializer(),
                })
            }

            /// The lazy twin of Burn's `config`: everything but the input channels, which the
            /// first input gives (the config's are ignored) — asymmetric or `Same` padding,
            /// groups, bias and initializer as Burn has them.
            pub fn from_config(config: &$config) -> Self {
                Self::from_spec($spec {
                    out: $out(config),
                    kernel: config.kernel_size,
                    stride: config.stride,
                    padding: config.padding.clone(),
                    dilation: config.dilation,
                    groups: config.groups.max(1),
                    bias: config.bias,
                    initializer: config.initializer.clone(),
                })
            }

            /// With `stride`.
            pub fn with_stride(mut self, stride: $size) -> Self {
                self.spec.stride = stride;
                self
            }

            /// With zero `padding` on both sides, per spatial dimension (PyTorch's `padding`).
            pub fn with_padding(mut self, padding: $size) -> Self {
                self.spec.padding = $explicit(padding);
                self
            }

            /// With Burn's padding: per side (`Explicit`), or `Same`.
            pub fn with_padding_config(mut self, padding: $padding) -> Self {
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
    Conv2dConfig,
    PaddingConfig2d,
    [usize; 2],
    [1, 1],
    PaddingConfig2d::Valid,
    |c: &Conv2dConfig| c.channels[1],
    |[h, w]: [usize; 2]| PaddingConfig2d::Explicit(h, w, h, w),
    "`LazyConv2d(out_channels, kernel_size)`: stride 1, no padding, a bias, Burn's initializer."
);
conv_builder!(
    Conv1dSpec,
    Conv1dConfig,
    PaddingConfig1d,
    usize,
    1,
    PaddingConfig1d::Valid,
    |c: &Conv1dConfig| c.channels_out,
    |p: usize| PaddingConfig1d::Explicit(p, p),
    "`LazyConv1d(out_channels, kernel_size)`: stride 1, no padding, a bias, Burn's initializer."
);
