//! [`Activation`]: a float tensor of any rank, the value that flows between blocks.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorMetadata, TensorPrimitive};

use crate::{BlockError, with_rank};

/// A float tensor whose rank is known at run time, so that blocks taking rank-1 (`[5]`) and
/// rank-2 (`[batch, features]`) inputs compose in one [`Sequential`](crate::Sequential).
///
/// Converting back to a typed `Tensor<B, D>` checks the rank and returns
/// [`BlockError::Rank`] on a mismatch instead of panicking.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_blocks::Activation;
///
/// let x = Tensor::<NdArray, 2>::ones([2, 3], &Default::default());
/// let act = Activation::from(x);
/// assert_eq!((act.rank(), act.shape()), (2, vec![2, 3]));
/// assert!(act.clone().into_tensor::<1>().is_err());
/// assert_eq!(act.into_tensor::<2>().unwrap().dims(), [2, 3]);
/// ```
#[derive(Debug, Clone)]
pub struct Activation<B: Backend> {
    primitive: TensorPrimitive<B>,
}

/// A function applied to a tensor of whichever rank an [`Activation`] holds.
///
/// Closures cannot be generic over a const rank, so rank-polymorphic block bodies implement
/// this trait and run through [`Activation::map`].
pub trait RankFn<B: Backend> {
    /// Applies the function to a rank-`D` tensor.
    ///
    /// # Errors
    /// Whatever the block reports ([`BlockError`], with an empty path).
    fn call<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError>;
}

impl<B: Backend, const D: usize> From<Tensor<B, D>> for Activation<B> {
    fn from(tensor: Tensor<B, D>) -> Self {
        Self {
            primitive: tensor.into_primitive(),
        }
    }
}

impl<B: Backend> Activation<B> {
    /// The number of dimensions.
    pub fn rank(&self) -> usize {
        self.primitive.rank()
    }

    /// The shape, outermost dimension first.
    pub fn shape(&self) -> Vec<usize> {
        self.primitive.shape().to_vec()
    }

    /// The device the tensor lives on.
    pub fn device(&self) -> B::Device {
        crate::tensor::device(&self.primitive)
    }

    /// An activation of Burn's rank-erased tensor.
    pub fn from_primitive(primitive: TensorPrimitive<B>) -> Self {
        Self { primitive }
    }

    /// Burn's rank-erased tensor.
    pub fn into_primitive(self) -> TensorPrimitive<B> {
        self.primitive
    }

    /// The tensor as a rank-`D` tensor.
    ///
    /// # Errors
    /// [`BlockError::Rank`] if the activation's rank is not `D`.
    pub fn into_tensor<const D: usize>(self) -> Result<Tensor<B, D>, BlockError> {
        if self.rank() == D {
            Ok(Tensor::from_primitive(self.primitive))
        } else {
            Err(BlockError::Rank {
                path: String::new(),
                expected: D,
                actual: self.shape(),
            })
        }
    }

    /// Applies `f` at the activation's own rank; the result has the same rank.
    ///
    /// # Errors
    /// [`BlockError::UnsupportedRank`] for rank 0 or above [`MAX_RANK`](crate::MAX_RANK), and
    /// whatever `f` returns.
    pub fn map<F: RankFn<B>>(self, f: &F) -> Result<Self, BlockError> {
        let rank = self.rank();
        let primitive = self.primitive;
        with_rank!(rank, D => f.call(Tensor::<B, D>::from_primitive(primitive)).map(Self::from))
            .unwrap_or(Err(BlockError::UnsupportedRank {
                path: String::new(),
                rank,
            }))
    }
}
