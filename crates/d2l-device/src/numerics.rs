//! What each backend computes for an f32 matmul or convolution, and the tolerances that follow.
//!
//! A test that compares a backend's results with PyTorch (or one device with another) states
//! the tolerance it needs on f32 kernels and asks this module to widen it for the backend at
//! hand; the policy lives here, in one place, derived rather than tuned.
//!
//! ## Which numbers to expect
//!
//! - **ndarray, flex, tch, wgpu**: f32 products accumulated in f32 — what PyTorch's CPU and its
//!   default CUDA matmul do. Results differ from PyTorch only in summation order: for a dot
//!   product `s = Σ aᵢbᵢ` of length `k`, `|ŝ − s| ≤ γₖ · Σ|aᵢbᵢ|` with `γₖ = k·u / (1 − k·u)`
//!   and `u = 2⁻²⁴` (the f32 unit roundoff) — about 6e-5 of `Σ|aᵢbᵢ|` at `k = 1000` in the
//!   worst case, and typically `√k·u`.
//! - **cuda**: Burn 0.21's CUDA matmul and convolutions run on tensor cores in **TF32** where
//!   the GPU has it (Ampere and later): cubek-matmul's `adjust_dtypes` stages f32 operands as
//!   `tf32`, and autotune picks those kernels. TF32 keeps 10 explicit mantissa bits: each
//!   operand is off by up to `u_tf32 = 2⁻¹⁰` (truncation; `2⁻¹¹` when rounded to nearest), so
//!   each product by up to `2·u_tf32 + u_tf32²`, and the sum (accumulated in f32) by
//!   `|ŝ − s| ≤ (2·u_tf32 + u_tf32² + γₖ·(1 + u_tf32)²) · Σ|aᵢbᵢ|` — about **2e-3** of
//!   `Σ|aᵢbᵢ|`, whatever `k`. PyTorch on CUDA keeps f32 matmuls in f32 by default
//!   (`torch.backends.cuda.matmul.allow_tf32 = False`) but lets cuDNN convolutions use TF32.
//!
//! Burn 0.21 has no switch for full-precision f32 matmul on CUDA: its `MatmulStrategy` offers
//! only `Autotune` and `Cube` (cubek's `Strategy::Auto`, a tensor-core kernel), `adjust_dtypes`
//! stages f32 as TF32 whenever the device registers the type (cubecl-cuda always does), and the
//! device properties are shared and read-only once a client exists. So the CUDA tolerance is
//! the TF32 one ([`Tolerance::for_backend`]).
//!
//! ```
//! use d2l_device::BackendKind;
//! use d2l_device::numerics::{MatmulInputs, Tolerance, dot_bound};
//!
//! assert_eq!(MatmulInputs::of(BackendKind::Cuda), MatmulInputs::Tf32);
//! // A length-512 dot product: f32 stays within 3.1e-5 of Σ|aᵢbᵢ|, TF32 within 2e-3.
//! assert!(dot_bound(MatmulInputs::F32, 512) < 3.1e-5);
//! assert!((dot_bound(MatmulInputs::Tf32, 512) - 1.98e-3).abs() < 1e-5);
//! // A test written for f32 kernels at 1e-5, through 3 layers: widened on CUDA only.
//! let tol = Tolerance::absolute(1e-5);
//! assert_eq!(tol.for_backend(BackendKind::Flex, 3), tol);
//! assert!(tol.for_backend(BackendKind::Cuda, 3).abs > 5e-3);
//! assert!(tol.check(&[1.0, 2.0], &[1.0, 2.000_001]).is_ok());
//! assert!(tol.check(&[1.0, 2.1], &[1.0, 2.0]).is_err());
//!
//! // Tensors' data: shapes first, then the values.
//! use burn::tensor::TensorData;
//! let a = TensorData::new(vec![1.0f32, 2.0], [2]);
//! assert!(tol.check_data(&a, &TensorData::new(vec![1.0f32, 2.0], [1, 2])).is_err());
//! assert!(tol.check_data(&a, &a).is_ok());
//! ```

use crate::BackendKind;

/// The f32 unit roundoff, `2⁻²⁴`.
pub const F32_ROUNDOFF: f64 = 1.0 / 16_777_216.0;

/// The error bound of one f32 value stored as TF32 (10 explicit mantissa bits), `2⁻¹⁰`:
/// truncation's bound, which also covers rounding to nearest (`2⁻¹¹`).
pub const TF32_ROUNDOFF: f64 = 1.0 / 1024.0;

/// The longest dot product in the book's models (ResNet-18's 3×3×512 convolutions), which
/// [`Tolerance::between_runs`] assumes.
pub const LONGEST_DOT: usize = 3 * 3 * 512;

