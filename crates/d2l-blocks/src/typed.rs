//! [`TypedForward`]: a block's forward on typed tensors, the model run as the outermost
//! block (so its hooks tell it from another model: [`hooks::as_root`](crate::hooks::as_root)).

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::{BlockError, Forward};

/// The typed forward of every block — a `Sequential`, a derived model or a single layer:
/// rank-`I` tensor in, rank-`O` tensor out, both inferred where the types say them. A
/// classifier from images to logits: `let logits: Tensor<B, 2> = net.forward_tensor(x)?;`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::LinearConfig;
/// use burn::tensor::Tensor;
/// use d2l_blocks::{TypedForward, layers::Flatten};
///
/// let device = Default::default();
/// let linear = LinearConfig::new(6, 2).init::<NdArray>(&device);
/// let y: Tensor<NdArray, 2> = linear.forward_tensor(Tensor::<NdArray, 2>::ones([4, 6], &device)).unwrap();
/// assert_eq!(y.dims(), [4, 2]);
/// let flat: Tensor<NdArray, 2> = Flatten::new().forward_tensor(Tensor::<NdArray, 4>::ones([4, 1, 2, 3], &device)).unwrap();
/// assert_eq!(flat.dims(), [4, 6]);
/// ```
pub trait TypedForward<B: Backend>: Forward<B> {
    /// Runs the block on a rank-`I` tensor, expecting a rank-`O` output.
    ///
    /// # Errors
    /// The block's error; [`BlockError::Rank`] if the output is not of rank `O`.
    fn forward_tensor<const I: usize, const O: usize>(
        &self,
        x: Tensor<B, I>,
    ) -> Result<Tensor<B, O>, BlockError> {
        crate::hooks::as_root(self, || self.forward(x.into()))?.into_tensor()
    }
}

impl<B: Backend, T: Forward<B> + ?Sized> TypedForward<B> for T {}
