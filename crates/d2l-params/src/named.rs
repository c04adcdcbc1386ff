//! Reading parameters by PyTorch's dotted names (D2L §5.2.1).

use core::fmt;
use core::ops::Index;
use std::collections::{HashMap, HashSet};

use burn::module::ParamId;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData, TensorMetadata, TensorPrimitive};
use d2l_blocks::path::{ParamSlot, Visitable, visit_params};
use d2l_blocks::tensor;

use crate::ParamError;

pub use d2l_blocks::path::is_torch_transposed;

/// One parameter as seen from its container: key, id, value and trainability.
#[derive(Debug, Clone)]
pub struct ParamView<B: Backend> {
    key: String,
    id: ParamId,
    value: TensorPrimitive<B>,
    transposed: bool,
    requires_grad: bool,
    buffer: bool,
    scalar: bool,
}

impl<B: Backend> ParamView<B> {
    /// The dotted key (`0.weight`, `0.block 1.2.bias`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Burn's parameter id (shared by the positions of a tied parameter).
    pub fn id(&self) -> ParamId {
        self.id
    }

    /// The shape in PyTorch's orientation (`[out, in]` for a Linear weight, `[]` for
    /// PyTorch's scalar buffers).
    pub fn shape(&self) -> Vec<usize> {
        if self.scalar {
            return Vec::new();
        }
        let mut shape = self.value.shape().to_vec();
        if self.transposed {
            shape.reverse();
        }
        shape
    }

    /// The element type of the stored values (what [`data`](Self::data) returns: int64 for
    /// PyTorch's scalar buffers).
    pub fn dtype(&self) -> burn::tensor::DType {
        if self.scalar {
            return burn::tensor::DType::I64;
        }
        self.value.dtype()
    }

    /// Whether this is a buffer (batch norm's running statistics): in `state_dict`, not in
    /// `named_parameters` ([`is_buffer`](d2l_blocks::buffer::is_buffer)).
    pub fn is_buffer(&self) -> bool {
        self.buffer
    }

    /// Whether this is PyTorch's int64 scalar held as a float `[1]` (`num_batches_tracked`;
    /// [`is_torch_scalar`](d2l_blocks::path::is_torch_scalar)).
    pub fn is_torch_scalar(&self) -> bool {
        self.scalar
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.value.shape().num_elements()
    }

    /// Whether the parameter is trainable (`requires_grad`).
    ///
    /// **On a backend without autodiff this is always `false`**: nothing records gradients
    /// there, as under PyTorch's `torch.no_grad()`/inference mode. Build the network on
    /// `Autodiff<B>` to train it (and to print `requires_grad=True` like the book).
    pub fn requires_grad(&self) -> bool {
        self.requires_grad
    }

    /// Whether [`data`](Self::data) transposes Burn's storage (a Linear weight; see
    /// [`is_torch_transposed`]).
    pub fn is_transposed(&self) -> bool {
        self.transposed
    }

    /// The value in PyTorch's orientation, dtype and shape, read back to the host.
    pub fn data(&self) -> TensorData {
        let data = tensor::to_data(&self.value);
        if self.scalar {
            let count = data.convert::<f64>().to_vec::<f64>().unwrap_or_default();
            let count = count.first().copied().unwrap_or_default().round() as i64;
            return TensorData::new(vec![count], Vec::<usize>::new());
        }
        if self.transposed {
            tensor::transpose_data(&data)
        } else {
            data
        }
    }

    /// The stored value, rank-erased, in Burn's orientation (a clone is a handle to the same
    /// values, as Burn's tensors are).
    pub fn primitive(&self) -> &TensorPrimitive<B> {
        &self.value
    }

    /// The stored values' bytes in Burn's orientation (a Linear weight `[in, out]`), borrowed
    /// where the backend keeps them on the host (flex, ndarray): no copy. `None` elsewhere;
    /// [`data`](Self::data) always works.
    pub fn host_bytes(&self) -> Option<&[u8]> {
        tensor::host_bytes(&self.value)
    }

    /// The Burn tensor (Burn's orientation) at rank `D` — the typed Burn accessor.
    ///
    /// # Errors
    /// [`ParamError::Rank`] if the parameter's rank is not `D`.
    pub fn tensor<const D: usize>(&self) -> Result<Tensor<B, D>, ParamError> {
        let rank = self.value.shape().num_dims();
        if rank == D {
            Ok(Tensor::from_primitive(self.value.clone()))
        } else {
            Err(ParamError::Rank {
                path: self.key.clone(),
                expected: D,
                actual: rank,
            })
        }
    }

    /// The gradient after `backward` (PyTorch orientation), or `None` before it or for a
    /// frozen parameter — the book's `net[2].weight.grad`.
    pub fn grad(&self, grads: &B::Gradients) -> Option<TensorData>
    where
        B: AutodiffBackend,
    {
        let grad = TensorPrimitive::<B::InnerBackend>::Float(B::grad(
            &self.value.clone().tensor(),
            grads,
        )?);
        let grad = if self.transposed {
            tensor::transpose(grad)
        } else {
            grad
        };
        Some(tensor::to_data(&grad))
    }
}

impl<B: Backend> fmt::Display for ParamView<B> {
    /// PyTorch's `Parameter containing:\ntensor([...], requires_grad=True)`; see
    /// [`requires_grad`](Self::requires_grad) for backends without autodiff.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.data();
        let body = d2l_blocks::format_data(&data, "tensor(".len());
        let size = d2l_blocks::size_suffix(&data.shape);
        let grad = if self.requires_grad { "True" } else { "False" };
        write!(
            f,
            "Parameter containing:\ntensor({body}{size}, requires_grad={grad})"
        )
    }
}

