//! Burn's built-in layers as blocks, printed as PyTorch prints their twins.

use burn::nn::{Dropout, Gelu, Linear, Relu, Sigmoid, Tanh};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::{Activation, BlockError, Forward, RankFn, impl_block};

struct LinearFn<'a, B: Backend>(&'a Linear<B>);

impl<B: Backend> RankFn<B> for LinearFn<'_, B> {
    fn call<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
        let [d_input, _] = self.0.weight.dims();
        if x.dims()[D - 1] != d_input {
            return Err(BlockError::Width { path: String::new(), expected: d_input, actual: x.dims().to_vec() });
        }
        let (param_device, input_device) = (self.0.weight.device(), x.device());
        if param_device != input_device {
            return Err(BlockError::Device {
                path: String::new(),
                expected: format!("{param_device:?}"),
                actual: format!("{input_device:?}"),
            });
        }
        Ok(self.0.forward(x))
    }
}

/// `y = x W + b` on the last dimension, for inputs of rank 1 to 6.
///
/// Weight shape follows Burn (`[in, out]`, `LinearLayout::Row`); the printout follows PyTorch.
impl<B: Backend> Forward<B> for Linear<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        x.map(&LinearFn(self))
    }

    fn repr(&self) -> String {
        let [d_input, d_output] = self.weight.shape().dims();
        let bias = if self.bias.is_some() { "True" } else { "False" };
        format!("Linear(in_features={d_input}, out_features={d_output}, bias={bias})")
    }
}
impl_block!(Linear<B>);

/// Declares an elementwise activation block: `$ty` applies `$f` at any rank.
macro_rules! elementwise {
    ($ty:ident, $repr:expr, |$this:ident, $x:ident| $body:expr) => {
        impl<B: Backend> Forward<B> for $ty {
            fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
                struct F<'a>(&'a $ty);
                impl<B: Backend> RankFn<B> for F<'_> {
                    fn call<const D: usize>(
                        &self,
                        $x: Tensor<B, D>,
                    ) -> Result<Tensor<B, D>, BlockError> {
                        let $this = self.0;
                        Ok($body)
                    }
                }
                x.map(&F(self))
            }

            fn repr(&self) -> String {
                let $this = self;
                let _ = $this;
                $repr
            }
        }
        impl_block!($ty);
    };
}

elementwise!(Relu, "ReLU()".to_string(), |this, x| this.forward(x));
elementwise!(Sigmoid, "Sigmoid()".to_string(), |this, x| this.forward(x));
elementwise!(Tanh, "Tanh()".to_string(), |this, x| this.forward(x));
elementwise!(Gelu, "GELU(approximate='none')".to_string(), |this, x| this.forward(x));
elementwise!(Dropout, format!("Dropout(p={}, inplace=False)", this.prob), |this, x| this.forward(x));