/// How a backend's f32 matmuls and convolutions take their operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatmulInputs {
    /// As f32 (CPU backends, wgpu, PyTorch's default).
    F32,
    /// Rounded to TF32 on tensor cores (Burn 0.21's CUDA backend on Ampere and later).
    Tf32,
}

impl MatmulInputs {
    /// What `kind` does with f32 operands (CUDA: TF32, assuming a GPU that has it).
    pub const fn of(kind: BackendKind) -> MatmulInputs {
        match kind {
            BackendKind::Cuda => MatmulInputs::Tf32,
            _ => MatmulInputs::F32,
        }
    }

    /// The error bound of one operand as the kernel sees it (0 for f32: stored exactly).
    pub const fn operand_roundoff(self) -> f64 {
        match self {
            MatmulInputs::F32 => 0.0,
            MatmulInputs::Tf32 => TF32_ROUNDOFF,
        }
    }
}

/// The worst-case error of a length-`k` dot product, relative to `Σ|aᵢbᵢ|`:
/// `2·u_in + u_in² + γₖ·(1 + u_in)²` with `γₖ = k·u / (1 − k·u)`, `u` the f32 roundoff of the
/// accumulation and `u_in` the operands' ([`MatmulInputs::operand_roundoff`]).
pub fn dot_bound(inputs: MatmulInputs, k: usize) -> f64 {
    let u_in = inputs.operand_roundoff();
    let ku = k as f64 * F32_ROUNDOFF;
    let gamma = if ku < 1.0 {
        ku / (1.0 - ku)
    } else {
        f64::INFINITY
    };
    2.0 * u_in + u_in * u_in + gamma * (1.0 + u_in).powi(2)
}

/// An element-wise tolerance: `|actual − expected| ≤ abs + rel·|expected|`. NaN must meet NaN
/// and an infinity the same infinity.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// The absolute part.
    pub abs: f64,
    /// The part relative to the expected value.
    pub rel: f64,
}

impl Tolerance {
    /// `|actual − expected| ≤ abs`.
    pub const fn absolute(abs: f64) -> Tolerance {
        Tolerance { abs, rel: 0.0 }
    }

    /// `|actual − expected| ≤ abs + rel·|expected|`.
    pub const fn new(abs: f64, rel: f64) -> Tolerance {
        Tolerance { abs, rel }
    }

    /// This tolerance (stated for f32 kernels) on `kind`, for values that went through `depth`
    /// matmuls or convolutions: on TF32 backends each adds its operand error, `2·u_tf32 +
    /// u_tf32²` of its `Σ|aᵢbᵢ|`, to both parts — the tests' values and sums are of order one,
    /// so the absolute part carries it where an output is near zero. f32 backends keep the
    /// tolerance as stated.
    pub fn for_backend(self, kind: BackendKind, depth: usize) -> Tolerance {
        let u = MatmulInputs::of(kind).operand_roundoff();
        let widen = depth as f64 * (2.0 * u + u * u);
        Tolerance {
            abs: self.abs + widen,
            rel: self.rel + widen,
        }
    }

    /// How far two runs of the same computation on `kind` may differ, for values that went
    /// through `depth` matmuls or convolutions: not at all on the CPU backends (fixed kernels);
    /// on the autotuned ones (wgpu, cuda) a run made while autotune is still measuring may use
    /// another kernel, so two summation orders each within [`dot_bound`] of the exact value —
    /// for dot products up to [`LONGEST_DOT`] long — per layer.
    pub fn between_runs(kind: BackendKind, depth: usize) -> Tolerance {
        match kind {
            BackendKind::Wgpu | BackendKind::Cuda => {
                let bound = 2.0 * depth as f64 * dot_bound(MatmulInputs::of(kind), LONGEST_DOT);
                Tolerance::new(bound, bound)
            }
            _ => Tolerance::absolute(0.0),
        }
    }

