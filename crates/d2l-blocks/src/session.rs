//! The state of one walk over a block tree (map, clone, `valid`, `from_inner`).
//!
//! A [`Shared`](crate::Shared) block sits at several positions; a walk must transform it once
//! and re-use the result at its other positions. The outermost container opens a session for
//! the walk; nested containers and shared blocks join it.

use core::any::Any;
use core::cell::RefCell;
use std::collections::HashMap;

/// What a session remembers a result for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Walk {
    /// `Module::map`: the block was mapped already.
    Map,
    /// `Clone`: the block's copy.
    Clone,
    /// `AutodiffModule::valid` / `from_inner`: the block's twin.
    Valid,
}

thread_local! {
    static SESSION: RefCell<Option<HashMap<(Walk, usize), Box<dyn Any>>>> =
        const { RefCell::new(None) };
}

/// Runs `f` inside a walk session, opening one if none is open.
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

/// The result remembered for `(walk, key)` in the open session.
pub(crate) fn get<T: Clone + 'static>(walk: Walk, key: usize) -> Option<T> {
    SESSION.with(|s| {
        s.borrow()
            .as_ref()?
            .get(&(walk, key))?
            .downcast_ref::<T>()
            .cloned()
    })
}

/// Remembers `value` for `(walk, key)` in the open session (no session: nothing to remember).
pub(crate) fn put<T: 'static>(walk: Walk, key: usize, value: T) {
    SESSION.with(|s| {
        if let Some(map) = s.borrow_mut().as_mut() {
            map.insert((walk, key), Box::new(value));
        }
    });
}
