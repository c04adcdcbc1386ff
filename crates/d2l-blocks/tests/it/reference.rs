//! Deterministic inputs and a scale-relative comparison for the tests that hold a fast
//! formulation to Burn's standard ops.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

/// Deterministic values in `[-scale, scale] + offset`, from a linear congruential sequence.
pub fn values(count: usize, seed: u64, scale: f32, offset: f32) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale + offset
        })
        .collect()
}

pub fn tensor<B: Backend, const D: usize>(
    shape: [usize; D],
    seed: u64,
    scale: f32,
    offset: f32,
    device: &B::Device,
) -> Tensor<B, D> {
    let count = shape.iter().product();
    Tensor::from_data(
        TensorData::new(values(count, seed, scale, offset), shape),
        device,
    )
}

/// Asserts `actual` within 1e-6 of `expected`'s largest finite magnitude, element by element;
/// NaN and infinities where `expected` has them.
#[track_caller]
pub fn assert_close<B: Backend, const D: usize>(
    actual: Tensor<B, D>,
    expected: Tensor<B, D>,
    what: &str,
) {
    let actual = actual.into_data().to_vec::<f32>().expect("f32");
    let expected = expected.into_data().to_vec::<f32>().expect("f32");
    assert_eq!(actual.len(), expected.len(), "{what}: sizes");
    let scale = expected
        .iter()
        .filter(|v| v.is_finite())
        .fold(1e-30f32, |m, v| m.max(v.abs()));
    for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
        if !e.is_finite() {
            assert!(
                a.is_nan() && e.is_nan() || a == e,
                "{what}[{i}]: {a} vs {e}"
            );
            continue;
        }
        assert!(
            (a - e).abs() <= 1e-6 * scale,
            "{what}[{i}]: {a} vs {e} (scale {scale})"
        );
    }
}
