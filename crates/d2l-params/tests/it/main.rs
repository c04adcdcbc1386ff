//! Integration tests of d2l-params, run once per backend by `cargo xtask test-all-backends`.

mod access;
mod init;
mod parity;

use burn::nn::{Initializer, Linear, LinearConfig, Relu};
use burn::tensor::backend::Backend;
use burn::tensor::{TensorData, Tolerance};
use d2l_blocks::{Sequential, Shared};

/// A `Linear(d_in, d_out)` with every weight and bias equal to `value`.
pub fn constant_linear<B: Backend>(d_in: usize, d_out: usize, value: f64, device: &B::Device) -> Linear<B> {
    LinearConfig::new(d_in, d_out).with_initializer(Initializer::Constant { value }).init(device)
}

/// The book's `block1()` (§5.2.2).
pub fn block1<B: Backend>(device: &B::Device) -> Sequential<B> {
    Sequential::new()
        .add(LinearConfig::new(4, 8).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(8, 4).init(device))
        .add(Relu::new())
}

/// The book's `rgnet = Sequential(block2(), Linear(4, 1))`.
pub fn rgnet<B: Backend>(device: &B::Device) -> Sequential<B> {
    let block2 = (0..2).fold(Sequential::new(), |net, i| {
        net.add_named(format!("block {i}"), block1(device)).expect("fresh names")
    });
    Sequential::new().add(block2).add(LinearConfig::new(4, 1).init(device))
}

/// The book's tied net: `Sequential(Linear(4, 8), ReLU, shared, ReLU, shared, ReLU, Linear(8, 1))`.
pub fn tied<B: Backend>(device: &B::Device) -> (Sequential<B>, Shared<B>) {
    let shared = Shared::new(LinearConfig::new(8, 8).init::<B>(device));
    let net = Sequential::new()
        .add(LinearConfig::new(4, 8).init(device))
        .add(Relu::new())
        .add(shared.clone())
        .add(Relu::new())
        .add(shared.clone())
        .add(Relu::new())
        .add(LinearConfig::new(8, 1).init(device));
    (net, shared)
}

/// Asserts data equal to `expected` within 1e-5.
#[track_caller]
pub fn check(actual: TensorData, expected: impl Into<TensorData>) {
    actual.assert_approx_eq::<f32>(&expected.into(), Tolerance::absolute(1e-5));
}
