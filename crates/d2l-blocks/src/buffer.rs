//! [`Buffer`]: a tensor a block updates during its forward pass and saves with its state —
//! PyTorch's `register_buffer` (batch norm's running statistics).

use std::collections::HashSet;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, RwLock};

use burn::module::{
    AutodiffModule, Content, Devices, Module, ModuleDisplay, ModuleDisplayDefault, ModuleMapper,
    ModuleVisitor, Param, ParamId,
};
use burn::tensor::Tensor;
use burn::tensor::backend::{AutodiffBackend, Backend};

/// A tensor that is part of a block's state but not a parameter: no gradient, never touched
/// by an optimizer, updated in place by `forward(&self)`.
///
/// Burn's walks see it as a float parameter (so records, `to_device`, `valid()`, burn-store and
/// d2l-io carry it), under its field name. **A buffer is known by its type**, wherever it sits
/// (batch norm, or a user's own layer): its id is one [`is_buffer`] knows, so it is absent from
/// `named_parameters`, `init_params`, `freeze` and `num_params` and present in `state_dict`,
/// as in PyTorch.
///
/// Unlike Burn's `RunningState`, an update is visible at once (no per-thread averaging that
/// lags one update behind), and a clone is a copy: updating the clone leaves the original
/// alone, as PyTorch's `deepcopy` does.
#[derive(Debug)]
pub struct Buffer<B: Backend, const D: usize> {
    id: ParamId,
    value: Arc<Mutex<Tensor<B, D>>>,
}

impl<B: Backend, const D: usize> Buffer<B, D> {
    /// A buffer holding `value` (detached).
    pub fn new(value: Tensor<B, D>) -> Self {
        Self::with_id(ParamId::new(), value)
    }

    fn with_id(id: ParamId, value: Tensor<B, D>) -> Self {
        register(id);
        Self {
            id,
            value: Arc::new(Mutex::new(value.detach())),
        }
    }

    /// Its id (kept by clones, moves and `valid()`; see [`is_buffer`]).
    pub fn id(&self) -> ParamId {
        self.id
    }

    /// The current value.
    pub fn value(&self) -> Tensor<B, D> {
        self.value
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Replaces the value (detached: a buffer never joins the autodiff graph).
    pub fn set(&self, value: Tensor<B, D>) {
        *self.value.lock().unwrap_or_else(PoisonError::into_inner) = value.detach();
    }

    fn param(&self) -> Param<Tensor<B, D>> {
        Param::initialized(self.id, self.value())
    }

    fn from_param(param: Param<Tensor<B, D>>) -> Self {
        let id = param.id;
        Self::with_id(id, param.val())
    }
}

impl<B: Backend, const D: usize> Clone for Buffer<B, D> {
    fn clone(&self) -> Self {
        Self::with_id(self.id, self.value())
    }
}

/// The ids of every [`Buffer`] made in this process (a clone, a `valid()` twin and a loaded
/// buffer keep or register theirs).
static BUFFER_IDS: LazyLock<RwLock<HashSet<ParamId>>> =
    LazyLock::new(|| RwLock::new(HashSet::new()));

fn register(id: ParamId) {
    if !is_buffer(id) {
        BUFFER_IDS
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id);
    }
}

/// Whether the parameter with this id is held by a [`Buffer`] — the one buffer rule (PyTorch's
/// `register_buffer`): walks that meet a float parameter ask it.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::module::{Module, Param};
/// use burn::tensor::Tensor;
/// use d2l_blocks::{Buffer, buffer::is_buffer};
///
/// let device = Default::default();
/// let buffer = Buffer::new(Tensor::<NdArray, 1>::zeros([3], &device));
/// let param = Param::from_tensor(Tensor::<NdArray, 1>::zeros([3], &device));
/// assert!(is_buffer(buffer.id()) && !is_buffer(param.id));
/// assert_eq!(buffer.num_params(), 0); // as PyTorch counts parameters
/// ```
pub fn is_buffer(id: ParamId) -> bool {
    BUFFER_IDS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(&id)
}

impl<B: Backend, const D: usize> Module<B> for Buffer<B, D> {
    type Record = Param<Tensor<B, D>>;

    /// None: a buffer is not a parameter (PyTorch's `sum(p.numel() for p in net.parameters())`).
    fn num_params(&self) -> usize {
        0
    }

    fn collect_devices(&self, mut devices: Devices<B>) -> Devices<B> {
        let device = self.value().device();
        if !devices.contains(&device) {
            devices.push(device);
        }
        devices
    }

    fn fork(self, device: &B::Device) -> Self {
        self.to_device(device)
    }

    fn to_device(self, device: &B::Device) -> Self {
        Self::with_id(self.id, self.value().to_device(device))
    }

    fn visit<V: ModuleVisitor<B>>(&self, visitor: &mut V) {
        visitor.visit_float(&self.param());
    }

    fn map<M: ModuleMapper<B>>(self, mapper: &mut M) -> Self {
        Self::from_param(mapper.map_float(self.param()))
    }

    fn into_record(self) -> Self::Record {
        self.param()
    }

    fn load_record(self, record: Self::Record) -> Self {
        let device = self.value().device();
        Self::with_id(record.id, record.val().to_device(&device))
    }
}

impl<B: AutodiffBackend, const D: usize> AutodiffModule<B> for Buffer<B, D> {
    type InnerModule = Buffer<B::InnerBackend, D>;

    fn valid(&self) -> Self::InnerModule {
        Buffer::with_id(self.id, self.value().inner())
    }

    fn from_inner(module: Self::InnerModule) -> Self {
        Self::with_id(module.id, Tensor::from_inner(module.value()))
    }
}

impl<B: Backend, const D: usize> ModuleDisplayDefault for Buffer<B, D> {
    fn content(&self, content: Content) -> Option<Content> {
        content
            .add_formatted(&format!("Buffer {:?}", self.value().dims()))
            .optional()
    }
}

impl<B: Backend, const D: usize> ModuleDisplay for Buffer<B, D> {}
