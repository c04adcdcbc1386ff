//! [`Sequential`]: a heterogeneous, dynamic chain of blocks that is a real Burn `Module`.

use core::any::Any;
use core::fmt;
use core::ops::{Index, IndexMut};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use burn::module::{
    AutodiffModule, Devices, Module, ModuleDisplay, ModuleDisplayDefault, ModuleMapper,
    ModuleVisitor, ParamId,
};
use burn::record::{PrecisionSettings, Record};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData, TensorMetadata};
use serde::{Deserialize, Serialize};

use crate::block::{EraseMapper, EraseVisitor};
use crate::path::{ParamSlot, SEPARATOR, check_name, map_params, visit_params};
use crate::session::session;
use crate::{Activation, Block, BlockError, Forward, Lift, impl_block, tensor, tree};

/// The container type Sequential reports to Burn visitors (as `#[derive(Module)]` would).
const CONTAINER: &str = "Struct:Sequential";

/// A chain of blocks run in order: PyTorch's `nn.Sequential` (D2L §5.1.2).
///
/// Children may be of any block type (Burn's `Linear`, `Relu`, user blocks, other
/// `Sequential`s), are named `"0"`, `"1"`, … by [`add`](Self::add) or explicitly by
/// [`add_named`](Self::add_named), and are reached by index (`net[2]`, [`get`](Self::get)),
/// by type ([`child`](Self::child)) or by iteration.
///
/// `Sequential` implements Burn's `Module` and `AutodiffModule`: optimizers, `num_params`,
/// `fork`/`to_device`, `valid()`, recorders and burn-store see every child's parameters under
/// PyTorch's dotted paths (`0.weight`, `2.bias`, `0.block 1.0.weight`).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::module::Module;
/// use burn::nn::{LinearConfig, Relu};
/// use burn::tensor::Tensor;
/// use d2l_blocks::Sequential;
///
/// let device = Default::default();
/// let net = Sequential::<NdArray>::new()
///     .add(LinearConfig::new(20, 256).init(&device))
///     .add(Relu::new())
///     .add(LinearConfig::new(256, 10).init(&device));
/// let y = net.forward(Tensor::ones([2, 20], &device)).unwrap();
/// assert_eq!(y.dims(), [2, 10]);
/// assert_eq!(net.num_params(), 20 * 256 + 256 + 256 * 10 + 10);
/// assert_eq!(net.len(), 3);
/// assert!(net.get(3).is_none());
/// ```
pub struct Sequential<B: Backend> {
    children: Vec<(String, Box<dyn Block<B>>)>,
    /// Child name → position.
    index: HashMap<String, usize>,
    /// Set by `AutodiffModule::valid`: per child, the `Lift<AB>` back to the autodiff twin.
    lifts: Vec<Option<Arc<dyn Any + Send + Sync>>>,
    /// The first child [`add`](Sequential::add)ed with a parameter of an unsupported rank.
    invalid: Option<BlockError>,
    /// The mode set by [`train`](Sequential::train) / [`eval`](Sequential::eval), if any.
    training: Option<bool>,
}

impl<B: Backend> Default for Sequential<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> Clone for Sequential<B> {
    /// A deep copy with the same values; a [`Shared`](crate::Shared) child is copied once, so
    /// ties hold inside the copy and the copy does not alias the original.
    fn clone(&self) -> Self {
        // Burn initializes parameters lazily, and a clone of a parameter not drawn yet draws
        // its own values: draw every parameter first, so that the copy computes what the
        // original does (PyTorch's `deepcopy`).
        visit_params(self, |_, _: ParamSlot<B>| {});
        session(|| Self {
            children: self
                .children
                .iter()
                .map(|(n, c)| (n.clone(), c.clone_box()))
                .collect(),
            index: self.index.clone(),
            lifts: self.lifts.clone(),
            invalid: self.invalid.clone(),
            training: self.training,
        })
    }
}

impl<B: Backend> fmt::Debug for Sequential<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.children.iter().map(|(n, c)| (n, c)))
            .finish()
    }
}

