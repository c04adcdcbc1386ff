//! Reading parameters by PyTorch's dotted names (D2L §5.2.1).

use core::fmt;
use core::ops::Index;

use burn::module::{Module, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData, TensorMetadata, TensorPrimitive};
use d2l_blocks::{Block, visit_block};

use crate::ParamError;

/// Whether a parameter is stored transposed relative to PyTorch: a `Linear` weight.
///
/// **The one orientation rule.** Burn stores a `Linear` weight as `[in, out]`; PyTorch as
/// `[out, in]`. Everything in this crate that uses a PyTorch key (views, state dicts, errors,
/// initializer fans) reports and accepts PyTorch's `[out, in]`; typed access to the Burn
/// tensor ([`ParamView::tensor`]) gives Burn's `[in, out]`.
pub fn is_torch_transposed(name: &str, container_type: &str, rank: usize) -> bool {
    rank == 2 && name == "weight" && container_type == "Struct:Linear"
}

/// One parameter as seen from its container: key, id, value and trainability.
#[derive(Debug, Clone)]
pub struct ParamView<B: Backend> {
    key: String,
    id: ParamId,
    value: TensorPrimitive<B>,
    transposed: bool,
    requires_grad: bool,
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

    /// The shape in PyTorch's orientation (`[out, in]` for a Linear weight).
    pub fn shape(&self) -> Vec<usize> {
        let mut shape = self.value.shape().to_vec();
        if self.transposed {
            shape.reverse();
        }
        shape
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.value.shape().num_elements()
    }

    /// Whether the parameter is trainable (`requires_grad`). Always `false` on a backend
    /// without autodiff, where nothing records gradients.
    pub fn requires_grad(&self) -> bool {
        self.requires_grad
    }

    /// The value in PyTorch's orientation, read back to the host.
    pub fn data(&self) -> TensorData {
        let value = self.value.clone();
        match self.value.shape().num_dims() {
            2 if self.transposed => Tensor::<B, 2>::from_primitive(value).transpose().into_data(),
            1 => Tensor::<B, 1>::from_primitive(value).into_data(),
            2 => Tensor::<B, 2>::from_primitive(value).into_data(),
            3 => Tensor::<B, 3>::from_primitive(value).into_data(),
            4 => Tensor::<B, 4>::from_primitive(value).into_data(),
            5 => Tensor::<B, 5>::from_primitive(value).into_data(),
            _ => Tensor::<B, 6>::from_primitive(value).into_data(),
        }
    }

    /// The Burn tensor (Burn's orientation) at rank `D`.
    ///
    /// # Errors
    /// [`ParamError::Rank`] if the parameter's rank is not `D`.
    pub fn tensor<const D: usize>(&self) -> Result<Tensor<B, D>, ParamError> {
        let rank = self.value.shape().num_dims();
        if rank == D {
            Ok(Tensor::from_primitive(self.value.clone()))
        } else {
            Err(ParamError::Rank { path: self.key.clone(), expected: D, actual: rank })
        }
    }

    /// The gradient after `backward` (PyTorch orientation), or `None` before it or for a
    /// frozen parameter — the book's `net[2].weight.grad`.
    pub fn grad(&self, grads: &B::Gradients) -> Option<TensorData>
    where
        B: AutodiffBackend,
    {
        macro_rules! dispatch {
            ($($d:literal),*) => {
                match self.value.shape().num_dims() {
                    $($d => Tensor::<B, $d>::from_primitive(self.value.clone()).grad(grads).map(|g| {
                        if self.transposed && $d == 2 {
                            Tensor::<B::InnerBackend, 2>::from_primitive(g.into_primitive()).transpose().into_data()
                        } else {
                            g.into_data()
                        }
                    }),)*
                    _ => None,
                }
            };
        }
        dispatch!(1, 2, 3, 4, 5, 6)
    }
}

