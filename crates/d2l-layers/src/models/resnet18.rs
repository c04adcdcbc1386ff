//! torchvision's `resnet18`, block for block, so that its `state_dict` loads strictly.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::backend::Backend;
use d2l_blocks::layers::{BatchNorm, Flatten};
use d2l_blocks::trace::call;
use d2l_blocks::{Activation, BlockError, Forward, Sequential, children, impl_block, tree};

use super::{add_relu, relu_act};

/// A `k × k` convolution without bias, padding `k / 2` (torchvision's `conv3x3`/`conv1x1`).
fn conv<B: Backend>(
    c_in: usize,
    c_out: usize,
    k: usize,
    stride: usize,
    device: &B::Device,
) -> Conv2d<B> {
    let p = k / 2;
    Conv2dConfig::new([c_in, c_out], [k, k])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_bias(false)
        .init(device)
}

/// torchvision's `BasicBlock`: `conv1`, `bn1`, `conv2`, `bn2` and an optional `downsample`
/// (`Sequential(conv1x1, BatchNorm2d)`).
#[derive(Module, Debug)]
pub struct BasicBlock<B: Backend> {
    /// 3×3, stride `stride`.
    pub conv1: Conv2d<B>,
    /// After `conv1`.
    pub bn1: BatchNorm<B>,
    /// 3×3.
    pub conv2: Conv2d<B>,
    /// After `conv2`.
    pub bn2: BatchNorm<B>,
    /// The shortcut's projection, when the shape changes.
    pub downsample: Option<Sequential<B>>,
}

impl<B: Backend> BasicBlock<B> {
    /// A block from `c_in` to `c_out` channels with `stride`.
    pub fn new(c_in: usize, c_out: usize, stride: usize, device: &B::Device) -> Self {
        let downsample = (stride != 1 || c_in != c_out).then(|| {
            Sequential::new()
                .add(conv(c_in, c_out, 1, stride, device))
                .add(BatchNorm::new_2d(c_out, device))
        });
        Self {
            conv1: conv(c_in, c_out, 3, stride, device),
            bn1: BatchNorm::new_2d(c_out, device),
            conv2: conv(c_out, c_out, 3, 1, device),
            bn2: BatchNorm::new_2d(c_out, device),
            downsample,
        }
    }
}

impl<B: Backend> Forward<B> for BasicBlock<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let y = relu_act(call(
            "bn1",
            &self.bn1,
            call("conv1", &self.conv1, x.clone())?,
        )?)?;
        let y = call("bn2", &self.bn2, call("conv2", &self.conv2, y)?)?;
        let x = match &self.downsample {
            Some(down) => call("downsample", down, x)?,
            None => x,
        };
        add_relu(y, x)
    }

    fn repr(&self) -> String {
        let mut parts = vec![
            ("conv1", Forward::<B>::repr(&self.conv1)),
            ("bn1", self.bn1.repr()),
            ("relu", "ReLU(inplace=True)".to_owned()),
            ("conv2", Forward::<B>::repr(&self.conv2)),
            ("bn2", self.bn2.repr()),
        ];
        if let Some(down) = &self.downsample {
            parts.push(("downsample", down.repr()));
        }
        tree("BasicBlock", parts)
    }

    children!(B; conv1, bn1, conv2, bn2, downsample: option);
}
impl_block!(BasicBlock<B>);

/// torchvision's `resnet18`: same children, keys (`layer2.0.downsample.1.running_var`),
/// buffers, printout and eval output, so `torch.save(resnet18().state_dict())` loads strictly
/// with `d2l_io::load_state` and a file saved from it loads with `load_state_dict(strict=True)`.
#[derive(Module, Debug)]
pub struct ResNet18<B: Backend> {
    /// The 7×7 stem, stride 2.
    pub conv1: Conv2d<B>,
    /// After the stem.
    pub bn1: BatchNorm<B>,
    /// 3×3, stride 2.
    pub maxpool: MaxPool2d,
    /// 64 channels.
    pub layer1: Sequential<B>,
    /// 128 channels, stride 2.
    pub layer2: Sequential<B>,
    /// 256 channels, stride 2.
    pub layer3: Sequential<B>,
    /// 512 channels, stride 2.
    pub layer4: Sequential<B>,
    /// Global average pool.
    pub avgpool: AdaptiveAvgPool2d,
    /// The classifier.
    pub fc: Linear<B>,
    flatten: Flatten,
}

impl<B: Backend> ResNet18<B> {
    /// `torchvision.models.resnet18(weights=None, num_classes=num_classes)` (Burn's default
    /// initialization; load a checkpoint for torchvision's).
    pub fn new(num_classes: usize, device: &B::Device) -> Self {
        let layer = |c_in: usize, c_out: usize, stride: usize| {
            Sequential::new()
                .add(BasicBlock::new(c_in, c_out, stride, device))
                .add(BasicBlock::new(c_out, c_out, 1, device))
        };
        Self {
            conv1: Conv2dConfig::new([3, 64], [7, 7])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(3, 3, 3, 3))
                .with_bias(false)
                .init(device),
            bn1: BatchNorm::new_2d(64, device),
            maxpool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            layer1: layer(64, 64, 1),
            layer2: layer(64, 128, 2),
            layer3: layer(128, 256, 2),
            layer4: layer(256, 512, 2),
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: LinearConfig::new(512, num_classes).init(device),
            flatten: Flatten::new(),
        }
    }
}

impl<B: Backend> Forward<B> for ResNet18<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let x = relu_act(call("bn1", &self.bn1, call("conv1", &self.conv1, x)?)?)?;
        let mut x = call("maxpool", &self.maxpool, x)?;
        for (name, layer) in [
            ("layer1", &self.layer1),
            ("layer2", &self.layer2),
            ("layer3", &self.layer3),
            ("layer4", &self.layer4),
        ] {
            x = call(name, layer, x)?;
        }
        let x = call("avgpool", &self.avgpool, x)?;
        call("fc", &self.fc, Forward::<B>::forward(&self.flatten, x)?)
    }

    fn repr(&self) -> String {
        tree(
            "ResNet",
            [
                ("conv1", Forward::<B>::repr(&self.conv1)),
                ("bn1", self.bn1.repr()),
                ("relu", "ReLU(inplace=True)".to_owned()),
                ("maxpool", Forward::<B>::repr(&self.maxpool)),
                ("layer1", self.layer1.repr()),
                ("layer2", self.layer2.repr()),
                ("layer3", self.layer3.repr()),
                ("layer4", self.layer4.repr()),
                ("avgpool", Forward::<B>::repr(&self.avgpool)),
                ("fc", Forward::<B>::repr(&self.fc)),
            ],
        )
    }

    children!(B; conv1, bn1, maxpool, layer1, layer2, layer3, layer4, avgpool, fc);
}
impl_block!(ResNet18<B>);
