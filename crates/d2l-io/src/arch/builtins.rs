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

    /// The built-in registrations of the CNN chapters' blocks.
    pub(super) fn with_cnn_blocks(self) -> Self {
        self.config::<Conv1d<B>, Conv1dConfig>(
            "Conv1d",
            |c| {
                let [out, c_in, kernel] = c.weight.dims();
                Conv1dConfig::new(c_in * c.groups, out, kernel)
                    .with_stride(c.stride)
                    .with_dilation(c.dilation)
                    .with_groups(c.groups)
                    .with_padding(c.padding.clone())
                    .with_bias(c.bias.is_some())
            },
            |c, device| Ok(c.with_initializer(ZEROS).init(device)),
        )
        .config::<Conv2d<B>, Conv2dConfig>(
            "Conv2d",
            |c| {
                let [out, c_in, kh, kw] = c.weight.dims();
                Conv2dConfig::new([c_in * c.groups, out], [kh, kw])
                    .with_stride(c.stride)
                    .with_dilation(c.dilation)
                    .with_groups(c.groups)
                    .with_padding(c.padding.clone())
                    .with_bias(c.bias.is_some())
            },
            |c, device| Ok(c.with_initializer(ZEROS).init(device)),
        )
        .config::<ConvTranspose2d<B>, ConvTranspose2dConfig>(
            "ConvTranspose2d",
            |c| {
                ConvTranspose2dConfig::new(c.channels, c.kernel_size)
                    .with_stride(c.stride)
                    .with_dilation(c.dilation)
                    .with_groups(c.groups)
                    .with_padding(c.padding)
                    .with_padding_out(c.padding_out)
                    .with_bias(c.bias.is_some())
            },
            |c, device| Ok(c.with_initializer(ZEROS).init(device)),
        )
        .config::<MaxPool1d, MaxPool1dConfig>(
            "MaxPool1d",
            |p| {
                MaxPool1dConfig::new(p.kernel_size)
                    .with_stride(p.stride)
                    .with_padding(p.padding.clone())
                    .with_dilation(p.dilation)
                    .with_ceil_mode(p.ceil_mode)
            },
            |c, _| Ok(c.init()),
        )
        .config::<MaxPool2d, MaxPool2dConfig>(
            "MaxPool2d",
            |p| {
                MaxPool2dConfig::new(p.kernel_size)
                    .with_strides(p.stride)
                    .with_padding(p.padding.clone())
                    .with_dilation(p.dilation)
                    .with_ceil_mode(p.ceil_mode)
            },
            |c, _| Ok(c.init()),
        )
        .config::<AvgPool1d, AvgPool1dConfig>(
            "AvgPool1d",
            |p| {
                AvgPool1dConfig::new(p.kernel_size)
                    .with_stride(p.stride)
                    .with_padding(p.padding.clone())
                    .with_count_include_pad(p.count_include_pad)
                    .with_ceil_mode(p.ceil_mode)
            },
            |c, _| Ok(c.init()),
        )
        .config::<AvgPool2d, AvgPool2dConfig>(
            "AvgPool2d",
            |p| {
                AvgPool2dConfig::new(p.kernel_size)
                    .with_strides(p.stride)
                    .with_padding(p.padding.clone())
                    .with_count_include_pad(p.count_include_pad)
                    .with_ceil_mode(p.ceil_mode)
            },
            |c, _| Ok(c.init()),
        )
        .config::<AdaptiveAvgPool1d, AdaptiveAvgPool1dConfig>(
            "AdaptiveAvgPool1d",
            |p| AdaptiveAvgPool1dConfig::new(p.output_size),
            |c, _| Ok(c.init()),
        )
        .config::<AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig>(
            "AdaptiveAvgPool2d",
            |p| AdaptiveAvgPool2dConfig::new(p.output_size),
            |c, _| Ok(c.init()),
        )
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
        .config::<LeakyRelu, LeakyReluConfig>(
            "LeakyReLU",
            |l| LeakyReluConfig::new().with_negative_slope(l.negative_slope),
            |c, _| Ok(c.init()),
        )
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
