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
//! Backends are cargo features: `ndarray` (default), `flex`, `wgpu`, `cuda`; with several
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

pub use d2l_blocks as blocks;
pub use d2l_device as device;
pub use d2l_io as io;
pub use d2l_layers as layers;
pub use d2l_params as params;

pub use burn;
