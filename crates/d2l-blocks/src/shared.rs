//! [`Shared`]: one block at several positions — parameter tying (D2L §5.2.3).

use core::any::Any;
use core::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use burn::tensor::backend::{AutodiffBackend, Backend};

use crate::{Activation, Block, BlockError, ErasedMapper, ErasedVisitor, Lift, Sequential};

thread_local! {
    /// Per-thread state of the walk in progress (map, clone, valid): what each shared block
    /// became, so that its second position re-uses the first position's result.
    static SESSION: RefCell<Option<HashMap<(u8, usize), Box<dyn Any>>>> = const { RefCell::new(None) };
}

const MAP: u8 = 0;
const CLONE: u8 = 1;
const VALID: u8 = 2;

/// Runs `f` inside a walk session, opening one if none is open (the outermost container opens
/// it; nested containers join it).
pub(crate) fn session<R>(f: impl FnOnce() -> R) -> R {
    let opened = SESSION.with(|s| {
        let mut s = s.borrow_mut();
        if s.is_none() {
            *s = Some(HashMap::new());
            true
        } else {
            false
        }
    });
    // Close the session even if `f` unwinds.
    struct Close(bool);
    impl Drop for Close {
        fn drop(&mut self) {
            if self.0 {
                SESSION.with(|s| *s.borrow_mut() = None);
            }
        }
    }
    let _close = Close(opened);
    f()
}

fn session_get<T: Clone + 'static>(kind: u8, key: usize) -> Option<T> {
    SESSION.with(|s| {
        s.borrow().as_ref()?.get(&(kind, key))?.downcast_ref::<T>().cloned()
    })
}

fn session_put<T: 'static>(kind: u8, key: usize, value: T) {
    SESSION.with(|s| {
        if let Some(map) = s.borrow_mut().as_mut() {
            map.insert((kind, key), Box::new(value));
        }
    });
}

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
        Self { inner: Arc::clone(&self.inner) }
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
        Self { inner: Arc::new(RwLock::new(block)) }
    }

    /// Whether `self` and `other` are the same block (tied).
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    fn key(&self) -> usize {
        Arc::as_ptr(&self.inner) as *const () as usize
    }

    /// Read access to the block (seen from every position).
    pub fn read(&self) -> RwLockReadGuard<'_, Box<dyn Block<B>>> {
        self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Write access to the block: an edit here is seen at every position.
    pub fn write(&self) -> RwLockWriteGuard<'_, Box<dyn Block<B>>> {
        self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Calls `f` with the block as a `T`, or returns `None` if it is not one.
    pub fn with<T: 'static, R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.read().as_any().downcast_ref::<T>().map(f)
    }

    /// Calls `f` with the block as a mutable `T` (an edit seen at every position).
    pub fn with_mut<T: 'static, R>(&self, f: impl FnOnce(&mut T) -> R) -> Option<R> {
        self.write().as_any_mut().downcast_mut::<T>().map(f)
    }

    /// Replaces the block by `f(block)`, in place for every position.
    fn replace_with(&self, f: impl FnOnce(Box<dyn Block<B>>) -> Box<dyn Block<B>>) {
        let mut guard = self.write();
        let block = core::mem::replace(&mut *guard, Box::new(Sequential::<B>::new()));
        *guard = f(block);
    }
}

impl<B: Backend> Block<B> for Shared<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        self.read().forward(x)
    }

    fn describe(&self) -> String {
        self.read().describe()
    }

    fn materialize_for(&self, shapes: &[(String, Vec<usize>)]) {
        self.read().materialize_for(shapes);
    }

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
        if let Some(copy) = session_get::<Shared<B>>(CLONE, self.key()) {
            return Box::new(copy);
        }
        let copy = Shared::from_boxed(self.read().clone_box());
        session_put(CLONE, self.key(), copy.clone());
        Box::new(copy)
    }

    fn visit_erased(&self, visitor: &mut dyn ErasedVisitor<B>) {
        self.read().visit_erased(visitor);
    }

    /// Maps the block at its first position in the walk; later positions keep the result.
    fn map_erased(self: Box<Self>, mapper: &mut dyn ErasedMapper<B>) -> Box<dyn Block<B>> {
        if session_get::<()>(MAP, self.key()).is_none() {
            session_put(MAP, self.key(), ());
            self.replace_with(|block| block.map_erased(mapper));
        }
        self
    }

    fn collect_devices_erased(&self, devices: Vec<B::Device>) -> Vec<B::Device> {
        self.read().collect_devices_erased(devices)
    }

    fn fork_boxed(self: Box<Self>, device: &B::Device) -> Box<dyn Block<B>> {
        self.replace_with(|block| block.fork_boxed(device));
        self
    }

    fn to_device_boxed(self: Box<Self>, device: &B::Device) -> Box<dyn Block<B>> {
        self.replace_with(|block| block.to_device_boxed(device));
        self
    }

    fn num_params_erased(&self) -> usize {
        self.read().num_params_erased()
    }

    fn valid_boxed(&self) -> (Box<dyn Block<B::InnerBackend>>, Lift<B>)
    where
        B: AutodiffBackend,
    {
        type Pair<B> = (Shared<<B as AutodiffBackend>::InnerBackend>, Lift<B>);
        let (valid, lift) = match session_get::<Pair<B>>(VALID, self.key()) {
            Some(pair) => pair,
            None => {
                let (valid, lift) = self.read().valid_boxed();
                let pair: Pair<B> = (Shared::from_boxed(valid), lift);
                session_put(VALID, self.key(), pair.clone());
                pair
            }
        };
        let back: Lift<B> = Arc::new(move |boxed: Box<dyn Block<B::InnerBackend>>| {
            let Ok(shared) = boxed.into_any().downcast::<Shared<B::InnerBackend>>() else {
                unreachable!("a lift is only applied to the block valid() produced")
            };
            let key = shared.key();
            if let Some(done) = session_get::<Shared<B>>(VALID, key) {
                return Box::new(done) as Box<dyn Block<B>>;
            }
            let inner = shared.read().clone_box();
            let outer = Shared::from_boxed(lift(inner));
            session_put(VALID, key, outer.clone());
            Box::new(outer)
        });
        (Box::new(valid), back)
    }
}
