//! Ops that keep NaN as PyTorch does where Burn 0.21's kernels lose it (D2L's diverging runs
//! must show NaN in their loss).

use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Tensor};

/// PyTorch's `relu`: 0 where `x ≤ 0`, `x` elsewhere — NaN stays NaN.
///
/// Burn 0.21's `activation::relu` turns NaN into 0 on flex and on ndarray's SIMD path (from
/// ~1 024 values), which would hide a diverging run. The gradient is PyTorch's: 1 where
/// `x > 0` (and at NaN), 0 elsewhere.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
///
/// let x = Tensor::<NdArray, 1>::from_floats([-1.0, 0.0, 2.0, f32::NAN, f32::INFINITY], &Default::default());
/// let y = d2l_blocks::tensor::relu(x).into_data().to_vec::<f32>().unwrap();
/// assert_eq!(&y[..3], [0.0, 0.0, 2.0]);
/// assert!(y[3].is_nan() && y[4] == f32::INFINITY);
/// ```
pub fn relu<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let not_positive = x.clone().lower_equal_elem(0.0);
    x.mask_fill(not_positive, 0.0)
}

/// Where `x` is NaN: `!(x ≥ -∞)`, which only NaN fails.
///
/// Burn 0.21's `is_nan` (and `x != x`) misses NaNs on ndarray's SIMD comparison path (seen on
/// a convolution's output of 100 values), which would let a max pool drop a NaN.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
///
/// let x = Tensor::<NdArray, 1>::from_floats([f32::NAN, 1.0, f32::NEG_INFINITY], &Default::default());
/// let mask = d2l_blocks::tensor::nan_mask(x).into_data().to_vec::<bool>().unwrap();
/// assert_eq!(mask, [true, false, false]);
/// ```
pub fn nan_mask<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D, Bool> {
    x.greater_equal_elem(f32::NEG_INFINITY).bool_not()
}
