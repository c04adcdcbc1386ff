//! The registry of the book's block types: what `save_model` can save and `load_model`
//! rebuild beyond the built-ins.

use burn::tensor::backend::Backend;
use d2l_blocks::Block;
use d2l_layers::{Deferred, Lazy};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{blocks, io, layers};

/// The registry of the book's block types for [`io::save_model`] / [`io::load_model`]
/// (D2L §5.5 exercise 3): the built-ins, the §5.1 `MLP` and `NestMLP`, the §5.3–§5.4 layers
/// `LazyLinear`, `CenteredLayer`, `MyLinear`, `TensorReduction` and `FourierHalf`, the lazy
/// convolutions and batch norms (§7–§8: LeNet and the book's ResNet save whole), the book's
/// `Residual` and torchvision's `ResNet18`.
/// `FixedHiddenMLP` is not in it: its constant random weight is not a parameter, so a rebuilt
/// one would compute something else.
pub fn chapter_registry<B: Backend>() -> io::Registry<B> {
    use serde_json::json;
    let usize_of = |config: &serde_json::Value, key: &str| -> Result<usize, String> {
        config[key]
            .as_u64()
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| format!("`{key}` must be a whole number"))
    };
    let registry = io::Registry::new()
        .register::<blocks::book::Mlp<B>>(
            "MLP",
            |_| json!({}),
            |_, device| Ok(blocks::book::Mlp::new(device)),
        )
        .register::<blocks::book::NestMlp<B>>(
            "NestMLP",
            |_| json!({}),
            |_, device| Ok(blocks::book::NestMlp::new(device)),
        )
        .register::<layers::CenteredLayer>(
            "CenteredLayer",
            |_| json!({}),
            |_, _| Ok(layers::CenteredLayer::new()),
        )
        .register::<layers::MyLinear<B>>(
            "MyLinear",
            |l| json!({ "in_units": l.weight.dims()[0], "units": l.weight.dims()[1] }),
            move |c, device| {
                let (d_in, units) = (usize_of(c, "in_units")?, usize_of(c, "units")?);
                Ok(layers::MyLinear::new(d_in, units, device))
            },
        )
        .register::<layers::LazyLinear<B>>(
            "LazyLinear",
            |l| json!({ "out_features": l.d_output(), "bias": l.has_bias() }),
            move |c, _| {
                let lazy = layers::LazyLinear::new(usize_of(c, "out_features")?);
                Ok(if c["bias"].as_bool() == Some(false) {
                    lazy.without_bias()
                } else {
                    lazy
                })
            },
        )
        .register::<layers::TensorReduction<B>>(
            "TensorReduction",
            |l| json!({ "n": l.weight.dims()[0], "m": l.weight.dims()[2] }),
            move |c, device| {
                Ok(layers::TensorReduction::new(
                    usize_of(c, "n")?,
                    usize_of(c, "m")?,
                    device,
                ))
            },
        )
        .register::<layers::FourierHalf<B>>(
            "FourierHalf",
            |l| json!({ "n": l.cos.dims()[0] }),
            move |c, device| Ok(layers::FourierHalf::new(usize_of(c, "n")?, device)),
        )
        .register::<layers::models::Residual<B>>(
            "Residual",
            |r| {
                json!({
                    "num_channels": r.num_channels(),
                    "use_1x1conv": r.use_1x1conv(),
                    "strides": r.strides(),
                })
            },
            move |c, _| {
                let use_1x1conv = c["use_1x1conv"]
                    .as_bool()
                    .ok_or("`use_1x1conv` must be true or false")?;
                Ok(layers::models::Residual::new(
                    usize_of(c, "num_channels")?,
                    use_1x1conv,
                    usize_of(c, "strides")?,
                ))
            },
        )
        .register::<layers::models::ResNet18<B>>(
            "ResNet18",
            |r| json!({ "num_classes": r.fc.weight.dims()[1] }),
            move |c, device| {
                Ok(layers::models::ResNet18::new(
                    usize_of(c, "num_classes")?,
                    device,
                ))
            },
        );
    let registry = lazy::<B, layers::Conv1dSpec>(registry, "LazyConv1d");
    let registry = lazy::<B, layers::Conv2dSpec>(registry, "LazyConv2d");
    let registry = lazy::<B, layers::BatchNormSpec<1>>(registry, "LazyBatchNorm1d");
    lazy::<B, layers::BatchNormSpec<2>>(registry, "LazyBatchNorm2d")
}

/// Registers `Lazy<B, S>` under `name`, described by its spec (serde): rebuilt lazy, it takes
/// its shapes from the file when the parameters load.
fn lazy<B: Backend, S>(registry: io::Registry<B>, name: &str) -> io::Registry<B>
where
    S: Deferred + Serialize + DeserializeOwned,
    Lazy<B, S>: Block<B>,
{
    registry.register::<Lazy<B, S>>(
        name,
        |l| serde_json::to_value(l.spec()).unwrap_or_default(),
        |config, _| {
            S::deserialize(config)
                .map(Lazy::from_spec)
                .map_err(|e| format!("configuration: {e}"))
        },
    )
}