impl<B: Backend> Sequential<B> {
    /// An empty chain; its forward is the identity, as in PyTorch.
    pub fn new() -> Self {
        Self {
            children: Vec::new(),
            index: HashMap::new(),
            lifts: Vec::new(),
            invalid: None,
            training: None,
        }
    }

    /// Puts every block of the tree in training mode — PyTorch's `net.train()`: dropout
    /// drops, batch norm normalizes with batch statistics and updates its running ones, on any
    /// backend ([`Train::train`](crate::Train::train), which every block has; this inherent
    /// twin wins over Burn's unrelated `Module::train`).
    pub fn train(&mut self) -> &mut Self {
        Forward::set_training(self, true);
        self
    }

    /// Puts every block of the tree in evaluation mode — PyTorch's `net.eval()`: dropout is
    /// the identity, batch norm uses its running statistics, even under `Autodiff`.
    pub fn eval(&mut self) -> &mut Self {
        Forward::set_training(self, false);
        self
    }

    /// The mode [`train`](Self::train) / [`eval`](Self::eval) set on this chain: `None` if
    /// neither was called (the backend decides: training under `Autodiff`).
    pub fn training(&self) -> Option<bool> {
        self.training
    }

    /// Appends `block` under the next positional name (`"0"`, `"1"`, …).
    ///
    /// A block with a parameter of a rank that cannot cross a `dyn Block` boundary (above
    /// [`MAX_RANK`](crate::MAX_RANK)) is kept, but the chain's [`forward`](Self::forward)
    /// returns [`BlockError::UnsupportedRank`] and visitors skip that parameter;
    /// [`try_add`](Self::try_add) rejects such a block instead.
    pub fn add(mut self, block: impl Block<B>) -> Self {
        self.push_boxed(Box::new(block));
        self
    }

    /// [`add`](Self::add), rejecting a block whose parameters cannot all cross a `dyn Block`
    /// boundary.
    ///
    /// # Errors
    /// [`BlockError::UnsupportedRank`] naming the parameter and its rank.
    pub fn try_add(mut self, block: impl Block<B>) -> Result<Self, BlockError> {
        let name = self.next_name();
        block.check_ranks().map_err(|e| e.within(&name))?;
        self.insert(name, Box::new(block));
        Ok(self)
    }

    /// Appends an already boxed block under the next positional name (see [`add`](Self::add)).
    pub fn push_boxed(&mut self, block: Box<dyn Block<B>>) {
        let name = self.next_name();
        self.insert(name, block);
    }

    /// Appends `block` under `name` (PyTorch's `add_module`), e.g. `"block 0"`.
    ///
    /// # Errors
    /// [`BlockError::InvalidName`] for an empty name or one containing `.` (the path
    /// separator), [`BlockError::DuplicateName`] if a child already has that name,
    /// [`BlockError::UnsupportedRank`] as [`try_add`](Self::try_add).
    pub fn add_named(
        mut self,
        name: impl Into<String>,
        block: impl Block<B>,
    ) -> Result<Self, BlockError> {
        let name = name.into();
        check_name(&name)?;
        if self.index.contains_key(&name) {
            return Err(BlockError::DuplicateName { name });
        }
        block.check_ranks().map_err(|e| e.within(&name))?;
        self.insert(name, Box::new(block));
        Ok(self)
    }

    /// Appends an already boxed block under `name` (see [`add_named`](Self::add_named)).
    ///
    /// # Errors
    /// As [`add_named`](Self::add_named).
    pub fn push_named_boxed(
        &mut self,
        name: impl Into<String>,
        block: Box<dyn Block<B>>,
    ) -> Result<(), BlockError> {
        let name = name.into();
        check_name(&name)?;
        if self.index.contains_key(&name) {
            return Err(BlockError::DuplicateName { name });
        }
        block.check_ranks().map_err(|e| e.within(&name))?;
        self.insert(name, block);
        Ok(())
    }

    /// The first positional name not taken (`"3"` after three children).
    fn next_name(&self) -> String {
        (self.children.len()..)
            .map(|i| i.to_string())
            .find(|name| !self.index.contains_key(name))
            .unwrap_or_default()
    }

