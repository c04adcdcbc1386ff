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
//! | 13.5–13.6 | [`parallel`] | `d2l-parallel` |
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

mod example;
pub mod print;
mod registry;

pub use example::{CELL_MARK, CELL_MARKS_ENV, cell};

use d2l_device::backend::{BackendTask, run_selected};

/// What an example's body returns: `Ok`, or any error of the chapter's crates (boxed), so that
/// `?` works on every call.
pub type Result<T = (), E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// Runs an example's body on the backend `D2L_BACKEND` selects (else flex, the default, where
/// it is compiled in): the one place examples pick their backend.
///
/// An example does not call it directly: [`main!`] writes the `main` that calls it with the
/// example's generic `section` function (closures cannot be generic, so the function is wrapped
/// in a [`BackendTask`]).
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
pub use d2l_parallel as parallel;
pub use d2l_params as params;

pub use burn;
pub use registry::chapter_registry;
