//! Integration tests of d2l-blocks, run once per backend by `cargo xtask test-all-backends`.

mod book;
mod module;
mod sequential;
mod shared;

use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, Tolerance};

/// A `Linear(d_in, d_out)` whose weights and bias all equal `value`.
pub fn constant_linear<B: Backend>(
    d_in: usize,
    d_out: usize,
    value: f64,
    device: &B::Device,
) -> Linear<B> {
    LinearConfig::new(d_in, d_out)
        .with_initializer(Initializer::Constant { value })
        .init(device)
}

/// Asserts a tensor's values to 1e-5.
#[track_caller]
pub fn check<B: Backend, const D: usize>(tensor: Tensor<B, D>, expected: impl Into<TensorData>) {
    tensor
        .into_data()
        .assert_approx_eq::<f32>(&expected.into(), Tolerance::absolute(1e-5));
}