    fn insert(&mut self, name: String, block: Box<dyn Block<B>>) {
        if self.invalid.is_none() {
            self.invalid = block.check_ranks().err().map(|e| e.within(&name));
        }
        self.index.insert(name.clone(), self.children.len());
        self.children.push((name, block));
        self.lifts.push(None);
    }

    /// Number of children.
    pub fn len(&self) -> usize {
        self.children.len()
    }

    /// Whether there are no children.
    pub fn is_empty(&self) -> bool {
        self.children.is_empty()
    }

    /// The child at `index`, or `None` past the end.
    pub fn get(&self, index: usize) -> Option<&dyn Block<B>> {
        self.children.get(index).map(|(_, c)| c.as_ref())
    }

    /// The child at `index`, mutably, or `None` past the end.
    pub fn get_mut(&mut self, index: usize) -> Option<&mut dyn Block<B>> {
        self.children.get_mut(index).map(|(_, c)| c.as_mut())
    }

    /// The boxed child at `index`, to replace it (e.g. with [`map_block`](crate::map_block)).
    pub fn get_boxed_mut(&mut self, index: usize) -> Option<&mut Box<dyn Block<B>>> {
        self.children.get_mut(index).map(|(_, c)| c)
    }

    /// The child at `index`, or [`BlockError::Index`].
    ///
    /// # Errors
    /// [`BlockError::Index`] past the end.
    pub fn try_get(&self, index: usize) -> Result<&dyn Block<B>, BlockError> {
        self.get(index).ok_or(BlockError::Index {
            index,
            len: self.len(),
        })
    }

    /// The child named `name` (`"block 0"`, `"2"`).
    pub fn get_named(&self, name: &str) -> Option<&dyn Block<B>> {
        self.index.get(name).and_then(|&i| self.get(i))
    }

    /// The child at `index` as its concrete type, or `None` if out of range or of another type.
    ///
    /// ```
    /// # use burn::backend::NdArray;
    /// # use burn::nn::{Linear, LinearConfig, Relu};
    /// # use d2l_blocks::Sequential;
    /// # let device = Default::default();
    /// let net = Sequential::<NdArray>::new().add(Relu::new()).add(LinearConfig::new(4, 2).init(&device));
    /// assert!(net.child::<Linear<NdArray>>(1).is_some());
    /// assert!(net.child::<Linear<NdArray>>(0).is_none());
    /// ```
    pub fn child<T: 'static>(&self, index: usize) -> Option<&T> {
        self.get(index)?.as_any().downcast_ref()
    }

    /// The child at `index` as its concrete type, mutably.
    pub fn child_mut<T: 'static>(&mut self, index: usize) -> Option<&mut T> {
        self.get_mut(index)?.as_any_mut().downcast_mut()
    }

    /// Children in order, with their names.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &dyn Block<B>)> {
        self.children.iter().map(|(n, c)| (n.as_str(), c.as_ref()))
    }

    /// Runs the children in order (D2L's `net(X)`) on a rank-`D` tensor that stays rank `D`
    /// — the common case, no turbofish: `net.forward(x)?`. An empty chain returns `x`.
    ///
    /// # Errors
    /// The first child's error, with its dotted path (`"0.block 1.2"`);
    /// [`BlockError::Rank`] if the output is not of rank `D` (use
    /// [`forward_tensor`](Self::forward_tensor) for a chain that changes the rank).
    pub fn forward<const D: usize>(&self, x: Tensor<B, D>) -> Result<Tensor<B, D>, BlockError> {
        self.forward_activation(x)?.into_tensor()
    }

    /// [`forward`](Self::forward) from a rank-`I` tensor to a rank-`O` tensor (the book's
    /// `FixedHiddenMLP` returns a scalar: `forward_tensor::<2, 1>`).
    ///
    /// # Errors
    /// As `forward`, and [`BlockError::Rank`] if the output is not of rank `O`.
    pub fn forward_tensor<const I: usize, const O: usize>(
        &self,
        x: Tensor<B, I>,
    ) -> Result<Tensor<B, O>, BlockError> {
        self.forward_activation(x)?.into_tensor()
    }

    /// [`forward`](Self::forward) on an [`Activation`] of any rank.
    ///
    /// # Errors
    /// As `forward`.
    pub fn forward_activation(
        &self,
        x: impl Into<Activation<B>>,
    ) -> Result<Activation<B>, BlockError> {
        if let Some(err) = &self.invalid {
            return Err(err.clone());
        }
        let x = x.into();
        self.children.iter().try_fold(x, |x, (name, child)| {
            crate::trace::call(name, child.as_ref(), x)
        })
    }

    /// Calls `f` on every block of the tree, children before parents and the chain itself
    /// last (path `""`), each [`Shared`](crate::Shared) block once — PyTorch's
    /// `net.apply(fn)`. Downcast to act on a type:
    ///
    /// ```
    /// use burn::backend::NdArray;
    /// use burn::nn::{Linear, LinearConfig, Relu};
    /// use d2l_blocks::Sequential;
    ///
    /// let device = Default::default();
    /// let mut net = Sequential::<NdArray>::new()
    ///     .add(LinearConfig::new(4, 8).init(&device))
    ///     .add(Sequential::new().add(Relu::new()));
    /// let mut seen = Vec::new();
    /// net.apply(|path, block| {
    ///     seen.push((path.to_owned(), block.downcast_ref::<Linear<NdArray>>().is_some()));
    /// });
    /// let paths: Vec<&str> = seen.iter().map(|(p, _)| p.as_str()).collect();
    /// assert_eq!(paths, ["0", "1.0", "1", ""]);
    /// assert!(seen[0].1);
    /// ```
    ///
    /// burn-store's `ModuleSnapshot::apply` has the same name: call it as
    /// `ModuleSnapshot::apply(&mut net, …)`.
    pub fn apply(&mut self, f: impl FnMut(&str, &mut dyn Block<B>)) {
        crate::path::apply(self, f);
    }

    /// [`apply`](Self::apply) with a fallible `f` (the book's `init_normal` that may fail):
    /// the walk stops at the first error.
    ///
    /// # Errors
    /// The first error `f` returns.
    pub fn try_apply<E>(
        &mut self,
        f: impl FnMut(&str, &mut dyn Block<B>) -> Result<(), E>,
    ) -> Result<(), E> {
        crate::path::try_apply(self, f)
    }
}

