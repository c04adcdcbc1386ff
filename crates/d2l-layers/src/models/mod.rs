//! The book's CNNs built from the blocks, as PyTorch builds them, each with Burn's Config →
//! `init` ([`LeNetConfig`], [`ResNetConfig`], [`ResNet18Config`]): [`lenet`] (§7.6),
//! [`Residual`] and [`resnet`] (§8.6), [`init_cnn`]; and torchvision's [`ResNet18`], whose
//! checkpoints load strictly.

mod config;
mod lenet;
mod residual;
mod resnet18;

pub use config::{LeNetConfig, ResNet18Config, ResNetConfig};
pub use lenet::{init_cnn, lenet};
pub use residual::{Residual, resnet};
pub use resnet18::{BasicBlock, ResNet18};

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use d2l_blocks::tensor::relu;
use d2l_blocks::{Activation, BlockError};

/// `relu(y + x)`, the join of a residual block; shapes must agree.
fn add_relu<B: Backend>(y: Activation<B>, x: Activation<B>) -> Result<Activation<B>, BlockError> {
    let (sy, sx) = (y.shape(), x.shape());
    if sy != sx {
        return Err(BlockError::Custom {
            path: String::new(),
            message: format!("the residual branch gives shape {sy:?} but the shortcut {sx:?}"),
        });
    }
    let rank = sy.len();
    if sy.contains(&0) {
        // Nothing to add (and cubecl runs no kernel over a zero-size tensor).
        return Ok(y);
    }
    let (y, x) = (y.into_primitive(), x.into_primitive());
    d2l_blocks::with_rank!(rank, D => {
        let sum = Tensor::<B, D>::from_primitive(y) + Tensor::<B, D>::from_primitive(x);
        Activation::from(relu(sum))
    })
    .ok_or(BlockError::UnsupportedRank {
        path: String::new(),
        rank,
    })
}

/// `relu(x)` at any rank.
fn relu_act<B: Backend>(x: Activation<B>) -> Result<Activation<B>, BlockError> {
    struct F;
    impl<B: Backend> d2l_blocks::RankFn<B> for F {
        fn call<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
            if x.shape().num_elements() == 0 {
                return Ok(x);
            }
            Ok(relu(x))
        }
    }
    x.map(&F)
}
