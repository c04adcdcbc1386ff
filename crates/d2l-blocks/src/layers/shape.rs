//! Blocks that reshape or mix along a dimension: [`Flatten`], [`Softmax`], Burn's `LeakyRelu`
//! and `Embedding`, and [`cat`] for multi-branch blocks (Inception, DenseNet).

use burn::module::Module;
use burn::nn::{Embedding, LeakyRelu};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};

use super::check::py_float;
use crate::{Activation, BlockError, Forward, RankFn, impl_block, tensor};

/// A dimension index that may count from the end (`-1`), resolved against `rank`.
fn resolve_dim(dim: isize, rank: usize, shape: &[usize]) -> Result<usize, BlockError> {
    let resolved = if dim < 0 { rank as isize + dim } else { dim };
    usize::try_from(resolved)
        .ok()
        .filter(|&d| d < rank)
        .ok_or_else(|| BlockError::Custom {
            path: String::new(),
            message: format!("dimension {dim} is out of range for shape {shape:?}"),
        })
}

/// PyTorch's `nn.Flatten(start_dim=1, end_dim=-1)`: dimensions `start_dim..=end_dim` merged
/// into one.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_blocks::{Sequential, layers::Flatten};
///
/// let net = Sequential::<NdArray>::new().add(Flatten::new());
/// let y = net.forward_tensor::<4, 2>(Tensor::zeros([2, 3, 4, 5], &Default::default())).unwrap();
/// assert_eq!(y.dims(), [2, 60]);
/// assert_eq!(net[0].to_string(), "Flatten(start_dim=1, end_dim=-1)");
/// ```
#[derive(Module, Clone, Debug)]
pub struct Flatten {
    start_dim: isize,
    end_dim: isize,
}

impl Default for Flatten {
    fn default() -> Self {
        Self::new()
    }
}

impl Flatten {
    /// `Flatten()`: everything after the batch dimension.
    pub fn new() -> Self {
        Self::dims(1, -1)
    }

    /// `Flatten(start_dim, end_dim)`; negative dimensions count from the end.
    pub fn dims(start_dim: isize, end_dim: isize) -> Self {
        Self { start_dim, end_dim }
    }

    /// The first dimension flattened (negative counts from the end).
    pub fn start_dim(&self) -> isize {
        self.start_dim
    }

    /// The last dimension flattened (negative counts from the end).
    pub fn end_dim(&self) -> isize {
        self.end_dim
    }
}

impl<B: Backend> Forward<B> for Flatten {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let shape = x.shape();
        let start = resolve_dim(self.start_dim, shape.len(), &shape)?;
        let end = resolve_dim(self.end_dim, shape.len(), &shape)?;
        if start > end {
            return Err(BlockError::Custom {
                path: String::new(),
                message: format!(
                    "Flatten(start_dim={}, end_dim={}): start comes after end for shape {shape:?}",
                    self.start_dim, self.end_dim
                ),
            });
        }
        let mut out: Vec<usize> = shape[..start].to_vec();
        out.push(shape[start..=end].iter().product());
        out.extend(&shape[end + 1..]);
        Ok(Activation::from_primitive(tensor::reshape(
            x.into_primitive(),
            &out,
        )))
    }

    fn repr(&self) -> String {
        format!(
            "Flatten(start_dim={}, end_dim={})",
            self.start_dim, self.end_dim
        )
    }
}
impl_block!(Flatten);

/// PyTorch's `nn.Softmax(dim)`; negative dimensions count from the end.
#[derive(Module, Clone, Debug)]
pub struct Softmax {
    dim: isize,
}

impl Softmax {
    /// `Softmax(dim=dim)`.
    pub fn new(dim: isize) -> Self {
        Self { dim }
    }

    /// The dimension normalized (negative counts from the end).
    pub fn dim(&self) -> isize {
        self.dim
    }
}

impl<B: Backend> Forward<B> for Softmax {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        struct F(isize);
        impl<B: Backend> RankFn<B> for F {
            fn call<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
                let dim = resolve_dim(self.0, D, &x.dims())?;
                if x.shape().num_elements() == 0 {
                    return Ok(x);
                }
                Ok(burn::tensor::activation::softmax(x, dim))
            }
        }
        x.map(&F(self.dim))
    }

    fn repr(&self) -> String {
        format!("Softmax(dim={})", self.dim)
    }
}
impl_block!(Softmax);

