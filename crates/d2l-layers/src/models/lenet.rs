//! LeNet (D2L §7.6) and the book's `init_cnn`.

use burn::nn::Sigmoid;
use burn::nn::pool::AvgPool2dConfig;
use burn::tensor::backend::Backend;
use d2l_blocks::Sequential;
use d2l_blocks::layers::Flatten;
use d2l_params::{Init, ParamError, init_params};

use crate::{LazyConv2d, LazyLinear};

/// The book's LeNet-5 (§7.6): lazy convolutions and linear layers, sigmoids, average pools.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_layers::models::lenet;
///
/// let net = lenet::<NdArray>(10);
/// let summary = net.layer_summary(Tensor::<NdArray, 4>::zeros([1, 1, 28, 28], &Default::default())).unwrap();
/// assert_eq!(summary[0].to_string(), "Conv2d output shape:\t torch.Size([1, 6, 28, 28])");
/// assert_eq!(summary[11].shape, vec![1, 10]);
/// ```
pub fn lenet<B: Backend>(num_classes: usize) -> Sequential<B> {
    let pool = || AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
    Sequential::new()
        .add(LazyConv2d::new(6, [5, 5]).with_padding([2, 2]))
        .add(Sigmoid::new())
        .add(pool())
        .add(LazyConv2d::new(16, [5, 5]))
        .add(Sigmoid::new())
        .add(pool())
        .add(Flatten::new())
        .add(LazyLinear::new(120))
        .add(Sigmoid::new())
        .add(LazyLinear::new(84))
        .add(Sigmoid::new())
        .add(LazyLinear::new(num_classes))
}

/// The book's `init_cnn`: Xavier-uniform weights for every `Linear` and `Conv2d` (biases
/// keep theirs). Run it once the lazy layers have their shapes (after a first forward, as the
/// book's `apply_init` does).
///
/// # Errors
/// Never for these initializers; the signature is `init_params`'s.
pub fn init_cnn<B: Backend>(net: &mut Sequential<B>) -> Result<usize, ParamError> {
    init_params(net, |p| {
        let layer = matches!(p.container.as_str(), "Linear" | "Conv2d");
        (layer && p.name == "weight").then_some(Init::XavierUniform { gain: 1.0 })
    })
}
