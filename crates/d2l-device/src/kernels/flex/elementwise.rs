//! `exp`, `sigmoid` and the sigmoid's backward on f32 slices: branch-free element functions
//! that LLVM vectorizes (compiled for the CPU's widest SIMD by `pulp`'s run-time dispatch),
//! threaded by rayon over large slices.

use rayon::prelude::*;

/// Elements per rayon task; smaller slices run on the calling thread.
const CHUNK: usize = 1 << 14;

/// Above this `e^x` is `+inf` in f32.
const EXP_HI: f32 = 88.722_84;
/// Below this `e^x` is under f32's smallest normal; we return 0 (PyTorch keeps denormals:
/// the difference is under 1.2e-38).
const EXP_LO: f32 = -87.336_55;

/// `e^x` to within 2 ulp over f32's normal range: Cody–Waite reduction `x = n ln 2 + r`,
/// Cephes' degree-6 polynomial for `e^r`, `2^n` built in the exponent bits. NaN stays NaN.
#[inline(always)]
pub(super) fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Round to nearest by the 1.5 · 2^23 trick: no rounding instruction needed.
    const ROUND: f32 = 12_582_912.0;
    let xc = x.clamp(EXP_LO, EXP_HI);
    let n = (xc * LOG2E + ROUND) - ROUND;
    let r = xc - n * LN2_HI - n * LN2_LO;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 5.000_000_1e-1;
    let er = p * r * r + r + 1.0;
    // n is in [-126, 128] after the clamp; 2^128 is not an f32, so the top case multiplies
    // 2^127 by 2. `as` saturates NaN to 0.
    let top = n > 127.0;
    let n = if top { n - 1.0 } else { n };
    let scale = f32::from_bits(((n as i32 + 127) << 23) as u32);
    let y = er * scale * if top { 2.0 } else { 1.0 };
    let y = if x > EXP_HI { f32::INFINITY } else { y };
    let y = if x < EXP_LO { 0.0 } else { y };
    if x.is_nan() { x } else { y }
}

/// `1 / (1 + e^-x)` without overflow: `e = e^-|x|` is in `(0, 1]`, then `1 / (1 + e)` for
/// `x ≥ 0` and `e / (1 + e)` below. NaN stays NaN.
#[inline(always)]
pub(super) fn sigmoid(x: f32) -> f32 {
    let e = exp(-x.abs());
    let s = 1.0 / (1.0 + e);
    if x >= 0.0 { s } else { e * s }
}

/// `grad · y · (1 − y)`, the sigmoid's input gradient from its output `y`.
#[inline(always)]
pub(super) fn sigmoid_grad(y: f32, grad: f32) -> f32 {
    grad * y * (1.0 - y)
}

/// `f` applied to every element of `values`, in place.
pub(super) fn map_in_place(values: &mut [f32], f: impl Fn(f32) -> f32 + Copy + Send + Sync) {
    let run = |chunk: &mut [f32]| {
        pulp::Arch::new().dispatch(
            #[inline(always)]
            || {
                for v in chunk.iter_mut() {
                    *v = f(*v);
                }
            },
        )
    };
    if values.len() <= CHUNK {
        run(values);
    } else {
        values.par_chunks_mut(CHUNK).for_each(run);
    }
}

/// `f(x)` for every element `x` of `input`, as a new vector.
pub(super) fn map(input: &[f32], f: impl Fn(f32) -> f32 + Copy + Send + Sync) -> Vec<f32> {
    let mut out = vec![0.0; input.len()];
    let run = |(out, input): (&mut [f32], &[f32])| {
        pulp::Arch::new().dispatch(
            #[inline(always)]
            || {
                for (o, &x) in out.iter_mut().zip(input) {
                    *o = f(x);
                }
            },
        )
    };
    if input.len() <= CHUNK {
        run((&mut out, input));
    } else {
        out.par_chunks_mut(CHUNK)
            .zip(input.par_chunks(CHUNK))
            .for_each(run);
    }
    out
}

/// `acc[i] = f(other[i], acc[i])` for every element, in place (`acc` and `other` have the same
/// length).
pub(super) fn zip_in_place(
    acc: &mut [f32],
    other: &[f32],
    f: impl Fn(f32, f32) -> f32 + Copy + Send + Sync,
) {
    let run = |(acc, other): (&mut [f32], &[f32])| {
        pulp::Arch::new().dispatch(
            #[inline(always)]
            || {
                for (a, &o) in acc.iter_mut().zip(other) {
                    *a = f(o, *a);
                }
            },
        )
    };
    if acc.len() <= CHUNK {
        run((acc, other));
    } else {
        acc.par_chunks_mut(CHUNK)
            .zip(other.par_chunks(CHUNK))
            .for_each(run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative error against the standard library's `exp` (correctly rounded within 1 ulp).
    #[test]
    fn exp_matches_std_to_2_ulp_over_the_normal_range() {
        let mut worst = 0.0f64;
        for i in -87_336..=88_722 {
            let x = i as f32 / 1000.0 + 0.000_37;
            let (ours, std) = (f64::from(exp(x)), f64::from(x.exp()));
            worst = worst.max(((ours - std) / std).abs());
        }
        assert!(worst < 2.5e-7, "worst relative error {worst:e}");
    }

    #[test]
    fn exp_edges_are_ieee() {
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp(100.0), f32::INFINITY);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp(-200.0), 0.0);
        assert!(exp(f32::NAN).is_nan());
        let top = exp(88.72);
        assert!(top.is_finite() && (top / 88.72f32.exp() - 1.0).abs() < 3e-7);
    }

    #[test]
    fn sigmoid_is_stable_in_both_tails() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert_eq!(sigmoid(f32::INFINITY), 1.0);
        assert_eq!(sigmoid(f32::NEG_INFINITY), 0.0);
        assert!(sigmoid(f32::NAN).is_nan());
        for x in [-80.0f32, -20.0, -3.5, -1e-3, 1e-3, 2.0, 17.0, 80.0] {
            let exact = 1.0 / (1.0 + (-f64::from(x)).exp());
            let rel = ((f64::from(sigmoid(x)) - exact) / exact).abs();
            assert!(rel < 3e-7, "sigmoid({x}) off by {rel:e}");
        }
    }

    #[test]
    fn threaded_maps_cover_every_element() {
        let n = 3 * CHUNK + 5;
        let input: Vec<f32> = (0..n).map(|i| (i % 97) as f32 / 10.0 - 4.0).collect();
        let out = map(&input, sigmoid);
        let mut inplace = input.clone();
        map_in_place(&mut inplace, sigmoid);
        let mut grad = vec![2.0; n];
        zip_in_place(&mut grad, &out, sigmoid_grad);
        for i in [0, CHUNK - 1, CHUNK, 2 * CHUNK + 1, n - 1] {
            let s = sigmoid(input[i]);
            assert_eq!((out[i], inplace[i], grad[i]), (s, s, 2.0 * s * (1.0 - s)));
        }
    }
}