impl<B: Backend> Forward<B> for Sequential<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        self.forward_activation(x)
    }

    fn children(&self) -> Vec<(&str, &dyn Block<B>)> {
        self.iter().collect()
    }

    fn children_mut(&mut self) -> Vec<(&str, &mut dyn Block<B>)> {
        self.children
            .iter_mut()
            .map(|(n, c)| (n.as_str(), c.as_mut()))
            .collect()
    }

    fn materialize_for(&self, shapes: &[(String, Vec<usize>)], device: &B::Device) {
        let mut parts: HashMap<&str, Vec<(String, Vec<usize>)>> = HashMap::new();
        for (key, shape) in shapes {
            if let Some((child, rest)) = key.split_once(SEPARATOR) {
                parts
                    .entry(child)
                    .or_default()
                    .push((rest.to_owned(), shape.clone()));
            }
        }
        for (name, child) in &self.children {
            if let Some(part) = parts.get(name.as_str()) {
                child.materialize_for(part, device);
            }
        }
    }

    fn set_training(&mut self, training: bool) {
        self.training = Some(training);
        for (_, child) in &mut self.children {
            child.set_training(training);
        }
    }

    fn mode(&self) -> Option<bool> {
        self.training
    }

    fn repr(&self) -> String {
        tree(
            "Sequential",
            self.children.iter().map(|(n, c)| (n.as_str(), c.repr())),
        )
    }
}
impl_block!(Sequential<B>);

impl<B: Backend> fmt::Display for Sequential<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Forward::repr(self))
    }
}

impl<B: Backend> Index<usize> for Sequential<B> {
    type Output = dyn Block<B>;

    /// The child at `index` (`net[2]`).
    ///
    /// # Panics
    /// Past the end, as slice indexing does; [`Sequential::get`] returns an `Option` instead.
    fn index(&self, index: usize) -> &Self::Output {
        match self.get(index) {
            Some(child) => child,
            None => panic!(
                "index {index} out of range for a Sequential of {} children",
                self.len()
            ),
        }
    }
}

