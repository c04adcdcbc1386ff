//! [`Sequential`]: a heterogeneous, dynamic chain of blocks that is a real Burn `Module`.

use core::any::Any;
use core::fmt;
use core::ops::{Index, IndexMut};
use std::sync::Arc;

use burn::module::{
    AutodiffModule, Devices, Module, ModuleDisplay, ModuleDisplayDefault, ModuleMapper,
    ModuleVisitor, Param, ParamId,
};
use burn::record::{PrecisionSettings, Record};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::block::{EraseMapper, EraseVisitor};
use crate::{Activation, Block, BlockError, Forward, Lift, impl_block, tree};

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
/// let y = net.forward_tensor::<2, 2>(Tensor::ones([2, 20], &device)).unwrap();
/// assert_eq!(y.dims(), [2, 10]);
/// assert_eq!(net.num_params(), 20 * 256 + 256 + 256 * 10 + 10);
/// assert_eq!(net.len(), 3);
/// assert!(net.get(3).is_none());
/// ```
pub struct Sequential<B: Backend> {
    children: Vec<(String, Box<dyn Block<B>>)>,
    /// Set by `AutodiffModule::valid`: per child, the `Lift<AB>` back to the autodiff twin.
    lifts: Vec<Option<Arc<dyn Any + Send + Sync>>>,
}

impl<B: Backend> Default for Sequential<B> {
    fn default() -> Self {
        Self::new()
    }
}

impl<B: Backend> Clone for Sequential<B> {
    /// A deep copy; a [`Shared`](crate::Shared) child is copied once, so ties hold inside the
    /// copy and the copy does not alias the original.
    fn clone(&self) -> Self {
        crate::shared::session(|| Self {
            children: self.children.iter().map(|(n, c)| (n.clone(), c.clone_box())).collect(),
            lifts: self.lifts.clone(),
        })
    }
}

impl<B: Backend> fmt::Debug for Sequential<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.children.iter().map(|(n, c)| (n, c))).finish()
    }
}

impl<B: Backend> Sequential<B> {
    /// An empty chain; its forward is the identity, as in PyTorch.
    pub fn new() -> Self {
        Self { children: Vec::new(), lifts: Vec::new() }
    }

    /// Appends `block` under the next positional name (`"0"`, `"1"`, …).
    pub fn add(mut self, block: impl Block<B>) -> Self {
        self.push_boxed(Box::new(block));
        self
    }

    /// Appends an already boxed block under the next positional name.
    pub fn push_boxed(&mut self, block: Box<dyn Block<B>>) {
        let mut index = self.children.len();
        while self.position(&index.to_string()).is_some() {
            index += 1;
        }
        self.children.push((index.to_string(), block));
        self.lifts.push(None);
    }

    /// Appends `block` under `name` (PyTorch's `add_module`), e.g. `"block 0"`.
    ///
    /// # Errors
    /// [`BlockError::DuplicateName`] if a child already has that name, or the name is empty
    /// or contains a `.` (the path separator).
    pub fn add_named(mut self, name: impl Into<String>, block: impl Block<B>) -> Result<Self, BlockError> {
        let name = name.into();
        if name.is_empty() || name.contains('.') || self.position(&name).is_some() {
            return Err(BlockError::DuplicateName { name });
        }
        self.children.push((name, Box::new(block)));
        self.lifts.push(None);
        Ok(self)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.children.iter().position(|(n, _)| n == name)
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
    pub fn get_mut(&mut self, index: usize) -> Option<&mut (dyn Block<B> + 'static)> {
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
        self.get(index).ok_or(BlockError::Index { index, len: self.len() })
    }

    /// The child named `name` (`"block 0"`, `"2"`).
    pub fn get_named(&self, name: &str) -> Option<&dyn Block<B>> {
        self.position(name).map(|i| self.children[i].1.as_ref())
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

    /// Runs the children in order (D2L's `net(X)`); an empty chain returns `x`.
    ///
    /// # Errors
    /// The first child's error, with its dotted path (`"0.block 1.2"`).
    pub fn forward(&self, x: impl Into<Activation<B>>) -> Result<Activation<B>, BlockError> {
        self.children
            .iter()
            .try_fold(x.into(), |x, (name, child)| child.forward(x).map_err(|e| e.within(name)))
    }

    /// [`forward`](Self::forward) from a rank-`I` tensor to a rank-`O` tensor.
    ///
    /// # Errors
    /// As `forward`, and [`BlockError::Rank`] if the output is not of rank `O`.
    pub fn forward_tensor<const I: usize, const O: usize>(
        &self,
        x: Tensor<B, I>,
    ) -> Result<Tensor<B, O>, BlockError> {
        self.forward(x)?.into_tensor()
    }
}

impl<B: Backend> Forward<B> for Sequential<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        Sequential::forward(self, x)
    }

