//! The scoped tracer of [`hooked`]: a hook on every module for the duration of one forward
//! pass (what `layer_summary` and activation capture use).

use core::any::Any;
use core::cell::RefCell;

use burn::tensor::backend::Backend;

use crate::key::join;
use crate::{Activation, Block, BlockError};

/// A scoped hook on every module: called with the dotted path of a block, the block, and its
/// output ([`hooked`]).
type TraceHook<B> = Box<dyn FnMut(&str, &dyn Block<B>, &Activation<B>)>;

struct Tracer<B: Backend> {
    path: String,
    hook: TraceHook<B>,
}

thread_local! {
    /// The installed tracer, a `Tracer<B>` for the backend of the forward pass it watches.
    static TRACER: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Runs `child` with the tracer's path entered: errors carry `name`, and the tracer (if any)
/// sees the output. The tracer is taken out while its hook runs, so a hook may run a forward.
pub(super) fn traced<B: Backend>(
    name: &str,
    child: &dyn Block<B>,
    x: Activation<B>,
) -> Result<Activation<B>, BlockError> {
    // The common case — no tracer installed — is one thread-local read.
    let Some(parent) = enter::<B>(name) else {
        return child.forward(x).map_err(|e| e.within(name));
    };
    let out = child.forward(x).map_err(|e| e.within(name));
    let taken = TRACER.with(|t| t.borrow_mut().take());
    if let Some(mut boxed) = taken {
        if let Some(tracer) = boxed.downcast_mut::<Tracer<B>>() {
            if let Ok(y) = &out {
                (tracer.hook)(&tracer.path, child, y);
            }
            tracer.path = parent;
        }
        TRACER.with(|t| *t.borrow_mut() = Some(boxed));
    }
    out
}

/// Pushes `name` onto the tracer's path; the path before it, or `None` with no tracer.
fn enter<B: Backend>(name: &str) -> Option<String> {
    TRACER.with(|t| {
        let mut t = t.borrow_mut();
        let tracer = t.as_mut()?.downcast_mut::<Tracer<B>>()?;
        let parent = tracer.path.clone();
        tracer.path = join(&parent, name);
        Some(parent)
    })
}

/// Runs `f` (a forward pass) with `hook` called on the output of every block run through
/// [`call`](super::call), with its dotted path — a forward hook on every module of `named_modules()`, for
/// the duration of `f` (what [`trace::capture`](crate::trace::capture) and
/// `layer_summary` use). Scoped hooks do not nest: an inner `hooked` replaces the outer one
/// while it runs.
pub fn hooked<B: Backend, R>(
    hook: impl FnMut(&str, &dyn Block<B>, &Activation<B>) + 'static,
    f: impl FnOnce() -> R,
) -> R {
    struct Restore(Option<Box<dyn Any>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            TRACER.with(|t| *t.borrow_mut() = previous);
        }
    }
    let tracer: Box<dyn Any> = Box::new(Tracer::<B> {
        path: String::new(),
        hook: Box::new(hook),
    });
    let _restore = Restore(TRACER.with(|t| t.borrow_mut().replace(tracer)));
    f()
}
