//! The one error type of this crate.

use thiserror::Error;

/// Everything that can go wrong when naming, probing or using devices.
///
/// Every message names what was asked for and what exists, so that a user reading it knows
/// which device to pick instead.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DeviceError {
    /// A device name that does not parse (`"tpu"`, `"cuda:x"`, `"cuda:-1"`).
    #[error(
        "unknown device `{input}`: {reason} (expected `cpu`, `gpu[:i]`, `cuda[:i]` or `wgpu[:i]`)"
    )]
    Parse {
        /// What the user typed.
        input: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A GPU index past the last GPU the backend can see.
    #[error("device `{requested}` does not exist: the {backend} backend sees {available} GPU(s)")]
    OutOfRange {
        /// The device that was asked for, as typed.
        requested: String,
        /// The backend that was asked.
        backend: &'static str,
        /// How many GPUs that backend sees.
        available: usize,
    },
    /// The device kind cannot be served by this backend (`"cuda:0"` on ndarray, `"cpu"` on cuda).
    #[error("device `{requested}` is not available on the {backend} backend{hint}")]
    Unsupported {
        /// The device that was asked for, as typed.
        requested: String,
        /// The backend that was asked.
        backend: &'static str,
        /// Extra advice, empty or starting with `: `.
        hint: String,
    },
    /// The backend's driver or runtime library is missing (no NVIDIA driver, no Vulkan ICD).
    #[error("the {backend} backend cannot run here: {reason}")]
    NoDriver {
        /// The backend that was probed.
        backend: &'static str,
        /// What the probe found.
        reason: String,
    },
    /// A backend name that is unknown or was not compiled into this build.
    #[error("backend `{name}` is not available: {reason}")]
    Backend {
        /// The name that was asked for.
        name: String,
        /// Why it cannot be used (unknown, or which cargo feature enables it).
        reason: String,
    },
    /// Two operands (or a layer's parameters and its input) live on different devices.
    #[error(
        "`{op}`: operands are on different devices: {lhs} vs {rhs}; move one with `copy_to`/`as_in_ctx` first"
    )]
    Mismatch {
        /// The operation (or layer path) that was attempted.
        op: String,
        /// The device of the left operand (or the layer's parameters).
        lhs: String,
        /// The device of the right operand (or the input).
        rhs: String,
    },
    /// A module whose device was asked for holds no parameters.
    #[error("the module has no parameters, so it has no device")]
    NoParameters,
    /// A module whose parameters are spread over several devices.
    #[error("the module's parameters are on several devices: {devices}")]
    MixedDevices {
        /// The devices found, comma-separated.
        devices: String,
    },
}