/// Burn's `LeakyRelu`, printed as PyTorch's `LeakyReLU(negative_slope=0.2)`.
impl<B: Backend> Forward<B> for LeakyRelu {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        struct F<'a>(&'a LeakyRelu);
        impl<B: Backend> RankFn<B> for F<'_> {
            fn call<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
                if x.shape().num_elements() == 0 {
                    return Ok(x);
                }
                Ok(self.0.forward(x))
            }
        }
        x.map(&F(self))
    }

    fn repr(&self) -> String {
        format!(
            "LeakyReLU(negative_slope={})",
            py_float(self.negative_slope)
        )
    }
}
impl_block!(LeakyRelu);

/// Burn's `Embedding`: a row lookup, `[…] → […, d]`. Indices travel between blocks as float
/// activations, so they are checked to be integers in `0..n` (PyTorch's `IndexError`).
impl<B: Backend> Forward<B> for Embedding<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let [rows, width] = self.weight.dims();
        let shape = x.shape();
        if shape.len() + 1 > crate::MAX_RANK {
            return Err(BlockError::UnsupportedRank {
                path: String::new(),
                rank: shape.len() + 1,
            });
        }
        let device = x.device();
        crate::layers::check::device::<B>(&self.weight.device(), &device)?;
        let values = tensor::to_data(&x.into_primitive())
            .convert::<f64>()
            .to_vec::<f64>()
            .unwrap_or_default();
        let mut ids = Vec::with_capacity(values.len());
        for value in values {
            if value.fract() != 0.0 || value < 0.0 || value >= rows as f64 {
                return Err(BlockError::BadIndex {
                    path: String::new(),
                    value: value.to_string(),
                    len: rows,
                });
            }
            ids.push(value as i64);
        }
        let mut out = shape.clone();
        out.push(width);
        if ids.is_empty() {
            let y =
                Tensor::<B, 2>::from_data(TensorData::new(Vec::<f32>::new(), [0, width]), &device);
            return Ok(Activation::from_primitive(tensor::reshape(
                y.into_primitive(),
                &out,
            )));
        }
        let n = ids.len();
        let ids = Tensor::<B, 2, Int>::from_data(TensorData::new(ids, [1, n]), &device);
        let y = Embedding::forward(self, ids);
        Ok(Activation::from_primitive(tensor::reshape(
            y.into_primitive(),
            &out,
        )))
    }

    fn repr(&self) -> String {
        let [rows, width] = self.weight.dims();
        format!("Embedding({rows}, {width})")
    }
}
impl_block!(Embedding<B>);

/// Activations concatenated along `dim` — the join of a multi-branch block (GoogLeNet's
/// Inception, DenseNet's dense block: `torch.cat(outputs, dim=1)`).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_blocks::{Activation, layers::cat};
///
/// let device = Default::default();
/// let a = Activation::from(Tensor::<NdArray, 4>::zeros([2, 3, 4, 4], &device));
/// let b = Activation::from(Tensor::<NdArray, 4>::ones([2, 5, 4, 4], &device));
/// assert_eq!(cat(vec![a.clone(), b], 1).unwrap().shape(), vec![2, 8, 4, 4]);
/// assert!(cat(vec![a.clone(), a], 4).is_err());
/// ```
///
/// # Errors
/// [`BlockError::Custom`] naming the shapes if ranks differ, another dimension differs, `dim`
/// is out of range or there is nothing to join; [`BlockError::Device`] if devices differ.
pub fn cat<B: Backend>(xs: Vec<Activation<B>>, dim: usize) -> Result<Activation<B>, BlockError> {
    let shapes: Vec<Vec<usize>> = xs.iter().map(Activation::shape).collect();
    let Some(first) = shapes.first() else {
        return Err(BlockError::Custom {
            path: String::new(),
            message: "nothing to concatenate".into(),
        });
    };
    let fits = |s: &Vec<usize>| {
        s.len() == first.len()
            && s.iter()
                .zip(first)
                .enumerate()
                .all(|(i, (a, b))| i == dim || a == b)
    };
    if dim >= first.len() || !shapes.iter().all(fits) {
        return Err(BlockError::Custom {
            path: String::new(),
            message: format!("shapes {shapes:?} cannot be concatenated along dimension {dim}"),
        });
    }
    let device = xs[0].device();
    for x in &xs {
        crate::layers::check::device::<B>(&device, &x.device())?;
    }
    let parts = xs
        .into_iter()
        .map(|x| x.into_primitive().tensor())
        .collect();
    Ok(Activation::from_primitive(
        burn::tensor::TensorPrimitive::Float(B::float_cat(parts, dim)),
    ))
}