impl<B: Backend> IndexMut<usize> for Sequential<B> {
    fn index_mut(&mut self, index: usize) -> &mut Self::Output {
        let len = self.len();
        match self.get_mut(index) {
            Some(child) => child,
            None => panic!("index {index} out of range for a Sequential of {len} children"),
        }
    }
}

impl<B: Backend> dyn Block<B> {
    /// The block as its concrete type, if it is a `T`.
    pub fn downcast_ref<T: 'static>(&self) -> Option<&T> {
        self.as_any().downcast_ref()
    }

    /// The block as its concrete type, mutably, if it is a `T`.
    pub fn downcast_mut<T: 'static>(&mut self) -> Option<&mut T> {
        self.as_any_mut().downcast_mut()
    }

    /// The block as a [`Sequential`], if it is one (for `rgnet[0][1][0]`).
    pub fn as_sequential(&self) -> Option<&Sequential<B>> {
        self.downcast_ref()
    }
}

impl<B: Backend> Index<usize> for dyn Block<B> {
    type Output = dyn Block<B>;

    /// Child `index` of a nested [`Sequential`] (`rgnet[0][1][0]`).
    ///
    /// # Panics
    /// If the block is not a `Sequential` or has no such child; use
    /// `as_sequential()` and [`Sequential::get`] to get `Option`s.
    fn index(&self, index: usize) -> &Self::Output {
        match self.as_sequential() {
            Some(seq) => &seq[index],
            None => panic!(
                "`{}` is not a Sequential and has no children by index",
                self.type_name()
            ),
        }
    }
}

impl<B: Backend> fmt::Display for dyn Block<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.repr())
    }
}

impl<B: Backend> Module<B> for Sequential<B> {
    type Record = SequentialRecord<B>;

    fn collect_devices(&self, devices: Devices<B>) -> Devices<B> {
        self.children
            .iter()
            .fold(devices, |d, (_, c)| c.collect_devices_erased(d))
    }

    /// Like [`to_device`](Module::to_device), and each parameter starts a fresh autodiff graph.
    fn fork(self, device: &B::Device) -> Self {
        self.map(&mut d2l_device::Relocate::fork(device))
    }

    /// Moves every parameter, staging copies through the host ([`d2l_device::transfer`]): Burn
    /// 0.21's own `to_device` panics between two wgpu devices.
    fn to_device(self, device: &B::Device) -> Self {
        self.map(&mut d2l_device::Relocate::to(device))
    }

    fn visit<V: ModuleVisitor<B>>(&self, visitor: &mut V) {
        for (name, child) in &self.children {
            visitor.enter_module(name, CONTAINER);
            child.visit_erased(&mut EraseVisitor(visitor));
            visitor.exit_module(name, CONTAINER);
        }
    }

    /// Maps every child; a [`Shared`](crate::Shared) child is mapped once per walk.
    fn map<M: ModuleMapper<B>>(mut self, mapper: &mut M) -> Self {
        session(|| {
            self.children = self
                .children
                .into_iter()
                .map(|(name, child)| {
                    mapper.enter_module(&name, CONTAINER);
                    let child = child.map_erased(&mut EraseMapper(mapper));
                    mapper.exit_module(&name, CONTAINER);
                    (name, child)
                })
                .collect();
            self
        })
    }

    /// Counts each parameter once, even if a [`Shared`](crate::Shared) block holds it at
    /// several positions.
    fn num_params(&self) -> usize {
        let mut seen = HashSet::new();
        let mut count = 0;
        visit_params(self, |_, p: ParamSlot<B>| {
            if seen.insert(p.id) {
                count += p.value.shape().num_elements();
            }
        });
        count
    }

    fn into_record(self) -> Self::Record {
        let mut params = Vec::new();
        visit_params(&self, |path, p: ParamSlot<B>| {
            params.push(ParamItem {
                path: path.key().to_owned(),
                id: p.id.val(),
                data: tensor::to_data(&p.value),
            });
        });
        SequentialRecord {
            params,
            _backend: core::marker::PhantomData,
        }
    }

