//! [`Dropout`]: PyTorch's `nn.Dropout`, with its own training mode.

use burn::module::Module;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};

use super::check::py_float;
use crate::mode::Mode;
use crate::{Activation, BlockError, Forward, RankFn, impl_block};

/// Dropout (D2L §5.6, §7): in training, zeroes each value with probability `p` and scales the
/// others by `1 / (1 - p)`; in evaluation, the identity.
///
/// Unlike Burn's `Dropout`, whose mode is always the backend's, it keeps its own [`Mode`]:
/// `net.eval()` reaches it wherever it sits, and it stays in that mode whoever calls it (its
/// container, a derived model through [`forward`](Self::forward), or the user) — PyTorch's
/// rule ([`mode`](crate::mode)). A NaN or infinity in the input stays one (it is multiplied,
/// never compared).
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use burn::tensor::Tensor;
/// use d2l_blocks::{Forward, Train, layers::Dropout};
///
/// type B = Autodiff<NdArray>;
/// let x = Tensor::<B, 2>::ones([8, 8], &Default::default());
/// let mut dropout = Dropout::<B>::new(0.5);
/// // Unset mode: the backend decides, and Autodiff trains — every value dropped or doubled.
/// let y = dropout.forward(x.clone()).into_data().to_vec::<f32>().unwrap();
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
/// dropout.eval();
/// assert_eq!(dropout.forward(x.clone()).into_data(), x.into_data());
/// assert_eq!(Forward::<B>::repr(&dropout), "Dropout(p=0.5, inplace=False)");
/// ```
#[derive(Module, Debug)]
pub struct Dropout<B: Backend> {
    prob: f64,
    training: Mode<B>,
}

impl<B: Backend> Dropout<B> {
    /// PyTorch's `nn.Dropout(p)`, checked: PyTorch refuses a `p` outside `[0, 1]`.
    ///
    /// # Errors
    /// [`BlockError::Custom`] naming `p` if it is not in `[0, 1]` (NaN included).
    ///
    /// ```
    /// use d2l_blocks::layers::Dropout;
    /// assert!(Dropout::<burn::backend::NdArray>::try_new(0.5).is_ok());
    /// let err = Dropout::<burn::backend::NdArray>::try_new(1.5).unwrap_err();
    /// assert_eq!(err.to_string(), "layer ``: dropout probability has to be between 0 and 1, but got 1.5");
    /// ```
    pub fn try_new(prob: f64) -> Result<Self, BlockError> {
        if (0.0..=1.0).contains(&prob) {
            Ok(Self::new(prob))
        } else {
            Err(BlockError::Custom {
                path: String::new(),
                message: format!("dropout probability has to be between 0 and 1, but got {prob}"),
            })
        }
    }

    /// PyTorch's `nn.Dropout(p)`; a `p` outside `[0, 1]` is clamped into it (NaN: 0) —
    /// [`try_new`](Self::try_new) refuses it instead.
    pub fn new(prob: f64) -> Self {
        let prob = if prob.is_nan() {
            0.0
        } else {
            prob.clamp(0.0, 1.0)
        };
        Self {
            prob,
            training: Mode::unset(),
        }
    }

    /// The probability of zeroing a value.
    pub fn prob(&self) -> f64 {
        self.prob
    }

    /// Applies dropout if this layer trains ([`Mode::resolve`]), else returns `x`.
    ///
    /// # Shapes
    /// - input: `[..., any]`
    /// - output: the input's shape
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Tensor<B, D> {
        if !self.training.resolve(&x.device()) || x.shape().num_elements() == 0 || self.prob <= 0.0
        {
            return x;
        }
        if self.prob >= 1.0 {
            // PyTorch multiplies by a zero mask: a NaN or infinity gives NaN.
            return x.mul_scalar(0.0);
        }
        let keep = x.random_like(Distribution::Bernoulli(1.0 - self.prob));
        (x * keep).div_scalar(1.0 - self.prob)
    }
}

impl<B: Backend> From<burn::nn::Dropout> for Dropout<B> {
    /// The same probability, with its own mode (unset).
    fn from(dropout: burn::nn::Dropout) -> Self {
        Self::new(dropout.prob)
    }
}

impl<B: Backend> Forward<B> for Dropout<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        struct F<'a, B: Backend>(&'a Dropout<B>);
        impl<B: Backend> RankFn<B> for F<'_, B> {
            fn call<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
                Ok(self.0.forward(x))
            }
        }
        x.map(&F(self))
    }

    fn repr(&self) -> String {
        format!("Dropout(p={}, inplace=False)", py_float(self.prob))
    }

    fn set_training(&mut self, training: bool) {
        self.training.set(training);
    }

    fn mode(&self) -> Option<bool> {
        self.training.get()
    }
}
impl_block!(Dropout<B>);
