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

/// `impl Deferred` for a convolution spec: what both dimensions share (inference from the
/// input's channel dimension of `rank`, from shapes and records by [`input_channels`], the
/// pending shapes, `valid`, `build` from the Burn config `$config` with the spec's settings),
/// plus the `lazy_repr` given.
macro_rules! deferred_conv {
    (
        $spec:ident, $block:ident, |$self:ident, $inferred:ident| $config:expr, $rank:literal,
        { $($methods:tt)* }
    ) => {
        impl Deferred for $spec {
            type Block<B: Backend> = $block<B>;

            fn infer(&self, shape: &[usize]) -> Option<usize> {
                channels(shape, $rank).filter(|&c| self.groups_divide(c))
            }

            fn inferred<B: Backend>(block: &$block<B>) -> usize {
                block.weight.dims()[1] * block.groups
            }

            fn from_shapes(&self, shapes: &[(String, Vec<usize>)]) -> Option<usize> {
                self.input_channels(weight(shapes)?)
            }

            fn from_record<B: Backend>(
                &self,
                record: &<$block<B> as Module<B>>::Record,
            ) -> Option<(usize, B::Device)> {
                self.input_channels(&record.weight.dims())
                    .map(|c| (c, record.weight.device()))
            }

            fn pending_shapes(&self) -> Vec<(&'static str, Vec<isize>)> {
                self.pending()
            }

            fn build<B: Backend>(&$self, $inferred: usize, device: &B::Device) -> $block<B> {
                $config
                    .with_stride($self.stride)
                    .with_padding($self.padding.clone())
                    .with_initializer($self.initializer.clone())
                    .with_dilation($self.dilation)
                    .with_groups($self.groups)
                    .with_bias($self.bias)
                    .init(device)
            }

            fn valid<B: AutodiffBackend>(block: &$block<B>) -> $block<B::InnerBackend> {
                block.valid()
            }

            fn from_inner<B: AutodiffBackend>(block: $block<B::InnerBackend>) -> $block<B> {
                $block::from_inner(block)
            }

            $($methods)*
        }
    };
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

deferred_conv!(
    Conv2dSpec,
    Conv2d,
    |self, inferred| Conv2dConfig::new([inferred, self.out], self.kernel),
    4,
    {
        fn lazy_repr(&self) -> String {
            self.repr("LazyConv2d", 0)
        }
    }
);

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

deferred_conv!(
    Conv1dSpec,
    Conv1d,
    |self, inferred| Conv1dConfig::new(inferred, self.out, self.kernel),
    3,
    {
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
    }
);

/// What the convolution specs share: the weight `[out, in / groups, k…]` they will build.
macro_rules! conv_weight {
    ($($spec:ident: $kernel:expr),*) => {$(
        impl $spec {
            /// Whether `groups` divides both the input channels `c_in` and `out_channels` —
            /// Burn's convolutions panic otherwise, so a lazy one refuses such an input.
            fn groups_divide(&self, c_in: usize) -> bool {
                self.groups > 0 && c_in % self.groups == 0 && self.out % self.groups == 0
            }

            /// The input channels a weight of `shape` gives, if it fits this spec.
            fn input_channels(&self, shape: &[usize]) -> Option<usize> {
                let [out, c, kernel @ ..] = shape else {
                    return None;
                };
                let c_in = c * self.groups;
                (*out == self.out && kernel == $kernel(self) && self.groups_divide(c_in))
                    .then_some(c_in)
            }

            /// The pending shapes: `[out, -1, k…]` and the bias.
            fn pending(&self) -> Vec<(&'static str, Vec<isize>)> {
                let out = self.out as isize;
                let mut weight = vec![out, -1];
                weight.extend($kernel(self).iter().map(|&k| k as isize));
                let mut shapes = vec![("weight", weight)];
                if self.bias {
                    shapes.push(("bias", vec![out]));
                }
                shapes
            }
        }
    )*};
}

conv_weight!(
    Conv1dSpec: |s: &Conv1dSpec| [s.kernel],
    Conv2dSpec: |s: &Conv2dSpec| s.kernel
);

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