/// Every parameter position of a module by key, in registration order: PyTorch's
/// `state_dict()`. A tied parameter appears under each of its keys.
#[derive(Debug, Clone)]
pub struct StateDict<B: Backend> {
    entries: Vec<ParamView<B>>,
    index: HashMap<String, usize>,
}

impl<B: Backend> StateDict<B> {
    fn new(entries: Vec<ParamView<B>>) -> Self {
        let index = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.key.clone(), i))
            .collect();
        Self { entries, index }
    }

    /// The keys, in order.
    pub fn keys(&self) -> Vec<&str> {
        self.entries.iter().map(|e| e.key()).collect()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = &ParamView<B>> {
        self.entries.iter()
    }

    /// The entry for `key`.
    ///
    /// # Errors
    /// [`ParamError::UnknownKey`] with the closest existing keys.
    pub fn get(&self, key: &str) -> Result<&ParamView<B>, ParamError> {
        self.index
            .get(key)
            .map(|&i| &self.entries[i])
            .ok_or_else(|| ParamError::UnknownKey {
                key: key.to_owned(),
                closest: crate::error::closest(key, self.keys()),
            })
    }
}

impl<B: Backend> Index<&str> for StateDict<B> {
    type Output = ParamView<B>;

    /// `state_dict["2.bias"]`.
    ///
    /// # Panics
    /// For an unknown key, with the closest keys, as PyTorch raises `KeyError`;
    /// [`StateDict::get`] returns the error instead.
    fn index(&self, key: &str) -> &ParamView<B> {
        match self.get(key) {
            Ok(view) => view,
            Err(err) => panic!("{err}"),
        }
    }
}

impl<B: Backend> fmt::Display for StateDict<B> {
    /// One `key: shape` line per entry, PyTorch shapes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            writeln!(f, "{}: {:?}", e.key, e.shape())?;
        }
        Ok(())
    }
}

/// Parameter access by name for Burn modules and `dyn Block`s (D2L §5.2.1).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::{LinearConfig, Relu};
/// use d2l_blocks::Sequential;
/// use d2l_params::Parameters;
///
/// let device = Default::default();
/// let net = Sequential::<NdArray>::new()
///     .add(LinearConfig::new(4, 8).init(&device))
///     .add(Relu::new())
///     .add(LinearConfig::new(8, 1).init(&device));
/// let keys: Vec<String> = net.named_parameters().iter().map(|p| p.key().to_owned()).collect();
/// assert_eq!(keys, ["0.weight", "0.bias", "2.weight", "2.bias"]);
/// assert_eq!(net.param("0.weight").unwrap().shape(), vec![8, 4]); // PyTorch's [out, in]
/// assert_eq!(net[2].state_dict()["weight"].shape(), vec![1, 8]);
/// assert!(net.param("2.bais").is_err());
/// ```
pub trait Parameters<B: Backend> {
    /// Every parameter position, in registration order (tied parameters once per position).
    fn parameter_views(&self) -> Vec<ParamView<B>>;

    /// `(key, parameter)` in registration order, each parameter once: PyTorch's
    /// `named_parameters()` (`remove_duplicate=True`). Buffers are not parameters.
    fn named_parameters(&self) -> Vec<ParamView<B>> {
        let mut seen = HashSet::new();
        self.parameter_views()
            .into_iter()
            .filter(|p| !p.buffer && seen.insert(p.id))
            .collect()
    }

    /// `(key, buffer)` in registration order: PyTorch's `named_buffers()` (batch norm's
    /// `running_mean`, `running_var`, `num_batches_tracked`).
    fn named_buffers(&self) -> Vec<ParamView<B>> {
        self.parameter_views()
            .into_iter()
            .filter(|p| p.buffer)
            .collect()
    }

    /// Every parameter and buffer position by key: PyTorch's `state_dict()`.
    fn state_dict(&self) -> StateDict<B> {
        StateDict::new(self.parameter_views())
    }

    /// The parameter under `key` (PyTorch's key and orientation): the book's `net[0].weight`
    /// is `net.param("0.weight")?`.
    ///
    /// # Errors
    /// [`ParamError::UnknownKey`] with the closest existing keys.
    fn param(&self, key: &str) -> Result<ParamView<B>, ParamError> {
        let mut found = None;
        let mut keys = Vec::new();
        self.for_each_view(&mut |view| {
            if found.is_none() && view.key == key {
                found = Some(view);
            } else if found.is_none() {
                keys.push(view.key);
            }
        });
        found.ok_or_else(|| ParamError::UnknownKey {
            key: key.to_owned(),
            closest: crate::error::closest(key, keys.iter().map(String::as_str)),
        })
    }

    /// Walks the parameter positions as views (the one walk the other methods build on).
    #[doc(hidden)]
    fn for_each_view(&self, f: &mut dyn FnMut(ParamView<B>));
}

impl<B: Backend, T: Visitable<B> + ?Sized> Parameters<B> for T {
    fn parameter_views(&self) -> Vec<ParamView<B>> {
        let mut out = Vec::new();
        self.for_each_view(&mut |view| out.push(view));
        out
    }

    fn for_each_view(&self, f: &mut dyn FnMut(ParamView<B>)) {
        visit_params(self, |path, p: ParamSlot<B>| {
            let transposed = path.is_torch_transposed(p.value.shape().num_dims());
            let buffer = p.is_buffer();
            f(ParamView {
                key: path.key().to_owned(),
                id: p.id,
                value: p.value,
                transposed,
                requires_grad: p.requires_grad,
                buffer,
                scalar: path.is_torch_scalar(),
            });
        });
    }
}
