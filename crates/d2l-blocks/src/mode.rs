//! Train and eval modes (PyTorch's `net.train()` / `net.eval()`), and how they map onto Burn.
//!
//! **The rule.** A block that behaves differently in training (`Dropout`, [`BatchNorm`])
//! trains when
//! 1. its own mode says so (`BatchNorm` keeps one, set by [`Forward::set_training`]), else
//! 2. the mode of the innermost enclosing [`Sequential`] that was given one (`net.train()`,
//!    `net.eval()`), else
//! 3. the backend says so, as in Burn: training under `Autodiff<B>`, evaluation on a backend
//!    without autodiff (what `valid()` returns).
//!
//! So Burn code that never calls `train()`/`eval()` behaves as Burn does, and a PyTorch user's
//! `net.eval()` works on any backend — batch statistics or running ones, dropout or none —
//! through nested `Sequential`s and custom blocks alike: [`Forward::set_training`] recurses into
//! every child a block lists.
//!
//! [`BatchNorm`]: crate::layers::BatchNorm
//! [`Sequential`]: crate::Sequential
//! [`Forward::set_training`]: crate::Forward::set_training

use core::cell::Cell;

use burn::tensor::backend::Backend;

thread_local! {
    static MODE: Cell<Option<bool>> = const { Cell::new(None) };
}

/// Whether a block with no mode of its own, running on `device`, trains now (rules 2 and 3 of
/// the module docs).
pub fn is_training<B: Backend>(device: &B::Device) -> bool {
    MODE.get().unwrap_or_else(|| B::ad_enabled(device))
}

/// Whether a block whose own mode is `own` trains now (the three rules of the module docs).
pub fn resolve<B: Backend>(own: Option<bool>, device: &B::Device) -> bool {
    own.unwrap_or_else(|| is_training::<B>(device))
}

/// Runs `f` with `training` as the enclosing mode (`None` keeps the current one) — what a
/// [`Sequential`](crate::Sequential) with a mode does around its children's forward passes,
/// and what a custom block can do around its own.
///
/// ```
/// use burn::backend::{Autodiff, NdArray};
/// use d2l_blocks::mode::{is_training, scoped};
///
/// type B = Autodiff<NdArray>;
/// let device = Default::default();
/// assert!(is_training::<B>(&device)); // the backend's rule
/// assert!(!scoped(Some(false), || is_training::<B>(&device))); // an enclosing eval()
/// assert!(!is_training::<NdArray>(&device));
/// ```
pub fn scoped<R>(training: Option<bool>, f: impl FnOnce() -> R) -> R {
    let Some(training) = training else {
        return f();
    };
    struct Restore(Option<bool>);
    impl Drop for Restore {
        fn drop(&mut self) {
            MODE.set(self.0);
        }
    }
    let _restore = Restore(MODE.replace(Some(training)));
    f()
}
