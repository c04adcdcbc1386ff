//! The library's CNN and normalization blocks in a [`Registry`]: each is described by Burn's
//! own serde `Config` for it (or, for this workspace's blocks, the numbers its constructor
//! takes) and rebuilt with `init`; parameters and buffers then come from the file.

use burn::nn::conv::{
    Conv1d, Conv1dConfig, Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig,
};
use burn::nn::pool::{
    AdaptiveAvgPool1d, AdaptiveAvgPool1dConfig, AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig,
    AvgPool1d, AvgPool1dConfig, AvgPool2d, AvgPool2dConfig, MaxPool1d, MaxPool1dConfig, MaxPool2d,
    MaxPool2dConfig,
};
use burn::nn::{
    Embedding, EmbeddingConfig, GroupNorm, GroupNormConfig, Initializer, LayerNorm,
    LayerNormConfig, LeakyRelu, LeakyReluConfig,
};
use burn::tensor::backend::Backend;
use d2l_blocks::Block;
use d2l_blocks::layers::{BatchNorm, Flatten, Softmax, layer_norm_epsilon};
use serde::{Deserialize, Serialize};

use super::Registry;

/// Parameters are built as zeros: their values come from the file next (and Burn's default
/// initializers fail on a zero fan-in).
const ZEROS: Initializer = Initializer::Zeros;

impl<B: Backend> Registry<B> {
    /// Registers `T` under `name`, described by a serde configuration `C` (`describe`) and
    /// rebuilt from it (`init`; a builder that panics is caught by `build_at`).
    fn config<T: Block<B>, C: Serialize + for<'de> Deserialize<'de> + 'static>(
        self,
        name: &str,
        describe: impl Fn(&T) -> C + Send + Sync + 'static,
        init: impl Fn(C, &B::Device) -> Result<T, String> + Send + Sync + 'static,
    ) -> Self {
        self.register::<T>(
            name,
            move |block| serde_json::to_value(describe(block)).unwrap_or_default(),
            move |value, device| {
                let config = C::deserialize(value).map_err(|e| format!("configuration: {e}"))?;
                init(config, device)
            },
        )
    }

    /// Registers a parameter-less `T` (a pool, an activation) under `name`, described by its
    /// Burn config `C` and rebuilt with the config's `init()`.
    fn pool<T: Block<B>, C: Serialize + for<'de> Deserialize<'de> + Init<T> + 'static>(
        self,
        name: &str,
        describe: impl Fn(&T) -> C + Send + Sync + 'static,
    ) -> Self {
        self.config::<T, C>(name, describe, |c, _| Ok(c.init()))
    }

    /// The built-in registrations of the CNN chapters' blocks.
    pub(super) fn with_cnn_blocks(self) -> Self {
        let registry = convs!(
            self;
            Conv1d, Conv1dConfig, |c| {
                let [out, c_in, kernel] = c.weight.dims();
                Conv1dConfig::new(c_in * c.groups, out, kernel).with_padding(c.padding.clone())
            };
            Conv2d, Conv2dConfig, |c| {
                let [out, c_in, kh, kw] = c.weight.dims();
                Conv2dConfig::new([c_in * c.groups, out], [kh, kw]).with_padding(c.padding.clone())
            };
            ConvTranspose2d, ConvTranspose2dConfig, |c| {
                ConvTranspose2dConfig::new(c.channels, c.kernel_size)
                    .with_padding(c.padding)
                    .with_padding_out(c.padding_out)
            };
        );
        pools!(
            registry;
            MaxPool1d, MaxPool1dConfig, with_stride, with_dilation: dilation;
            MaxPool2d, MaxPool2dConfig, with_strides, with_dilation: dilation;
            AvgPool1d, AvgPool1dConfig, with_stride, with_count_include_pad: count_include_pad;
            AvgPool2d, AvgPool2dConfig, with_strides, with_count_include_pad: count_include_pad;
        )
        .pool::<AdaptiveAvgPool1d, AdaptiveAvgPool1dConfig>("AdaptiveAvgPool1d", |p| {
            AdaptiveAvgPool1dConfig::new(p.output_size)
        })
        .pool::<AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig>("AdaptiveAvgPool2d", |p| {
            AdaptiveAvgPool2dConfig::new(p.output_size)
        })
        .config::<BatchNorm<B>, BatchNormArch>(
            "BatchNorm",
            |b| BatchNormArch {
                num_features: b.num_features(),
                spatial_dims: b.spatial_dims(),
                eps: b.eps(),
                momentum: b.momentum(),
            },
            |c, device| {
                let bn = match c.spatial_dims {
                    1 => BatchNorm::new_1d(c.num_features, device),
                    2 => BatchNorm::new_2d(c.num_features, device),
                    other => return Err(format!("BatchNorm with {other} spatial dimensions")),
                };
                Ok(bn.with_eps(c.eps).with_momentum(c.momentum))
            },
        )
        .config::<Flatten, [isize; 2]>(
            "Flatten",
            |f| [f.start_dim(), f.end_dim()],
            |[start, end], _| Ok(Flatten::dims(start, end)),
        )
        .config::<Softmax, isize>("Softmax", Softmax::dim, |dim, _| Ok(Softmax::new(dim)))
        .pool::<LeakyRelu, LeakyReluConfig>("LeakyReLU", |l| {
            LeakyReluConfig::new().with_negative_slope(l.negative_slope)
        })
        .config::<Embedding<B>, EmbeddingConfig>(
            "Embedding",
            |e| {
                let [n, d] = e.weight.dims();
                EmbeddingConfig::new(n, d)
            },
            |c, device| Ok(c.with_initializer(ZEROS).init(device)),
        )
        .config::<LayerNorm<B>, LayerNormConfig>(
            "LayerNorm",
            |l| {
                LayerNormConfig::new(l.gamma.dims()[0])
                    .with_epsilon(layer_norm_epsilon(l))
                    .with_bias(l.beta.is_some())
            },
            |c, device| Ok(c.init(device)),
        )
        .config::<GroupNorm<B>, GroupNormConfig>(
            "GroupNorm",
            |g| {
                GroupNormConfig::new(g.num_groups, g.num_channels)
                    .with_epsilon(g.epsilon)
                    .with_affine(g.affine)
            },
            |c, device| Ok(c.init(device)),
        )
    }
}

