//! Forward hooks and pre-hooks per module — PyTorch's `register_forward_hook` and
//! `register_forward_pre_hook` — and [`call`], the one way a block runs a child.
//!
//! A hook is registered on the module at a `named_modules` path of a model
//! ([`register_forward_hook`]) and returns a [`HookHandle`] that removes it. It fires whoever
//! runs the module through [`call`]: its `Sequential`, a derived model (every model of this
//! workspace runs its children so), or the user — and it may replace the output (a pre-hook,
//! the input). A hook may itself run a forward pass; while it runs, it does not fire again.
//!
//! **Which module.** A module with parameters is known by them (their ids survive moves,
//! optimizer steps and clones, as PyTorch's `deepcopy` keeps hooks), its parameter count and
//! type; one without (`ReLU`, a pool) by the nearest enclosing module with parameters and the
//! path from there — for a child of the model itself (torchvision's `maxpool`), the model,
//! known by its first child with parameters. So a hook fires for that module only, not for
//! the same path in another model. The model is known when it runs as a `Sequential` or
//! through [`forward_tensor`](crate::TypedForward::forward_tensor) (or [`as_root`]); a derived
//! model whose `Forward::forward` is called directly cannot tell its parameter-less children
//! from another model's, so their hooks do not fire then. A model without any parameter is
//! known by paths alone.
//!
//! **Backends.** A hook is typed for the backend of the model it was registered on: a hook on
//! an `Autodiff<B>` model does not fire on its `valid()` twin (a `B` model); register one on
//! the twin for that.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use burn::backend::NdArray;
//! use burn::nn::{LinearConfig, Relu};
//! use burn::tensor::Tensor;
//! use d2l_blocks::{Sequential, hooks};
//!
//! let device = Default::default();
//! let net = Sequential::<NdArray>::new()
//!     .add(LinearConfig::new(4, 8).init(&device))
//!     .add(Sequential::new().add(Relu::new()).add(LinearConfig::new(8, 2).init(&device)));
//! let seen = Arc::new(Mutex::new(Vec::new()));
//! let sink = Arc::clone(&seen);
//! let handle = hooks::register_forward_hook(&net, "1.1", move |_, y| {
//!     sink.lock().unwrap().push(y.shape());
//!     Some(Tensor::<NdArray, 2>::zeros([3, 2], &Default::default()).into())
//! })
//! .unwrap();
//! let y = net.forward(Tensor::<NdArray, 2>::ones([3, 4], &device)).unwrap();
//! assert_eq!(*seen.lock().unwrap(), [vec![3, 2]]);
//! assert_eq!(y.sum().into_scalar(), 0.0); // the hook replaced the output
//! handle.remove();
//! net.forward(Tensor::<NdArray, 2>::ones([3, 4], &device)).unwrap();
//! assert_eq!(seen.lock().unwrap().len(), 1);
//! assert!(hooks::register_forward_hook(&net, "1.7", |_, _| None).is_err());
//! ```

use core::any::Any;
use core::cell::{Cell, RefCell};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use burn::module::ParamId;
use burn::tensor::backend::Backend;

use crate::key::join;
use crate::path::{ParamSlot, visit_blocks, visit_params};
use crate::{Activation, Block, BlockError, Forward};

mod tracer;

pub use tracer::hooked;
use tracer::traced;

/// A forward hook: sees the module and its output; `Some(y)` replaces the output.
pub type ForwardHook<B> =
    Box<dyn FnMut(&dyn Block<B>, &Activation<B>) -> Option<Activation<B>> + Send>;

/// A forward pre-hook: sees the module and its input; `Some(x)` replaces the input.
pub type ForwardPreHook<B> = ForwardHook<B>;

/// How a module is known to the hook registry (see the [module docs](self)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A module with parameters: its first parameter, parameter count and type.
    Params(ParamId, usize, &'static str),
    /// A module without parameters under one with: that module and the path from it.
    Under(Box<Key>, String),
    /// A model run as the outermost block: the first parameter of its first child with
    /// parameters.
    Root(ParamId),
    /// A module without parameters above it, in a model without parameters: its path.
    Path(String),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pre,
    Post,
}

struct Entry {
    id: u64,
    kind: Kind,
    /// A `ForwardHook<B>` for the backend it was registered for.
    hook: Arc<Mutex<dyn Any + Send>>,
}

