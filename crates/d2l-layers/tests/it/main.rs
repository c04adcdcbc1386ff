//! Integration tests of d2l-layers, run once per backend by `cargo xtask test-all-backends`.

mod custom;
mod exercises;
mod lazy;
mod lazy_conv;

use burn::tensor::{TensorData, Tolerance};

/// Asserts data equal to `expected` within `tol`.
#[track_caller]
pub fn check(actual: TensorData, expected: impl Into<TensorData>, tol: f32) {
    actual.assert_approx_eq::<f32>(&expected.into(), Tolerance::absolute(tol));
}
