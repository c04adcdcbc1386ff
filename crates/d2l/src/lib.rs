//! d2l-burn: chapter 5 of *Dive into Deep Learning* ("Deep Learning Computation") on Burn.
//!
//! One import for the workspace's crates, one module per book section:
//!
//! | D2L §   | module      | crate        |
//! |---------|-------------|--------------|
//! | 5.1     | [`blocks`]  | `d2l-blocks` |
//! | 5.2     | [`params`]  | `d2l-params` |
//! | 5.3–5.4 | [`layers`]  | `d2l-layers` |
//! | 5.5     | [`io`]      | `d2l-io`     |
//! | 5.6     | [`device`]  | `d2l-device` |
//!
//! Backends are cargo features: `flex` (default), `ndarray`, `wgpu`, `cuda`, `tch`; with several
//! compiled in, `D2L_BACKEND` picks one at run time ([`device::backend`]).
//!
//! ```
//! use d2l::device::{DeviceSpec, device_name, try_gpu};
//! use burn::backend::NdArray;
//!
//! // Without a GPU, the book's `try_gpu()` is the CPU.
//! assert_eq!(device_name::<NdArray>(&try_gpu::<NdArray>(0)), DeviceSpec::Cpu);
//! ```

pub mod print;

use d2l_device::backend::{BackendTask, run_selected};

/// What an example's body returns: `Ok`, or any error of the chapter's crates (boxed), so that
/// `?` works on every call.
pub type Result<T = (), E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// Runs an example's body on the backend `D2L_BACKEND` selects (else flex, the default, where
/// it is compiled in): the one place examples pick their backend.
///
/// An example states its body once, generic over the backend, as a
/// [`BackendTask`] — closures cannot be generic, and the same
/// body runs on every backend in the tests.
///
/// # Errors
/// The body's error, or why the selected backend cannot run here.
pub fn run<T: BackendTask<Output = Result>>(task: T) -> Result {
    run_selected(task)?
}

pub use d2l_blocks as blocks;
pub use d2l_device as device;
pub use d2l_io as io;
pub use d2l_layers as layers;
pub use d2l_params as params;

pub use burn;

/// The registry of the chapter's block types for [`io::save_model`] / [`io::load_model`]
/// (D2L §5.5 exercise 3): the built-ins, the §5.1 `MLP` and `NestMLP`, and the §5.3–§5.4 layers
/// `LazyLinear`, `CenteredLayer`, `MyLinear`, `TensorReduction` and `FourierHalf`.
/// `FixedHiddenMLP` is not in it: its constant random weight is not a parameter, so a rebuilt
/// one would compute something else.
pub fn chapter_registry<B: burn::tensor::backend::Backend>() -> io::Registry<B> {
    use serde_json::json;
    let usize_of = |config: &serde_json::Value, key: &str| -> Result<usize, String> {
        config[key]
            .as_u64()
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| format!("`{key}` must be a whole number"))
    };
    io::Registry::new()
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
}