    /// Checks `actual` against `expected`; the error names the worst element.
    ///
    /// # Errors
    /// A message with the index, both values and the allowed difference, or the lengths.
    pub fn check(&self, actual: &[f32], expected: &[f32]) -> Result<(), String> {
        if actual.len() != expected.len() {
            return Err(format!(
                "{} values, expected {}",
                actual.len(),
                expected.len()
            ));
        }
        let mut worst: Option<(usize, f64)> = None;
        for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
            let (a, e) = (f64::from(a), f64::from(e));
            if !e.is_finite() || !a.is_finite() {
                let same = (a.is_nan() && e.is_nan()) || a == e;
                if !same {
                    return Err(format!("element {i}: {a}, expected {e}"));
                }
                continue;
            }
            let excess = (a - e).abs() - (self.abs + self.rel * e.abs());
            if excess > 0.0 && worst.is_none_or(|(_, w)| excess > w) {
                worst = Some((i, excess));
            }
        }
        match worst {
            None => Ok(()),
            Some((i, _)) => Err(format!(
                "element {i}: {}, expected {} (allowed ±{:.3e})",
                actual[i],
                expected[i],
                self.abs + self.rel * f64::from(expected[i]).abs()
            )),
        }
    }

    /// Checks two tensors' data: same shape, then [`Tolerance::check`] on their values as f32.
    ///
    /// # Errors
    /// The shapes, or the worst element, as [`Tolerance::check`] reports it.
    pub fn check_data(
        &self,
        actual: &burn::tensor::TensorData,
        expected: &burn::tensor::TensorData,
    ) -> Result<(), String> {
        if actual.shape != expected.shape {
            return Err(format!(
                "shape {:?}, expected {:?}",
                actual.shape, expected.shape
            ));
        }
        let values = |data: &burn::tensor::TensorData| {
            data.clone()
                .convert::<f32>()
                .into_vec::<f32>()
                .map_err(|err| format!("{err:?}"))
        };
        self.check(&values(actual)?, &values(expected)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_follow_the_formula() {
        // f32: γ_k only; k = 1000 → 1000·2⁻²⁴ / (1 − 1000·2⁻²⁴) ≈ 5.96e-5.
        assert!((dot_bound(MatmulInputs::F32, 1000) - 5.9608e-5).abs() < 1e-8);
        // TF32: 2·2⁻¹⁰ + 2⁻²⁰ ≈ 1.9541e-3 before the accumulation term.
        let tf32 = dot_bound(MatmulInputs::Tf32, 1);
        assert!(
            (tf32 - (2.0 / 1024.0 + 1.0 / 1048576.0)).abs() < 1e-7,
            "{tf32}"
        );
        assert!(dot_bound(MatmulInputs::F32, 1 << 25).is_infinite());
        for kind in BackendKind::ALL {
            let expected = if kind == BackendKind::Cuda {
                MatmulInputs::Tf32
            } else {
                MatmulInputs::F32
            };
            assert_eq!(MatmulInputs::of(kind), expected, "{kind}");
        }
    }

    #[test]
    fn widens_only_tf32_backends_by_depth() {
        let tol = Tolerance::new(1e-5, 1e-6);
        assert_eq!(tol.for_backend(BackendKind::Wgpu, 10), tol);
        let cuda = tol.for_backend(BackendKind::Cuda, 2);
        let per_layer = 2.0 / 1024.0 + 1.0 / 1048576.0;
        assert!((cuda.abs - (1e-5 + 2.0 * per_layer)).abs() < 1e-12);
        assert!((cuda.rel - (1e-6 + 2.0 * per_layer)).abs() < 1e-12);
    }

    #[test]
    fn reruns_are_exact_on_fixed_kernels_only() {
        assert_eq!(
            Tolerance::between_runs(BackendKind::Flex, 5),
            Tolerance::absolute(0.0)
        );
        assert_eq!(
            Tolerance::between_runs(BackendKind::NdArray, 5),
            Tolerance::absolute(0.0)
        );
        let wgpu = Tolerance::between_runs(BackendKind::Wgpu, 1);
        assert!((wgpu.abs - 2.0 * dot_bound(MatmulInputs::F32, 4608)).abs() < 1e-12);
        assert!(Tolerance::between_runs(BackendKind::Cuda, 1).abs > 3.9e-3);
    }

    #[test]
    fn checks_values_and_non_finite_ones() {
        let tol = Tolerance::new(1e-3, 1e-2);
        assert!(tol.check(&[100.5, 0.0005], &[100.0, 0.0]).is_ok());
        let err = tol
            .check(&[1.0, 102.0, 0.5], &[1.0, 100.0, 0.0])
            .expect_err("too far");
        assert!(err.starts_with("element 1: 102, expected 100"), "{err}");
        assert!(
            tol.check(&[f32::NAN, f32::INFINITY], &[f32::NAN, f32::INFINITY])
                .is_ok()
        );
        assert!(tol.check(&[0.0], &[f32::NAN]).is_err());
        assert!(tol.check(&[f32::NAN], &[0.0]).is_err());
        assert!(tol.check(&[f32::NEG_INFINITY], &[f32::INFINITY]).is_err());
        assert!(tol.check(&[1.0], &[1.0, 2.0]).is_err());
    }
}
