//! Burn's Config → `init` for the book's models: `LeNetConfig::new(10).init(&device)`.

use burn::config::Config;
use burn::tensor::backend::Backend;
use d2l_blocks::Sequential;

use super::{ResNet18, lenet, resnet};

/// The book's LeNet-5 (§7.6), Burn's way.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_layers::models::LeNetConfig;
///
/// let device = Default::default();
/// let net = LeNetConfig::new(10).init::<NdArray>(&device);
/// let logits: Tensor<NdArray, 2> = net.forward_tensor(Tensor::<NdArray, 4>::zeros([2, 1, 28, 28], &device)).unwrap();
/// assert_eq!(logits.dims(), [2, 10]);
/// ```
#[derive(Config, Debug)]
pub struct LeNetConfig {
    /// The number of classes (the last layer's width).
    pub num_classes: usize,
}

impl LeNetConfig {
    /// The network ([`lenet`]). Its lazy layers take their sizes from the first batch and
    /// are built on that batch's device; `device` is where that batch is expected.
    pub fn init<B: Backend>(&self, device: &B::Device) -> Sequential<B> {
        let _ = device;
        lenet(self.num_classes)
    }
}

/// The book's ResNet (§8.6), Burn's way: `arch` is `(num_residuals, num_channels)` per stage.
///
/// ```
/// use burn::backend::NdArray;
/// use d2l_layers::models::ResNetConfig;
///
/// let config = ResNetConfig::resnet18(10);
/// assert_eq!(config.arch, [(2, 64), (2, 128), (2, 256), (2, 512)]);
/// let net = config.init::<NdArray>(&Default::default());
/// assert_eq!(net.len(), 6); // b1, b2 … b5, last
/// ```
#[derive(Config, Debug)]
pub struct ResNetConfig {
    /// `(num_residuals, num_channels)` of each stage after the stem.
    pub arch: Vec<(usize, usize)>,
    /// The number of classes.
    pub num_classes: usize,
}

impl ResNetConfig {
    /// The book's ResNet-18: `arch = [(2, 64), (2, 128), (2, 256), (2, 512)]`.
    pub fn resnet18(num_classes: usize) -> Self {
        Self::new(vec![(2, 64), (2, 128), (2, 256), (2, 512)], num_classes)
    }

    /// The network ([`resnet`]); lazy layers as in [`LeNetConfig::init`].
    pub fn init<B: Backend>(&self, device: &B::Device) -> Sequential<B> {
        let _ = device;
        resnet(&self.arch, self.num_classes)
    }
}

/// torchvision's `resnet18(weights=None, num_classes=…)`, Burn's way.
#[derive(Config, Debug)]
pub struct ResNet18Config {
    /// The number of classes.
    #[config(default = 1000)]
    pub num_classes: usize,
}

impl ResNet18Config {
    /// The model, with Burn's default initialization, on `device` ([`ResNet18::new`]).
    pub fn init<B: Backend>(&self, device: &B::Device) -> ResNet18<B> {
        ResNet18::new(self.num_classes, device)
    }
}