/// What rebuilds a [`BatchNorm`].
#[derive(Serialize, Deserialize)]
struct BatchNormArch {
    num_features: usize,
    spatial_dims: usize,
    eps: f64,
    momentum: f64,
}

/// Registers Burn's convolutions by their configs: `$new` gives the channels, kernel and
/// padding; stride, dilation, groups and bias are read alike; parameters are built as zeros.
macro_rules! convs {
    ($registry:expr; $($ty:ident, $config:ident, |$c:ident| $new:expr;)*) => {
        $registry$(.config::<$ty<B>, $config>(
            stringify!($ty),
            |$c| {
                $new.with_stride($c.stride)
                    .with_dilation($c.dilation)
                    .with_groups($c.groups)
                    .with_bias($c.bias.is_some())
            },
            |c, device| Ok(c.with_initializer(ZEROS).init(device)),
        ))*
    };
}
use convs;

/// Registers Burn's pools by their configs: stride (`with_stride` / `with_strides`), padding,
/// the one field a pool kind adds, ceil mode.
macro_rules! pools {
    ($registry:expr; $($ty:ident, $config:ident, $stride:ident, $extra:ident: $field:ident;)*) => {
        $registry$(.pool::<$ty, $config>(stringify!($ty), |p| {
            $config::new(p.kernel_size)
                .$stride(p.stride)
                .with_padding(p.padding.clone())
                .$extra(p.$field)
                .with_ceil_mode(p.ceil_mode)
        }))*
    };
}
use pools;

/// Burn's parameter-less configs, whose `init()` takes no device.
trait Init<T> {
    fn init(&self) -> T;
}

/// Implements [`Init`] by each config's own `init()`.
macro_rules! init {
    ($($config:ident => $ty:ident),*) => {$(
        impl Init<$ty> for $config {
            fn init(&self) -> $ty {
                $config::init(self)
            }
        }
    )*};
}

init!(
    MaxPool1dConfig => MaxPool1d,
    MaxPool2dConfig => MaxPool2d,
    AvgPool1dConfig => AvgPool1d,
    AvgPool2dConfig => AvgPool2d,
    AdaptiveAvgPool1dConfig => AdaptiveAvgPool1d,
    AdaptiveAvgPool2dConfig => AdaptiveAvgPool2d,
    LeakyReluConfig => LeakyRelu
);
