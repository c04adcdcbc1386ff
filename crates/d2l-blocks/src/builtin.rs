//! Burn's built-in layers as blocks, printed as PyTorch prints their twins.

use burn::module::Module;
use burn::nn::{Gelu, Linear, Relu, Sigmoid, Tanh};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::{Activation, BlockError, Forward, RankFn, impl_block};

struct LinearFn<'a, B: Backend>(&'a Linear<B>);

impl<B: Backend> RankFn<B> for LinearFn<'_, B> {
    fn call<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
        let [d_input, _] = self.0.weight.dims();
        if x.dims()[D - 1] != d_input {
            return Err(BlockError::Width {
                path: String::new(),
                expected: d_input,
                actual: x.dims().to_vec(),
            });
        }
        let (param_device, input_device) = (self.0.weight.device(), x.device());
        if param_device != input_device {
            return Err(BlockError::Device {
                path: String::new(),
                expected: format!("{param_device:?}"),
                actual: format!("{input_device:?}"),
            });
        }
        let bias = self.0.bias.as_ref().map(|b| b.val());
        Ok(crate::tensor::linear(x, self.0.weight.val(), bias))
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

/// Declares an elementwise Burn activation a block: `$ty::forward` at any rank, printed as
/// `$repr`.
macro_rules! elementwise {
    ($ty:ident, |$this:ident| $repr:expr) => {
        elementwise!($ty, |$this| $repr, |f, x| f.forward(x));
    };
    ($ty:ident, |$this:ident| $repr:expr, |$f:ident, $x:ident| $apply:expr) => {
        impl<B: Backend> Forward<B> for $ty {
            fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
                struct F<'a>(&'a $ty);
                impl<B: Backend> RankFn<B> for F<'_> {
                    fn call<const D: usize>(
                        &self,
                        x: Tensor<B, D>,
                    ) -> Result<Tensor<B, D>, BlockError> {
                        // Elementwise on nothing is nothing (and cubecl cannot run a kernel
                        // over a zero-size tensor).
                        if x.shape().num_elements() == 0 {
                            return Ok(x);
                        }
                        let ($f, $x) = (self.0, x);
                        Ok($apply)
                    }
                }
                x.map(&F(self))
            }

            fn repr(&self) -> String {
                let $this = self;
                $repr
            }
        }
        impl_block!($ty);
    };
}

// NaN stays NaN, as in PyTorch (see `tensor::relu`).
elementwise!(Relu, |_this| "ReLU()".to_owned(), |_f, x| {
    crate::tensor::relu(x)
});
// flex's vectorized kernel, its backward from the saved output (`d2l_device::kernels`).
elementwise!(Sigmoid, |_this| "Sigmoid()".to_owned(), |_f, x| {
    d2l_device::kernels::sigmoid(x)
});
elementwise!(Tanh, |_this| "Tanh()".to_owned());
elementwise!(Gelu, |_this| "GELU(approximate='none')".to_owned());

/// PyTorch's `nn.Identity`: returns its input unchanged, at any rank.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_blocks::{Identity, Sequential};
///
/// let net = Sequential::<NdArray>::new().add(Identity::new());
/// let x = Tensor::<NdArray, 1>::from_floats([1.0, 2.0], &Default::default());
/// assert_eq!(net.forward(x).unwrap().into_data().to_vec::<f32>().unwrap(), vec![1.0, 2.0]);
/// assert_eq!(net.to_string(), "Sequential(\n  (0): Identity()\n)");
/// ```
#[derive(Module, Clone, Debug, Default)]
pub struct Identity;

impl Identity {
    /// A new identity block.
    pub fn new() -> Self {
        Self
    }
}

impl<B: Backend> Forward<B> for Identity {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        Ok(x)
    }

    fn repr(&self) -> String {
        "Identity()".to_owned()
    }
}
impl_block!(Identity);