static HOOKS: LazyLock<Mutex<HashMap<Key, Vec<Entry>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
/// The number of hooks registered: `call` does nothing more than a forward while it is 0.
static COUNT: AtomicUsize = AtomicUsize::new(0);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The modules being run through `call` on this thread, outermost first: name and key.
    static STACK: RefCell<Vec<(String, Key)>> = const { RefCell::new(Vec::new()) };
    /// Set by [`call`] just before it runs a child: the child's [`as_root`] is not a new model.
    static ENTERING: Cell<bool> = const { Cell::new(false) };
}

/// Removes its hook when [`remove`](Self::remove)d — PyTorch's `RemovableHandle`. Dropping the
/// handle keeps the hook, as in PyTorch.
#[derive(Debug)]
#[must_use = "the handle is the only way to remove the hook"]
pub struct HookHandle {
    id: u64,
}

impl HookHandle {
    /// Removes the hook; it will not fire again.
    pub fn remove(self) {
        let mut hooks = HOOKS.lock().unwrap_or_else(PoisonError::into_inner);
        for entries in hooks.values_mut() {
            let before = entries.len();
            entries.retain(|e| e.id != self.id);
            if entries.len() < before {
                COUNT.fetch_sub(1, Ordering::Relaxed);
            }
        }
        hooks.retain(|_, entries| !entries.is_empty());
    }
}

/// The first parameter id and the number of parameters of `block`.
fn params_of<B: Backend>(block: &dyn Block<B>) -> Option<(ParamId, usize)> {
    let mut first = None;
    let mut count = 0;
    visit_params(block, |_, p: ParamSlot<B>| {
        first.get_or_insert(p.id);
        count += 1;
    });
    first.map(|id| (id, count))
}

fn own_key<B: Backend>(block: &dyn Block<B>) -> Option<Key> {
    params_of(block).map(|(id, count)| Key::Params(id, count, block.type_name()))
}

/// The key of a model run as the outermost block, from its children.
fn root_key<B: Backend, M: Forward<B> + ?Sized>(model: &M) -> Option<Key> {
    model
        .children()
        .into_iter()
        .find_map(|(_, child)| params_of(child).map(|(id, _)| Key::Root(id)))
}

/// Runs `forward`, the forward pass of `model`, with `model` known to the hooks as the
/// outermost block (unless [`call`] runs it as a child): the hooks registered on its
/// parameter-less children fire for it alone — also when a hook runs another model. `Sequential`'s forward and
/// [`forward_tensor`](crate::TypedForward::forward_tensor) do this; a derived model's own typed
/// `forward` method may too.
pub fn as_root<B: Backend, M: Forward<B> + ?Sized, R>(model: &M, forward: impl FnOnce() -> R) -> R {
    let entering = ENTERING.with(|e| e.replace(false));
    if entering || COUNT.load(Ordering::Relaxed) == 0 {
        return forward();
    }
    let Some(key) = root_key(model) else {
        return forward();
    };
    // A model of its own: the modules running around it (a hook ran it) are not its parents.
    let outer = STACK.with(|s| s.replace(vec![(String::new(), key)]));
    struct Restore(Option<Vec<(String, Key)>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take().unwrap_or_default();
            STACK.with(|s| *s.borrow_mut() = outer);
        }
    }
    let _restore = Restore(Some(outer));
    forward()
}

/// Pops the innermost module of [`STACK`] when dropped (also on a panic).
struct Pop;

impl Drop for Pop {
    fn drop(&mut self) {
        STACK.with(|s| s.borrow_mut().pop());
    }
}

/// Registers `hook` on the module at `path` of `root` (a `named_modules` path; `""` is `root`):
/// after the module's forward, `hook(module, output)` runs, and `Some(y)` replaces the output.
///
/// # Errors
/// [`BlockError::Custom`] naming the path if `root` has no module there.
pub fn register_forward_hook<B: Backend>(
    root: &dyn Block<B>,
    path: &str,
    hook: impl FnMut(&dyn Block<B>, &Activation<B>) -> Option<Activation<B>> + Send + 'static,
) -> Result<HookHandle, BlockError> {
    let hook: ForwardHook<B> = Box::new(hook);
    register(root, path, Kind::Post, hook)
}

/// Registers `hook` on the module at `path` of `root` to run before its forward:
/// `hook(module, input)`, and `Some(x)` replaces the input.
///
/// # Errors
/// As [`register_forward_hook`].
pub fn register_forward_pre_hook<B: Backend>(
    root: &dyn Block<B>,
    path: &str,
    hook: impl FnMut(&dyn Block<B>, &Activation<B>) -> Option<Activation<B>> + Send + 'static,
) -> Result<HookHandle, BlockError> {
    let hook: ForwardPreHook<B> = Box::new(hook);
    register(root, path, Kind::Pre, hook)
}

