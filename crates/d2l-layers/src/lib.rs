//! Layers for d2l-burn: D2L §5.3 ("Lazy Initialization") and §5.4 ("Custom Layers") on Burn.
//!
//! - [`CenteredLayer`] (no parameters) and [`MyLinear`] (its own weight and bias): custom
//!   layers that get names, initialization, tying, devices and saving through the same
//!   mechanisms as Burn's built-ins (`d2l-blocks`, `d2l-params`).
//! - [`LazyLinear`]: the input width is inferred on the first forward; [`parameter_shapes`]
//!   lists pending shapes with `-1`.
//! - [`Lazy`] (`LazyConv1d`, `LazyConv2d`, `LazyBatchNorm1d`, `LazyBatchNorm2d`): the lazy
//!   layers the book's CNNs are built from (§7–§8); [`models`]: LeNet, the book's `Residual`
//!   and ResNet, torchvision's `resnet18`, `init_cnn`.
//! - Exercise layers: [`TensorReduction`] (`y_k = Σ_ij W_ijk x_i x_j`) and [`FourierHalf`]
//!   (the leading half of the DFT coefficients).
//!
//! ```
//! use burn::backend::NdArray;
//! use burn::nn::LinearConfig;
//! use burn::tensor::Tensor;
//! use d2l_blocks::Sequential;
//! use d2l_layers::{CenteredLayer, MyLinear};
//!
//! let device = Default::default();
//! let net = Sequential::<NdArray>::new().add(LinearConfig::new(8, 128).init(&device)).add(CenteredLayer::new());
//! let y = net.forward_tensor::<2, 2>(Tensor::random([4, 8], burn::tensor::Distribution::Default, &device)).unwrap();
//! assert!(y.mean().into_scalar().abs() < 1e-6);
//! let net = Sequential::<NdArray>::new().add(MyLinear::new(64, 8, &device)).add(MyLinear::new(8, 1, &device));
//! assert_eq!(net.forward_tensor::<2, 2>(Tensor::ones([2, 64], &device)).unwrap().dims(), [2, 1]);
//! ```
//!
//! Sibling crates: builds on `d2l-params` and `d2l-blocks`; never on `d2l-io`.

mod custom;
mod deferred;
mod exercises;
pub mod models;

pub use custom::{CenteredLayer, MyLinear};
pub use deferred::{
    BatchNormSpec, Conv1dSpec, Conv2dSpec, Deferred, Lazy, LazyBatchNorm1d, LazyBatchNorm2d,
    LazyConv1d, LazyConv2d, LazyLinear, LinearSpec, parameter_shapes,
};
pub use exercises::{FourierHalf, TensorReduction};
