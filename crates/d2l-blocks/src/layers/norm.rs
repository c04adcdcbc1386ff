//! Burn's `LayerNorm` and `GroupNorm` as blocks. Their `gamma` / `beta` are PyTorch's
//! `weight` / `bias` wherever a key is used ([`path::torch_name`](crate::path::torch_name)).

use burn::nn::{GroupNorm, LayerNorm};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use super::check::{self, py_float};
use crate::{Activation, BlockError, Forward, RankFn, impl_block};

/// `LayerNorm` over the last dimension, at any rank.
impl<B: Backend> Forward<B> for LayerNorm<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        struct F<'a, B: Backend>(&'a LayerNorm<B>);
        impl<B: Backend> RankFn<B> for F<'_, B> {
            fn call<const D: usize>(
                &self,
                x: burn::tensor::Tensor<B, D>,
            ) -> Result<burn::tensor::Tensor<B, D>, BlockError> {
                let width = self.0.gamma.dims()[0];
                if x.dims()[D - 1] != width {
                    return Err(BlockError::Width {
                        path: String::new(),
                        expected: width,
                        actual: x.dims().to_vec(),
                    });
                }
                check::device::<B>(&self.0.gamma.device(), &x.device())?;
                if x.shape().num_elements() == 0 {
                    return Ok(x);
                }
                Ok(LayerNorm::forward(self.0, x))
            }
        }
        x.map(&F(self))
    }

    fn repr(&self) -> String {
        let bias = if self.beta.is_some() {
            ""
        } else {
            ", bias=False"
        };
        format!(
            "LayerNorm(({},), eps={}, elementwise_affine=True{bias})",
            self.gamma.dims()[0],
            py_float(layer_norm_epsilon(self))
        )
    }
}
impl_block!(LayerNorm<B>);

/// `LayerNorm`'s epsilon, a private field Burn shows only in its own printout
/// (`LayerNorm {d_model: 6, epsilon: 0.00001, …}`); PyTorch's default if that ever changes.
pub fn layer_norm_epsilon<B: Backend>(layer: &LayerNorm<B>) -> f64 {
    let shown = layer.to_string();
    shown
        .split_once("epsilon: ")
        .and_then(|(_, rest)| rest.split([',', '}']).next())
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(1e-5)
}

/// `GroupNorm` on `[N, C, …]`.
impl<B: Backend> Forward<B> for GroupNorm<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        struct F<'a, B: Backend>(&'a GroupNorm<B>);
        impl<B: Backend> RankFn<B> for F<'_, B> {
            fn call<const D: usize>(
                &self,
                x: burn::tensor::Tensor<B, D>,
            ) -> Result<burn::tensor::Tensor<B, D>, BlockError> {
                if D < 2 {
                    return Err(BlockError::Rank {
                        path: String::new(),
                        expected: 2,
                        actual: x.dims().to_vec(),
                    });
                }
                check::channels(self.0.num_channels, &x.dims())?;
                if let Some(gamma) = &self.0.gamma {
                    check::device::<B>(&gamma.device(), &x.device())?;
                }
                if x.shape().num_elements() == 0 {
                    return Ok(x);
                }
                Ok(group_norm(self.0, x))
            }
        }
        x.map(&F(self))
    }

    fn repr(&self) -> String {
        format!(
            "GroupNorm({}, {}, eps={}, affine={})",
            self.num_groups,
            self.num_channels,
            py_float(self.epsilon),
            if self.affine { "True" } else { "False" }
        )
    }
}
impl_block!(GroupNorm<B>);

/// Burn's group norm (statistics over each group's inner axis), with the per-channel affine on
/// operands repeated to `[N, C, 1]`: burn-flex broadcasts those fast, while Burn's `[1, C, 1, …]`
/// falls to its per-element path (issue 25).
fn group_norm<B: Backend, const D: usize>(norm: &GroupNorm<B>, x: Tensor<B, D>) -> Tensor<B, D> {
    let shape = x.dims();
    let (n, c) = (shape[0], shape[1]);
    let inner: usize = shape[2..].iter().product();
    let groups = norm.num_groups;
    let x = x.reshape([n, groups, c / groups * inner]);
    let centered = x.clone() - x.mean_dim(2);
    let var = centered.clone().square().mean_dim(2);
    let y = (centered / var.add_scalar(norm.epsilon).sqrt()).reshape([n, c, inner]);
    let rows = |t: Tensor<B, 1>| t.reshape([1, c, 1]).repeat_dim(0, n);
    let y = match (&norm.gamma, &norm.beta) {
        (Some(gamma), Some(beta)) if norm.affine => y * rows(gamma.val()) + rows(beta.val()),
        _ => y,
    };
    y.reshape(shape)
}
