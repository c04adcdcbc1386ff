//! The layers of the book's later chapters (§6–§8) as blocks: convolutions, pooling, batch
//! and layer norms, embeddings, reshapes — Burn's own where their state matches PyTorch's
//! (convolutions, pools, `LayerNorm`, `GroupNorm`, `Embedding`, `LeakyRelu`), this crate's
//! where it cannot ([`BatchNorm`], with PyTorch's buffers and statistics; [`Dropout`], with
//! its own mode; [`Flatten`]; [`Softmax`]).
//!
//! Every block prints as PyTorch prints its twin, keeps PyTorch's keys and layouts, accepts an
//! unbatched input where PyTorch does, and checks its input (rank, channels, device, size
//! against the kernel) before Burn's kernels, which assert, ever see it.
//!
//! ```
//! use burn::backend::NdArray;
//! use burn::nn::conv::Conv2dConfig;
//! use burn::nn::pool::MaxPool2dConfig;
//! use burn::nn::{PaddingConfig2d, Relu};
//! use burn::tensor::Tensor;
//! use d2l_blocks::{Sequential, layers::{BatchNorm, Flatten}};
//!
//! let device = Default::default();
//! let net = Sequential::<NdArray>::new()
//!     .add(Conv2dConfig::new([1, 6], [5, 5]).with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2)).init(&device))
//!     .add(BatchNorm::new_2d(6, &device))
//!     .add(Relu::new())
//!     .add(MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init())
//!     .add(Flatten::new());
//! assert_eq!(net[0].to_string(), "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))");
//! let y = net.forward_tensor::<4, 2>(Tensor::zeros([2, 1, 28, 28], &device)).unwrap();
//! assert_eq!(y.dims(), [2, 6 * 14 * 14]);
//! let err = net.forward_tensor::<4, 2>(Tensor::zeros([2, 3, 28, 28], &device)).unwrap_err();
//! assert_eq!(err.to_string(), "layer `0`: expected 1 input channels, got shape [2, 3, 28, 28]");
//! ```

mod batch_norm;
mod check;
mod conv;
mod dropout;
mod norm;
mod pool;
mod shape;

pub use batch_norm::{BatchNorm, StatsReducer, StatsSync};
pub use check::{py_float, tuple};
pub use conv::{ConvRepr, padding_1d, padding_2d};
pub use dropout::Dropout;
pub use norm::layer_norm_epsilon;
pub use shape::{Flatten, Softmax, cat};
