//! The layers the exercises of D2L §5.4 ask for.

use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use d2l_blocks::tensor::matmul;
use d2l_blocks::{Activation, BlockError, Forward, RankFn, impl_block};

/// Exercise §5.4.1: `y_k = Σ_ij W_ijk x_i x_j`.
///
/// # Shapes
/// `[…, n]` → `[…, m]`, with `W: [n, n, m]`.
#[derive(Module, Debug)]
pub struct TensorReduction<B: Backend> {
    /// `W`, `[n, n, m]`.
    pub weight: Param<Tensor<B, 3>>,
}

impl<B: Backend> TensorReduction<B> {
    /// A layer from `n` inputs to `m` outputs, `W ~ N(0, 1)`.
    pub fn new(n: usize, m: usize, device: &B::Device) -> Self {
        Self {
            weight: Param::from_tensor(Tensor::random(
                [n, n, m],
                Distribution::Normal(0.0, 1.0),
                device,
            )),
        }
    }

    /// A layer with the given `W` (`[n, n, m]`).
    pub fn from_weight(weight: Tensor<B, 3>) -> Self {
        Self {
            weight: Param::from_tensor(weight),
        }
    }
}

/// Checks that the last dimension of `x` is `n`, runs `f` on `x` as rows `[…, n]` → `[rows, m]`,
/// and gives the result the shape of `x` with last dimension `m`.
fn on_rows<B: Backend, const D: usize>(
    x: Tensor<B, D>,
    n: usize,
    m: usize,
    f: impl FnOnce(Tensor<B, 2>) -> Tensor<B, 2>,
) -> Result<Tensor<B, D>, BlockError> {
    let shape = x.dims();
    if shape[D - 1] != n {
        return Err(BlockError::Width {
            path: String::new(),
            expected: n,
            actual: shape.to_vec(),
        });
    }
    let rows: usize = shape[..D - 1].iter().product();
    let mut out = shape;
    out[D - 1] = m;
    if rows == 0 || n == 0 || m == 0 {
        // Nothing to sum over or nothing to compute: the product is zeros. (Burn 0.21's
        // matmul and cubecl's reshape fail on zero-size tensors.)
        return Ok(Tensor::zeros(out, &x.device()));
    }
    Ok(f(x.reshape([rows, n])).reshape(out))
}

struct Reduce<'a, B: Backend>(&'a TensorReduction<B>);

impl<B: Backend> RankFn<B> for Reduce<'_, B> {
    fn call<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
        let [n, _, m] = self.0.weight.dims();
        on_rows(x, n, m, |x2| {
            // outer[r, i, j] = x_i x_j, flattened to [rows, n·n], times W as [n·n, m].
            let rows = x2.dims()[0];
            let outer = x2.clone().unsqueeze_dim::<3>(2) * x2.unsqueeze_dim::<3>(1);
            matmul(
                outer.reshape([rows, n * n]),
                self.0.weight.val().reshape([n * n, m]),
            )
        })
    }
}

impl<B: Backend> Forward<B> for TensorReduction<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        x.map(&Reduce(self))
    }

    fn repr(&self) -> String {
        let [n, _, m] = self.weight.dims();
        format!("TensorReduction(in_features={n}, out_features={m})")
    }
}
impl_block!(TensorReduction<B>);

/// Exercise §5.4.2: the first half of the discrete Fourier coefficients of the last axis.
///
/// For `x` of length `n` and `k < m = ⌈n/2⌉`: `Re X_k = Σ_t x_t cos(2πkt/n)`,
/// `Im X_k = −Σ_t x_t sin(2πkt/n)`, returned as `[Re X_0 … Re X_{m−1}, Im X_0 … Im X_{m−1}]`.
/// Computed as two matmuls with constant cos/sin matrices, so it runs on every backend and is
/// differentiable. NaN or infinite inputs give NaN outputs in the affected rows (IEEE).
///
/// # Shapes
/// `[…, n]` → `[…, 2m]`.
#[derive(Module, Debug)]
pub struct FourierHalf<B: Backend> {
    /// `[n, m]`: `cos(2πkt/n)`; a constant, not a parameter.
    pub cos: Tensor<B, 2>,
    /// `[n, m]`: `−sin(2πkt/n)`; a constant, not a parameter.
    pub sin: Tensor<B, 2>,
}

impl<B: Backend> FourierHalf<B> {
    /// The layer for inputs of length `n`.
    pub fn new(n: usize, device: &B::Device) -> Self {
        let m = n.div_ceil(2);
        let angle = |t: usize, k: usize| {
            2.0 * core::f64::consts::PI * (k * t % n.max(1)) as f64 / n.max(1) as f64
        };
        let table = |f: &dyn Fn(f64) -> f64| -> Tensor<B, 2> {
            let values: Vec<f32> = (0..n)
                .flat_map(|t| (0..m).map(move |k| (t, k)))
                .map(|(t, k)| f(angle(t, k)) as f32)
                .collect();
            Tensor::from_data(burn::tensor::TensorData::new(values, [n, m]), device)
        };
        Self {
            cos: table(&f64::cos),
            sin: table(&|a: f64| -a.sin()),
        }
    }
}

struct Dft<'a, B: Backend>(&'a FourierHalf<B>);

impl<B: Backend> RankFn<B> for Dft<'_, B> {
    fn call<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
        let [n, m] = self.0.cos.dims();
        on_rows(x, n, 2 * m, |x2| {
            let re = matmul(x2.clone(), self.0.cos.clone());
            let im = matmul(x2, self.0.sin.clone());
            Tensor::cat(vec![re, im], 1)
        })
    }
}

impl<B: Backend> Forward<B> for FourierHalf<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        x.map(&Dft(self))
    }

    fn repr(&self) -> String {
        let [n, m] = self.cos.dims();
        format!("FourierHalf(n={n}, coefficients={m})")
    }
}
impl_block!(FourierHalf<B>);
