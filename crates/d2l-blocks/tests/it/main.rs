//! Integration tests of d2l-blocks, run once per backend by `cargo xtask test-all-backends`.

mod avg_pool;
mod batch_norm;
mod book;
mod group_norm;
mod module;
mod reference;
mod sequential;
mod shared;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, Tolerance};
pub use d2l_blocks::book::constant_linear;

/// Asserts a tensor's values to 1e-5.
#[track_caller]
pub fn check<B: Backend, const D: usize>(tensor: Tensor<B, D>, expected: impl Into<TensorData>) {
    tensor
        .into_data()
        .assert_approx_eq::<f32>(&expected.into(), Tolerance::absolute(1e-5));
}
