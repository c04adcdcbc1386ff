//! The book's residual block and ResNet (D2L §8.6).

use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::Relu;
use burn::nn::pool::{AdaptiveAvgPool2dConfig, MaxPool2dConfig};
use burn::tensor::backend::Backend;
use d2l_blocks::layers::Flatten;
use d2l_blocks::trace::call;
use d2l_blocks::{Activation, BlockError, Forward, Sequential, children, impl_block};

use super::{add_relu, relu_act};
use crate::{LazyBatchNorm2d, LazyConv2d, LazyLinear};

/// The book's `Residual` (§8.6): two 3×3 convolutions with batch norm, and a 1×1 convolution
/// on the shortcut when the shape changes. Children `conv1`, `conv2`, `conv3`, `bn1`, `bn2`,
/// in PyTorch's order, so keys and printout are the book's.
// ANCHOR: residual_def
#[derive(Module, Debug)]
pub struct Residual<B: Backend> {
    /// 3×3, stride `strides`.
    pub conv1: LazyConv2d<B>,
    /// 3×3.
    pub conv2: LazyConv2d<B>,
    /// 1×1 on the shortcut (`use_1x1conv`).
    pub conv3: Option<LazyConv2d<B>>,
    /// After `conv1`.
    pub bn1: LazyBatchNorm2d<B>,
    /// After `conv2`.
    pub bn2: LazyBatchNorm2d<B>,
}

impl<B: Backend> Residual<B> {
    /// `Residual(num_channels, use_1x1conv, strides)`.
    pub fn new(num_channels: usize, use_1x1conv: bool, strides: usize) -> Self {
        let conv3x3 = |s| {
            LazyConv2d::new(num_channels, [3, 3])
                .with_padding([1, 1])
                .with_stride([s, s])
        };
        Self {
            conv1: conv3x3(strides),
            conv2: conv3x3(1),
            conv3: use_1x1conv
                .then(|| LazyConv2d::new(num_channels, [1, 1]).with_stride([strides, strides])),
            bn1: LazyBatchNorm2d::new(),
            bn2: LazyBatchNorm2d::new(),
        }
    }
}

impl<B: Backend> Forward<B> for Residual<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let y = call("conv1", &self.conv1, x.clone())?;
        let y = relu_act(call("bn1", &self.bn1, y)?)?;
        let y = call("conv2", &self.conv2, y)?;
        let y = call("bn2", &self.bn2, y)?;
        let x = match &self.conv3 {
            Some(conv3) => call("conv3", conv3, x)?,
            None => x,
        };
        add_relu(y, x)
    }

    children!(B; conv1, conv2, conv3: option, bn1, bn2);
}
impl_block!(Residual<B>);
// ANCHOR_END: residual_def

/// What a `Residual` was built with.
impl<B: Backend> Residual<B> {
    /// `num_channels`.
    pub fn num_channels(&self) -> usize {
        self.conv1.spec().out_channels()
    }

    /// Whether the shortcut has the 1×1 convolution.
    pub fn use_1x1conv(&self) -> bool {
        self.conv3.is_some()
    }

    /// The stride of the first convolution (and of the shortcut's).
    pub fn strides(&self) -> usize {
        self.conv1.spec().stride()[0]
    }
}

/// The book's ResNet network (§8.6, `ResNet(arch, num_classes).net`): the 7×7 stem `b1`,
/// one `Sequential` of [`Residual`]s per `(num_residuals, num_channels)` of `arch` (`b2`, …),
/// and `last` (global average pool, flatten, lazy linear). ResNet-18 is
/// `arch = [(2, 64), (2, 128), (2, 256), (2, 512)]` ([`ResNetConfig::resnet18`](super::ResNetConfig::resnet18)).
pub fn resnet<B: Backend>(arch: &[(usize, usize)], num_classes: usize) -> Sequential<B> {
    let b1 = Sequential::new()
        .add(
            LazyConv2d::new(64, [7, 7])
                .with_stride([2, 2])
                .with_padding([3, 3]),
        )
        .add(LazyBatchNorm2d::new())
        .add(Relu::new())
        .add(
            MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
        );
    let mut net = Sequential::new().add(b1);
    for (i, &(num_residuals, num_channels)) in arch.iter().enumerate() {
        let mut block = Sequential::new();
        for j in 0..num_residuals {
            block = if j == 0 && i != 0 {
                block.add(Residual::new(num_channels, true, 2))
            } else {
                block.add(Residual::new(num_channels, false, 1))
            };
        }
        push(&mut net, format!("b{}", i + 2), block);
    }
    let last = Sequential::new()
        .add(AdaptiveAvgPool2dConfig::new([1, 1]).init())
        .add(Flatten::new())
        .add(LazyLinear::new(num_classes));
    push(&mut net, "last".to_owned(), last);
    net
}

/// Adds a stage under `name`; the names (`b2`, …, `last`) are valid and distinct by
/// construction, so `add_named` cannot refuse them — the positional name is the fallback.
fn push<B: Backend>(net: &mut Sequential<B>, name: String, stage: Sequential<B>) {
    let stage: Box<dyn d2l_blocks::Block<B>> = Box::new(stage);
    if let Err(_unreachable) = net.push_named_boxed(name, stage.clone()) {
        net.push_boxed(stage);
    }
}