fn register<B: Backend>(
    root: &dyn Block<B>,
    path: &str,
    kind: Kind,
    hook: ForwardHook<B>,
) -> Result<HookHandle, BlockError> {
    // Every module on the way, with its key if it has parameters.
    let mut keys: HashMap<String, Option<Key>> = HashMap::new();
    visit_blocks(root, |p, block| {
        let wanted = p.is_empty() || path == p || path.starts_with(&format!("{p}."));
        if wanted {
            keys.insert(p.to_owned(), own_key(block));
        }
    });
    let Some(own) = keys.get(path) else {
        return Err(BlockError::Custom {
            path: path.to_owned(),
            message: "no module at this path to hook (see `named_modules`)".to_owned(),
        });
    };
    let key = match own {
        Some(key) => key.clone(),
        None => {
            // The nearest enclosing module with parameters, below the root (the root itself
            // is not run through `call`).
            let mut key = Key::Path(path.to_owned());
            let mut prefix = path;
            while let Some((parent, _)) = prefix.rsplit_once('.') {
                if let Some(Some(parent_key)) = keys.get(parent) {
                    let rest = &path[parent.len() + 1..];
                    key = Key::Under(Box::new(parent_key.clone()), rest.to_owned());
                    break;
                }
                prefix = parent;
            }
            match (&key, root_key(root)) {
                (Key::Path(_), Some(model)) => Key::Under(Box::new(model), path.to_owned()),
                _ => key,
            }
        }
    };
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let hook: Arc<Mutex<dyn Any + Send>> = Arc::new(Mutex::new(hook));
    HOOKS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key)
        .or_default()
        .push(Entry { id, kind, hook });
    COUNT.fetch_add(1, Ordering::Relaxed);
    Ok(HookHandle { id })
}

/// The key of `child`, about to run under `name`, from the modules running around it.
fn key_in_context<B: Backend>(name: &str, child: &dyn Block<B>, stack: &[(String, Key)]) -> Key {
    if let Some(key) = own_key(child) {
        return key;
    }
    let mut rest = name.to_owned();
    for (ancestor, key) in stack.iter().rev() {
        if !matches!(key, Key::Path(_) | Key::Under(..)) {
            return Key::Under(Box::new(key.clone()), rest);
        }
        rest = join(ancestor, &rest);
    }
    Key::Path(rest)
}

/// The hooks of `kind` registered for `key` (for backend `B`).
fn hooks_for(key: &Key, kind: Kind) -> Vec<Arc<Mutex<dyn Any + Send>>> {
    HOOKS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e.kind == kind)
                .map(|e| Arc::clone(&e.hook))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs each hook on `value` in registration order, each seeing the previous one's
/// replacement; a hook already running on this thread (it ran a forward) is skipped.
fn run_hooks<B: Backend>(
    hooks: &[Arc<Mutex<dyn Any + Send>>],
    child: &dyn Block<B>,
    mut value: Activation<B>,
) -> Activation<B> {
    for hook in hooks {
        let Ok(mut guard) = hook.try_lock() else {
            continue;
        };
        if let Some(f) = guard.downcast_mut::<ForwardHook<B>>() {
            if let Some(new) = f(child, &value) {
                value = new;
            }
        }
    }
    value
}

/// Runs `child` (named `name` in its container) on `x`: its errors carry `name` in their
/// path, its hooks fire ([`register_forward_hook`]), and a running [`hooked`] sees its output
/// under its dotted path. Containers
/// and the models of this workspace run every child through it; a custom block should too.
///
/// # Errors
/// The child's error, [`within`](BlockError::within) `name`.
pub fn call<B: Backend>(
    name: &str,
    child: &dyn Block<B>,
    x: Activation<B>,
) -> Result<Activation<B>, BlockError> {
    if COUNT.load(Ordering::Relaxed) == 0 {
        return traced(name, child, x);
    }
    let key = STACK.with(|s| key_in_context(name, child, &s.borrow()));
    let pre = hooks_for(&key, Kind::Pre);
    let post = hooks_for(&key, Kind::Post);
    let x = run_hooks(&pre, child, x);
    STACK.with(|s| s.borrow_mut().push((name.to_owned(), key)));
    let pop = Pop;
    ENTERING.with(|e| e.set(true));
    let y = traced(name, child, x);
    ENTERING.with(|e| e.set(false));
    let y = y?;
    drop(pop);
    Ok(run_hooks(&post, child, y))
}
