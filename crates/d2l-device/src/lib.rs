//! Devices for d2l-burn: D2L §5.6 ("GPUs") on Burn, with errors where Burn panics.
//!
//! - Count and pick devices: [`num_gpus`], [`try_gpu`], [`try_all_gpus`], [`list_devices`].
//! - Name devices the way users type them: [`DeviceSpec`] (`"cpu"`, `"cuda:1"`, `"wgpu:0"`) and
//!   [`device`] to resolve one on a backend.
//! - Copy and move: [`TensorDeviceExt::copy_to`], [`TensorDeviceExt::as_in_ctx`] (no copy when
//!   already there), [`move_module`], [`module_device`].
//! - Check before mixing devices: [`checked_binary`], [`ensure_same_device`].
//! - Pick the backend at run time: [`backend`] (`D2L_BACKEND`, cargo features `ndarray`,
//!   `flex`, `wgpu`, `cuda`, `tch`).
//! - Know what a backend computes: [`numerics`] (TF32 on CUDA, the tolerances it implies).
//! - Run the book's CNNs fast on the default CPU backend: [`kernels`] (our own sigmoid, exp
//!   and convolution kernels for flex, with their backward; Burn's ops on every other backend).
//!
//! Nothing here panics on a machine without a GPU or driver: GPU runtimes are probed through
//! their driver layer, never by creating a Burn client on a device that may not exist.
//!
//! ```
//! use burn::backend::NdArray;
//! use burn::tensor::Tensor;
//! use d2l_device::{DeviceSpec, TensorDeviceExt, Transfer, device_name, num_gpus, try_gpu};
//!
//! // A CPU backend has no GPUs, so `try_gpu` falls back to the CPU.
//! assert_eq!(num_gpus::<NdArray>(), 0);
//! let dev = try_gpu::<NdArray>(0);
//! assert_eq!(device_name::<NdArray>(&dev), DeviceSpec::Cpu);
//!
//! let x = Tensor::<NdArray, 1>::from_floats([1.0, 2.0, 3.0], &dev);
//! // Already there: no copy.
//! assert_eq!(x.move_to(&dev).transfer, Transfer::None);
//! // Asking for a GPU that does not exist is an error, not a panic.
//! assert!(d2l_device::device::<NdArray>("cuda:1").is_err());
//! ```
//!
//! Sibling crates: `d2l-blocks` (§5.1), `d2l-params` (§5.2), `d2l-layers` (§5.3–5.4),
//! `d2l-io` (§5.5); the `d2l` facade re-exports all of them.

pub mod backend;
mod error;
pub mod host;
pub mod kernels;
pub mod numerics;
mod ops;
mod probe;
mod spec;
pub mod timing;

pub use backend::{BackendKind, DeviceBackend};
pub use error::DeviceError;
pub use ops::{
    Moved, Relocate, TensorDeviceExt, Transfer, checked_binary, device, device_name,
    ensure_same_device, list_devices, module_device, move_module, num_gpus, transfer, try_all_gpus,
    try_gpu,
};
pub use spec::DeviceSpec;

/// Burn, as this crate sees it (for macros and for users who want one version).
pub use burn;
