//! Blocks for d2l-burn: D2L §5.1 ("Layers and Modules") on Burn.
//!
//! - [`Forward`] + [`impl_block!`] make any `#[derive(Module)]` struct a [`Block`]; Burn's
//!   `Linear`, `Relu`, `Sigmoid`, `Tanh` and `Gelu` are blocks already.
//! - [`Sequential`] chains blocks of any types, is indexed (`net[2]`, `rgnet[0][1][0]`),
//!   typed ([`Sequential::child`]), iterable, printable like PyTorch, and is a real Burn
//!   `Module` (optimizers, `num_params`, `fork`/`to_device`, `valid()`, recorders, burn-store).
//! - [`Shared`] ties one block to several positions (D2L §5.2.3): one storage, one optimizer
//!   update per step, gradients summed.
//! - [`Activation`] carries a tensor of any rank between blocks, so that a rank or width
//!   mismatch is a [`BlockError`] naming the child's path and both shapes, never a panic.
//! - [`path`]: the one walk over parameters and blocks with their dotted paths
//!   ([`path::visit_params`], [`path::map_params`], [`Sequential::apply`]) and the one
//!   orientation rule; [`with_rank!`] is the one rank dispatch.
//! - [`layers`]: the layers of the later chapters (convolutions, pooling, [`layers::BatchNorm`]
//!   with PyTorch's buffers, norms, embeddings, `Flatten`), printed and keyed as in PyTorch;
//!   [`mode`]: PyTorch's mode rule ([`Train`]: `train()` / `eval()` on every block);
//!   [`hooks`]: PyTorch's forward hooks and pre-hooks per module, with removable handles;
//!   [`trace`]: the book's `layer_summary` and activation capture by `named_modules` path.
//! - [`book`]: the section's blocks (`Mlp`, `MySequential`, `FixedHiddenMlp`, `NestMlp`) and
//!   exercises (`ParallelBlock`, [`book::stack`]).
//!
//! ```
//! use burn::backend::NdArray;
//! use burn::nn::{LinearConfig, Relu};
//! use burn::tensor::Tensor;
//! use d2l_blocks::{BlockError, Sequential};
//!
//! let device = Default::default();
//! let net = Sequential::<NdArray>::new()
//!     .add(LinearConfig::new(20, 256).init(&device))
//!     .add(Relu::new())
//!     .add(LinearConfig::new(256, 10).init(&device));
//! assert_eq!(
//!     net.to_string(),
//!     "Sequential(\n  (0): Linear(in_features=20, out_features=256, bias=True)\n  (1): ReLU()\n  \
//!      (2): Linear(in_features=256, out_features=10, bias=True)\n)"
//! );
//! // A batch of the wrong width is an error naming the layer and the shapes.
//! let err = net.forward(Tensor::<NdArray, 2>::ones([2, 8], &device)).unwrap_err();
//! assert_eq!(err.to_string(), "layer `0`: expected input width 20, got shape [2, 8]");
//! ```
//!
//! Sibling crates: `d2l-device` (§5.6) below this one; `d2l-params` (§5.2), `d2l-layers`
//! (§5.3–5.4) and `d2l-io` (§5.5) above it.

mod rank;

mod activation;
mod block;
pub mod book;
pub mod buffer;
mod builtin;
mod display;
mod error;
pub mod hooks;
mod key;
pub mod layers;
pub mod materialize;
pub mod mode;
pub mod path;
mod sequential;
mod session;
mod shared;
mod stateless;
pub mod tensor;
pub mod trace;
mod typed;

pub use activation::{Activation, RankFn};
#[doc(hidden)]
pub use block::RankProbe;
pub use block::{
    Block, ErasedMapper, ErasedVisitor, Forward, Lift, ReifyMapper, ReifyVisitor, map_block,
    visit_block,
};
pub use buffer::Buffer;
pub use builtin::Identity;
pub use display::{format_data, size_suffix, tree};
pub use error::BlockError;
pub use mode::Train;
pub use rank::MAX_RANK;
pub use sequential::{ParamItem, Sequential, SequentialRecord};
pub use shared::Shared;
pub use typed::TypedForward;

pub use d2l_device;

#[doc(hidden)]
pub use burn as __burn;
