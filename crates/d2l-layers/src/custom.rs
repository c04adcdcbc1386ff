//! The book's custom layers (D2L §5.4): with and without parameters.

use burn::module::{Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use d2l_blocks::{Activation, BlockError, Forward, RankFn, impl_block};

/// A layer without parameters that subtracts the mean: `y = x − mean(x)` (D2L §5.4.1).
///
/// The mean is over all elements, as the book's `X - X.mean()`.
///
/// # Shapes
/// Any rank (1 to 6) → the same shape.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_blocks::Sequential;
/// use d2l_layers::CenteredLayer;
///
/// let net = Sequential::<NdArray>::new().add(CenteredLayer::new());
/// let x = Tensor::<NdArray, 1>::from_floats([1.0, 2.0, 3.0, 4.0, 5.0], &Default::default());
/// let y = net.forward_tensor::<1, 1>(x).unwrap();
/// assert_eq!(y.into_data().to_vec::<f32>().unwrap(), vec![-2.0, -1.0, 0.0, 1.0, 2.0]);
/// ```
// ANCHOR: centered_def
#[derive(Module, Clone, Debug, Default)]
pub struct CenteredLayer;

impl CenteredLayer {
    /// A new layer.
    pub fn new() -> Self {
        Self
    }
}

struct Center;

impl<B: Backend> RankFn<B> for Center {
    fn call<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
        if x.shape().num_elements() == 0 {
            return Ok(x);
        }
        let mean = x.clone().mean();
        let shape = [1; D];
        Ok(x - mean.reshape(shape))
    }
}

impl<B: Backend> Forward<B> for CenteredLayer {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        x.map(&Center)
    }

    fn repr(&self) -> String {
        "CenteredLayer()".into()
    }
}
impl_block!(CenteredLayer);
// ANCHOR_END: centered_def

/// The book's `MyLinear(in_units, units)` (D2L §5.4.2): its own weight and bias, then ReLU.
///
/// `y = relu(x W + b)`, `W: [in_units, units] ~ N(0, 1)`, `b: [units] ~ N(0, 1)` — the weight is
/// stored `[in, units]` as in the book's PyTorch code (keys `weight`, `bias`; no transpose).
///
/// # Shapes
/// `[…, in_units]` → `[…, units]`.
// ANCHOR: my_linear_def
#[derive(Module, Debug)]
pub struct MyLinear<B: Backend> {
    /// `[in_units, units]`.
    pub weight: Param<Tensor<B, 2>>,
    /// `[units]`.
    pub bias: Param<Tensor<B, 1>>,
}

impl<B: Backend> MyLinear<B> {
    /// A new layer with standard-normal weight and bias.
    pub fn new(in_units: usize, units: usize, device: &B::Device) -> Self {
        Self {
            weight: Param::from_tensor(Tensor::random(
                [in_units, units],
                Distribution::Normal(0.0, 1.0),
                device,
            )),
            bias: Param::from_tensor(Tensor::random(
                [units],
                Distribution::Normal(0.0, 1.0),
                device,
            )),
        }
    }
}

struct MyLinearFn<'a, B: Backend>(&'a MyLinear<B>);

impl<B: Backend> RankFn<B> for MyLinearFn<'_, B> {
    fn call<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
        let [d_in, _] = self.0.weight.dims();
        let shape = x.dims().to_vec();
        if shape.last() != Some(&d_in) {
            return Err(BlockError::Width {
                path: String::new(),
                expected: d_in,
                actual: shape,
            });
        }
        let y = d2l_blocks::tensor::linear(x, self.0.weight.val(), Some(self.0.bias.val()));
        Ok(d2l_blocks::tensor::relu(y))
    }
}

impl<B: Backend> Forward<B> for MyLinear<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        x.map(&MyLinearFn(self))
    }

    fn repr(&self) -> String {
        "MyLinear()".into()
    }
}
impl_block!(MyLinear<B>);
// ANCHOR_END: my_linear_def