    /// Loads parameters by path; lazy children first create the parameters the record has
    /// shapes for ([`Forward::materialize_for`]).
    fn load_record(self, record: Self::Record) -> Self {
        let shapes: Vec<(String, Vec<usize>)> = record
            .params
            .iter()
            .map(|p| (p.path.clone(), p.data.shape.to_vec()))
            .collect();
        // On the device of the parameters the network has, else the default one.
        let device = self.devices().into_iter().next().unwrap_or_default();
        Forward::materialize_for(&self, &shapes, &device);
        let by_path: HashMap<&str, &ParamItem> =
            record.params.iter().map(|p| (p.path.as_str(), p)).collect();
        map_params(self, |path, p: ParamSlot<B>| {
            let item = by_path.get(path.key())?;
            if item.data.shape.as_slice() != p.shape().as_slice() {
                return None;
            }
            let device = tensor::device(&p.value);
            Some(ParamSlot {
                id: ParamId::from(item.id),
                value: tensor::from_data(item.data.clone(), &device),
                requires_grad: p.requires_grad,
            })
        })
    }
}

impl<B: AutodiffBackend> AutodiffModule<B> for Sequential<B> {
    type InnerModule = Sequential<B::InnerBackend>;

    fn valid(&self) -> Self::InnerModule {
        session(|| {
            let mut inner = Sequential::new();
            for (name, child) in &self.children {
                let (valid, lift) = child.valid_boxed();
                inner.insert(name.clone(), valid);
                if let Some(slot) = inner.lifts.last_mut() {
                    *slot = Some(Arc::new(lift) as Arc<dyn Any + Send + Sync>);
                }
            }
            inner
        })
    }

    /// The autodiff twin of a `Sequential` that [`valid`](AutodiffModule::valid) produced.
    ///
    /// # Panics
    /// For a child that did not come from `valid()` (a `Sequential` built directly on the
    /// inner backend): a `dyn` child cannot name the autodiff backend to convert itself to.
    fn from_inner(module: Self::InnerModule) -> Self {
        session(|| Self::lift_children(module))
    }
}

impl<B: AutodiffBackend> Sequential<B> {
    fn lift_children(module: Sequential<B::InnerBackend>) -> Self {
        let mut outer = Sequential::new();
        for ((name, child), lift) in module.children.into_iter().zip(module.lifts) {
            let lifted = lift
                .and_then(|l| l.downcast::<Lift<B>>().ok())
                .and_then(|lift| lift(child));
            match lifted {
                Some(child) => outer.insert(name, child),
                None => panic!(
                    "Sequential::from_inner: child `{name}` was not produced by valid(); \
                     build the network on the autodiff backend instead"
                ),
            }
        }
        outer
    }
}

impl<B: Backend> ModuleDisplayDefault for Sequential<B> {
    fn content(&self, content: burn::module::Content) -> Option<burn::module::Content> {
        Some(content.set_top_level_type("Sequential"))
    }
}

impl<B: Backend> ModuleDisplay for Sequential<B> {}

/// A parameter of a [`SequentialRecord`]: its dotted path, id and value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamItem {
    /// Dotted path (`0.weight`).
    pub path: String,
    /// Burn's parameter id, serialized.
    pub id: u64,
    /// The value (Burn orientation), with its dtype and shape.
    pub data: TensorData,
}

/// The record of a [`Sequential`]: every float parameter by dotted path.
///
/// Loading matches by path; a parameter absent from the record, or present with another
/// shape, keeps its current value (strict, all-or-nothing loading with errors is `d2l-io`'s).
#[derive(Debug, Clone)]
pub struct SequentialRecord<B: Backend> {
    /// The parameters, in visit order.
    pub params: Vec<ParamItem>,
    _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> Record<B> for SequentialRecord<B> {
    type Item<S: PrecisionSettings> = Vec<ParamItem>;

    fn into_item<S: PrecisionSettings>(self) -> Self::Item<S> {
        self.params
    }

    fn from_item<S: PrecisionSettings>(item: Self::Item<S>, _device: &B::Device) -> Self {
        Self {
            params: item,
            _backend: core::marker::PhantomData,
        }
    }
}
