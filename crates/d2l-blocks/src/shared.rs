//! [`Shared`]: one block at several positions — parameter tying (D2L §5.2.3).

use core::any::Any;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use burn::tensor::backend::{AutodiffBackend, Backend};

use crate::session::{self, Walk};
use crate::{Activation, Block, BlockError, ErasedMapper, ErasedVisitor, Forward, Identity, Lift};

/// A block stored once and used at several positions: PyTorch's `shared` layer in
/// `nn.Sequential(..., shared, ReLU(), shared, ...)`.
///
/// `Clone` on a `Shared` is shallow: the clone *is* the same block, so adding two clones ties
/// them. Everything else keeps the tie:
/// - forward uses the one block at each position; autodiff sums both uses' gradients;
/// - Burn's optimizers update it once per step (a `Sequential` maps a shared block at its first
///   position and re-uses the result at the others);
/// - `num_params` counts it once; visitors (state dicts, burn-store) see it at every position;
/// - cloning the whole network clones the block once, so the tie holds inside the clone and
///   the clone does not alias the original.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::module::Module;
/// use burn::nn::{Linear, LinearConfig, Relu};
/// use d2l_blocks::{Sequential, Shared};
///
/// let device = Default::default();
/// let shared = Shared::new(LinearConfig::new(8, 8).init::<NdArray>(&device));
/// let net = Sequential::<NdArray>::new()
///     .add(LinearConfig::new(4, 8).init(&device))
///     .add(Relu::new())
///     .add(shared.clone())
///     .add(Relu::new())
///     .add(shared.clone());
/// assert_eq!(net.num_params(), 4 * 8 + 8 + 8 * 8 + 8);
/// assert!(net.child::<Shared<NdArray>>(2).unwrap().ptr_eq(net.child(4).unwrap()));
/// ```
pub struct Shared<B: Backend> {
    inner: Arc<RwLock<Box<dyn Block<B>>>>,
}

impl<B: Backend> Clone for Shared<B> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<B: Backend> core::fmt::Debug for Shared<B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Shared").field(&*self.read()).finish()
    }
}

impl<B: Backend> Shared<B> {
    /// Wraps `block` so that it can be placed at several positions.
    pub fn new(block: impl Block<B>) -> Self {
        Self::from_boxed(Box::new(block))
    }

    /// Wraps an already boxed block.
    pub fn from_boxed(block: Box<dyn Block<B>>) -> Self {
        Self {
            inner: Arc::new(RwLock::new(block)),
        }
    }

    /// Whether `self` and `other` are the same block (tied).
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The identity of the shared storage (equal for tied positions).
    pub(crate) fn key(&self) -> usize {
        Arc::as_ptr(&self.inner) as *const () as usize
    }

    /// Read access to the block (seen from every position).
    pub fn read(&self) -> RwLockReadGuard<'_, Box<dyn Block<B>>> {
        self.inner
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write access to the block: an edit here is seen at every position.
    pub fn write(&self) -> RwLockWriteGuard<'_, Box<dyn Block<B>>> {
        self.inner
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Calls `f` with the block as a `T`, or returns `None` if it is not one.
    pub fn with<T: 'static, R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.read().as_any().downcast_ref::<T>().map(f)
    }

    /// Calls `f` with the block as a mutable `T` (an edit seen at every position).
    pub fn with_mut<T: 'static, R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.write().as_any_mut().downcast_mut::<T>().map(f)
    }

    /// Replaces the block by `f(block)`, in place for every position (an [`Identity`] holds
    /// the place while `f` runs).
    fn replace_with(&self, f: impl FnOnce(Box<dyn Block<B>>) -> Box<dyn Block<B>>) {
        let mut guard = self.write();
        let block = core::mem::replace(&mut *guard, Box::new(Identity::new()));
        *guard = f(block);
    }
}

impl<B: Backend> Forward<B> for Shared<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        self.read().forward(x)
    }

    fn repr(&self) -> String {
        self.read().repr()
    }

    fn materialize_for(&self, shapes: &[(String, Vec<usize>)], device: &B::Device) {
        self.read().materialize_for(shapes, device);
    }

    fn set_training(&mut self, training: bool) {
        self.write().set_training(training);
    }

    fn mode(&self) -> Option<bool> {
        self.read().mode()
    }

    fn pending_shapes(&self) -> Option<Vec<(String, Vec<isize>)>> {
        self.read().pending_shapes()
    }
}

impl<B: Backend> Block<B> for Shared<B> {
    fn type_name(&self) -> &'static str {
        core::any::type_name::<Self>()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }

    /// A deep copy, made once per walk: inside `Sequential::clone` both positions of a tie get
    /// the same new block.
    fn clone_box(&self) -> Box<dyn Block<B>> {
        if let Some(copy) = session::get::<Shared<B>>(Walk::Clone, self.key()) {
            return Box::new(copy);
        }
        let copy = Shared::from_boxed(self.read().clone_box());
        session::put(Walk::Clone, self.key(), copy.clone());
        Box::new(copy)
    }

    fn visit_erased(&self, visitor: &mut dyn ErasedVisitor<B>) {
        self.read().visit_erased(visitor);
    }

    /// Maps the block at its first position in the walk; later positions keep the result.
    fn map_erased(self: Box<Self>, mapper: &mut dyn ErasedMapper<B>) -> Box<dyn Block<B>> {
        if session::get::<()>(Walk::Map, self.key()).is_none() {
            session::put(Walk::Map, self.key(), ());
            self.replace_with(|block| block.map_erased(mapper));
        }
        self
    }

    fn collect_devices_erased(&self, devices: Vec<B::Device>) -> Vec<B::Device> {
        self.read().collect_devices_erased(devices)
    }

    fn num_params_erased(&self) -> usize {
        self.read().num_params_erased()
    }

    fn check_ranks(&self) -> Result<(), BlockError> {
        self.read().check_ranks()
    }

    fn valid_boxed(&self) -> (Box<dyn Block<B::InnerBackend>>, Lift<B>)
    where
        B: AutodiffBackend,
    {
        type Pair<B> = (Shared<<B as AutodiffBackend>::InnerBackend>, Lift<B>);
        let (valid, lift) = match session::get::<Pair<B>>(Walk::Valid, self.key()) {
            Some(pair) => pair,
            None => {
                let (valid, lift) = self.read().valid_boxed();
                let pair: Pair<B> = (Shared::from_boxed(valid), lift);
                session::put(Walk::Valid, self.key(), pair.clone());
                pair
            }
        };
        let back: Lift<B> = Arc::new(move |boxed: Box<dyn Block<B::InnerBackend>>| {
            let shared = boxed
                .into_any()
                .downcast::<Shared<B::InnerBackend>>()
                .ok()?;
            let key = shared.key();
            if let Some(done) = session::get::<Shared<B>>(Walk::Valid, key) {
                return Some(Box::new(done) as Box<dyn Block<B>>);
            }
            let inner = shared.read().clone_box();
            let outer = Shared::from_boxed(lift(inner)?);
            session::put(Walk::Valid, key, outer.clone());
            Some(Box::new(outer) as Box<dyn Block<B>>)
        });
        (Box::new(valid), back)
    }
}
