//! Integration tests of d2l-params, run once per backend by `cargo xtask test-all-backends`.

mod access;
mod init;
mod parity;

use burn::tensor::backend::Backend;
use burn::tensor::{TensorData, Tolerance};
use d2l_blocks::Sequential;
pub use d2l_blocks::book::constant_linear;

/// The book's `rgnet`, with the two `block1`s the PyTorch fixtures use.
pub fn rgnet<B: Backend>(device: &B::Device) -> Sequential<B> {
    d2l_blocks::book::rgnet(2, device)
}

pub use d2l_blocks::book::{block1, tied};

/// Asserts data equal to `expected` within 1e-5 (values computed without rounding matmuls).
#[track_caller]
pub fn check(actual: TensorData, expected: impl Into<TensorData>) {
    actual.assert_approx_eq::<f32>(&expected.into(), Tolerance::absolute(1e-5));
}

/// Asserts data equal to PyTorch's within 1e-5 on f32 kernels, as d2l-device's tolerance
/// policy widens it on `B` for values that went through `depth` matmuls (TF32 on CUDA).
#[track_caller]
pub fn check_like_pytorch<B: d2l_device::DeviceBackend>(
    actual: TensorData,
    expected: TensorData,
    depth: usize,
) {
    let tol = d2l_device::numerics::Tolerance::absolute(1e-5).for_backend(B::KIND, depth);
    if let Err(err) = tol.check_data(&actual, &expected) {
        panic!("differs from PyTorch: {err}");
    }
}