impl<B: Backend> fmt::Display for ParamView<B> {
    /// PyTorch's `Parameter containing:\ntensor([...], requires_grad=True)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let body = d2l_blocks::format_data(&self.data(), "tensor(".len());
        let grad = if self.requires_grad { "True" } else { "False" };
        write!(f, "Parameter containing:\ntensor({body}, requires_grad={grad})")
    }
}

/// Every parameter position of a module by key, in registration order: PyTorch's
/// `state_dict()`. A tied parameter appears under each of its keys.
#[derive(Debug, Clone)]
pub struct StateDict<B: Backend> {
    entries: Vec<ParamView<B>>,
}

impl<B: Backend> StateDict<B> {
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
        self.entries.iter().find(|e| e.key == key).ok_or_else(|| ParamError::UnknownKey {
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
    /// For an unknown key, with the closest keys; [`StateDict::get`] returns the error instead.
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

/// Walks parameters with their paths and container types.
#[derive(Default)]
pub(crate) struct PathVisitor {
    pub(crate) path: Vec<String>,
    pub(crate) containers: Vec<String>,
}

impl PathVisitor {
    pub(crate) fn enter(&mut self, name: &str, container: &str) {
        self.path.push(name.to_owned());
        self.containers.push(container.to_owned());
    }

    pub(crate) fn exit(&mut self) {
        self.path.pop();
        self.containers.pop();
    }

    pub(crate) fn key(&self) -> String {
        self.path.join(".")
    }

    pub(crate) fn transposed(&self, rank: usize) -> bool {
        match (self.path.last(), self.containers.last()) {
            (Some(name), Some(container)) => is_torch_transposed(name, container, rank),
            _ => false,
        }
    }
}

struct Collector<B: Backend> {
    at: PathVisitor,
    out: Vec<ParamView<B>>,
}

impl<B: Backend> ModuleVisitor<B> for Collector<B> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.at.enter(name, container_type);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.at.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        self.out.push(ParamView {
            key: self.at.key(),
            id: param.id,
            requires_grad: value.is_require_grad(),
            value: value.into_primitive(),
            transposed: self.at.transposed(D),
        });
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
/// assert_eq!(net[2].state_dict()["weight"].shape(), vec![1, 8]); // PyTorch's [out, in]
/// assert_eq!(net.state_dict()["2.bias"].shape(), vec![1]);
/// assert!(net.parameter("2.bais").is_err());
/// ```
pub trait Parameters<B: Backend> {
    /// Every parameter position, in registration order (tied parameters once per position).
    fn parameter_views(&self) -> Vec<ParamView<B>>;

    /// `(key, parameter)` in registration order, each parameter once: PyTorch's
    /// `named_parameters()` (`remove_duplicate=True`).
    fn named_parameters(&self) -> Vec<ParamView<B>> {
        let mut seen = Vec::new();
        self.parameter_views()
            .into_iter()
            .filter(|p| {
                let fresh = !seen.contains(&p.id);
                seen.push(p.id);
                fresh
            })
            .collect()
    }

    /// Every parameter position by key: PyTorch's `state_dict()`.
    fn state_dict(&self) -> StateDict<B> {
        StateDict { entries: self.parameter_views() }
    }

    /// The parameter under `key`.
    ///
    /// # Errors
    /// [`ParamError::UnknownKey`] with the closest existing keys.
    fn parameter(&self, key: &str) -> Result<ParamView<B>, ParamError> {
        self.state_dict().get(key).cloned()
    }
}

impl<B: Backend, M: Module<B>> Parameters<B> for M {
    fn parameter_views(&self) -> Vec<ParamView<B>> {
        let mut collector = Collector { at: PathVisitor::default(), out: Vec::new() };
        self.visit(&mut collector);
        collector.out
    }
}

impl<B: Backend> Parameters<B> for dyn Block<B> {
    fn parameter_views(&self) -> Vec<ParamView<B>> {
        let mut collector = Collector { at: PathVisitor::default(), out: Vec::new() };
        visit_block(self, &mut collector);
        collector.out
    }
}