    fn materialize_for(&self, shapes: &[(String, Vec<usize>)]) {
        for (name, child) in &self.children {
            let prefix = format!("{name}.");
            let part: Vec<(String, Vec<usize>)> = shapes
                .iter()
                .filter_map(|(k, s)| k.strip_prefix(&prefix).map(|rest| (rest.to_owned(), s.clone())))
                .collect();
            if !part.is_empty() {
                child.materialize_for(&part);
            }
        }
    }

    fn repr(&self) -> String {
        tree("Sequential", self.children.iter().map(|(n, c)| (n.as_str(), c.describe())))
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
            None => panic!("index {index} out of range for a Sequential of {} children", self.len()),
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
    /// [`as_sequential`](Self::as_sequential) and [`Sequential::get`] to get `Option`s.
    fn index(&self, index: usize) -> &Self::Output {
        match self.as_sequential() {
            Some(seq) => &seq[index],
            None => panic!("`{}` is not a Sequential and has no children by index", self.type_name()),
        }
    }
}

impl<B: Backend> fmt::Display for dyn Block<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl<B: Backend> Module<B> for Sequential<B> {
    type Record = SequentialRecord<B>;

    fn collect_devices(&self, devices: Devices<B>) -> Devices<B> {
        self.children.iter().fold(devices, |d, (_, c)| c.collect_devices_erased(d))
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
        crate::shared::session(|| {
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
        struct Count(Vec<ParamId>, usize);
        impl<B: Backend> ModuleVisitor<B> for Count {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
                if !self.0.contains(&param.id) {
                    self.0.push(param.id);
                    self.1 += param.shape().num_elements();
                }
            }
        }
        let mut count = Count(Vec::new(), 0);
        self.visit(&mut count);
        count.1
    }

    fn into_record(self) -> Self::Record {
        let mut collect = CollectParams { path: Vec::new(), params: Vec::new() };
        self.visit(&mut collect);
        SequentialRecord { params: collect.params, _backend: core::marker::PhantomData }
    }

    /// Loads parameters by path; lazy children first create the parameters the record has
    /// shapes for ([`Forward::materialize_for`]).
    fn load_record(self, record: Self::Record) -> Self {
        let shapes: Vec<(String, Vec<usize>)> =
            record.params.iter().map(|p| (p.path.clone(), p.data.shape.to_vec())).collect();
        Forward::materialize_for(&self, &shapes);
        let mut load = LoadParams { path: Vec::new(), record: &record.params };
        self.map(&mut load)
    }
}

impl<B: AutodiffBackend> AutodiffModule<B> for Sequential<B> {
    type InnerModule = Sequential<B::InnerBackend>;

    fn valid(&self) -> Self::InnerModule {
        crate::shared::session(|| {
            let mut inner = Sequential::new();
            for (name, child) in &self.children {
                let (valid, lift) = child.valid_boxed();
                inner.children.push((name.clone(), valid));
                inner.lifts.push(Some(Arc::new(lift) as Arc<dyn Any + Send + Sync>));
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
        crate::shared::session(|| Self::lift_children(module))
    }
}

impl<B: AutodiffBackend> Sequential<B> {
    fn lift_children(module: Sequential<B::InnerBackend>) -> Self {
        let mut outer = Sequential::new();
        for ((name, child), lift) in module.children.into_iter().zip(module.lifts) {
            let lift = lift.and_then(|l| l.downcast::<Lift<B>>().ok()).unwrap_or_else(|| {
                panic!(
                    "Sequential::from_inner: child `{name}` was not produced by valid(); \
                     build the network on the autodiff backend instead"
                )
            });
            outer.children.push((name, lift(child)));
            outer.lifts.push(None);
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
        Self { params: item, _backend: core::marker::PhantomData }
    }
}

struct CollectParams {
    path: Vec<String>,
    params: Vec<ParamItem>,
}

impl<B: Backend> ModuleVisitor<B> for CollectParams {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_owned());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        self.params.push(ParamItem {
            path: self.path.join("."),
            id: param.id.val(),
            data: param.val().into_data(),
        });
    }
}

struct LoadParams<'a> {
    path: Vec<String>,
    record: &'a [ParamItem],
}

impl<'a, B: Backend> ModuleMapper<B> for LoadParams<'a> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.path.push(name.to_owned());
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.pop();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let path = self.path.join(".");
        let Some(item) = self.record.iter().find(|p| p.path == path) else { return param };
        if item.data.shape.as_slice() != param.shape().dims::<D>().as_slice() {
            return param;
        }
        let (_, value, mapper) = param.consume();
        let require_grad = value.is_require_grad();
        let mut loaded = Tensor::<B, D>::from_data(item.data.clone(), &value.device());
        if require_grad {
            loaded = loaded.require_grad();
        }
        Param::from_mapped_value(ParamId::from(item.id), loaded, mapper)
    }
}
