//! Parameters for d2l-burn: D2L §5.2 ("Parameter Management") on Burn.
//!
//! - [`Parameters`]: `named_parameters()`, `state_dict()`, `parameter(key)` on any Burn module
//!   and on `dyn Block`s (`net[2].state_dict()`), with PyTorch's dotted keys and orientation.
//! - [`ParamView::grad`]: a parameter's gradient joined from Burn's `Gradients`.
//! - [`Parameters::param`]: one parameter by PyTorch key (`net.param("0.weight")`), in
//!   PyTorch's orientation; [`ParamView::tensor`] is the typed Burn accessor.
//! - [`Init`] and [`init_params`]: built-in and custom initialization that keeps parameters
//!   trainable, on a whole network or one layer (combine with `Sequential::apply` for the
//!   book's `net.apply(init_normal)`); [`edit_param`] for in-place edits by key.
//! - [`load_state_dict`]: PyTorch's `load_state_dict(state, strict=…)` from tensors in memory,
//!   transactional, with a [`LoadReport`] (files: `d2l-io`, which calls it).
//! - [`freeze`]: turn `requires_grad` off for one parameter or a subtree.
//! - Tying is `d2l_blocks::Shared`; this crate lists a tied parameter once in
//!   `named_parameters` and at every position in `state_dict`.
//!
//! ```
//! use burn::backend::NdArray;
//! use burn::nn::{Linear, LinearConfig, Relu};
//! use d2l_blocks::Sequential;
//! use d2l_params::{Init, Parameters, init_params};
//!
//! let device = Default::default();
//! let mut net = Sequential::<NdArray>::new()
//!     .add(LinearConfig::new(4, 8).init(&device))
//!     .add(Relu::new())
//!     .add(LinearConfig::new(8, 1).init(&device));
//! // The book's net[2] constant 42.
//! let last = net.child_mut::<Linear<NdArray>>(2).unwrap();
//! init_params(last, |_| Some(Init::Constant(42.0))).unwrap();
//! let w = net.param("2.weight").unwrap();
//! assert_eq!((w.shape(), w.data().to_vec::<f32>().unwrap()), (vec![1, 8], vec![42.0; 8]));
//! ```
//!
//! Sibling crates: builds on `d2l-blocks` (and `d2l-device`); `d2l-layers` and `d2l-io` build
//! on it.

mod edit;
mod error;
mod init;
mod load;
mod named;
mod report;

pub use edit::{edit_param, freeze, set_requires_grad};
pub use error::{ParamError, closest};
pub use init::{Init, ParamInfo, init_params, replace_params};
pub use load::{LoadError, StateSource, Strict, load_state_dict, load_state_dict_from};
pub use named::{ParamView, Parameters, StateDict, is_torch_transposed};
pub use report::{LoadReport, Mismatch};

pub use d2l_blocks;
