//! Train and eval modes: PyTorch's `module.training`, `net.train()` and `net.eval()`.
//!
//! **The rule** (PyTorch's, with Burn's backend rule as the default). A block that behaves
//! differently in training ([`Dropout`], [`BatchNorm`]) keeps its own [`Mode`] and trains when
//! 1. its own mode says so — set by [`Train::train`] / [`Train::eval`] on it or on any block
//!    above it ([`Forward::set_training`] recurses into every child a block lists), else
//! 2. the backend says so, as in Burn: training under `Autodiff<B>`, evaluation on a backend
//!    without autodiff.
//!
//! There is no ambient state: a block behaves the same whoever calls it — a container, a
//! derived model, or the user on `net[1]` directly.
//!
//! **`valid()`.** Burn's `AutodiffModule::valid` gives the twin used for validation (Burn's
//! `Learner` calls it every epoch): the twin's modes are unset, so on its backend without
//! autodiff it evaluates — dropout is the identity, batch norm uses its running statistics —
//! whatever `train()` set on the autodiff model, which keeps its own modes. `from_inner`
//! likewise gives a model with unset modes (training under `Autodiff`).
//!
//! ```
//! use burn::backend::{Autodiff, NdArray};
//! use burn::tensor::Tensor;
//! use d2l_blocks::{Sequential, Train, layers::Dropout};
//!
//! type B = Autodiff<NdArray>;
//! let device = Default::default();
//! let mut net = Sequential::<B>::new().add(Dropout::new(0.5));
//! net.eval();
//! // The child itself is in eval mode, so it is the identity even when called directly.
//! let x = Tensor::<B, 2>::ones([4, 4], &device);
//! let y = net[0].forward(x.clone().into()).unwrap().into_tensor::<2>().unwrap();
//! assert_eq!(y.into_data(), x.into_data());
//! assert_eq!(net[0].training(), Some(false));
//! ```
//!
//! [`Dropout`]: crate::layers::Dropout
//! [`BatchNorm`]: crate::layers::BatchNorm
//! [`Forward::set_training`]: crate::Forward::set_training

use core::fmt;
use core::marker::PhantomData;

use burn::module::{Content, ModuleDisplay, ModuleDisplayDefault};
use burn::tensor::backend::Backend;

use crate::Forward;

/// A block's own training mode (PyTorch's `module.training`): unset until `train()` or
/// `eval()` reaches the block; unset means the backend decides.
///
/// A field of this type in a `#[derive(Module)]` struct is carried by Burn's walks as a
/// module without parameters: cloned, kept by `load_record`, and unset in the `valid()` twin
/// (see the [module docs](self)). It names the backend `B` only so that Burn's derive treats
/// it as a module.
pub struct Mode<B: Backend> {
    training: Option<bool>,
    _backend: PhantomData<fn() -> B>,
}

impl<B: Backend> Mode<B> {
    /// An unset mode: the backend decides.
    pub const fn unset() -> Self {
        Self {
            training: None,
            _backend: PhantomData,
        }
    }

    /// Sets the mode: `true` trains, `false` evaluates.
    pub fn set(&mut self, training: bool) {
        self.training = Some(training);
    }

    /// The mode set, if any.
    pub fn get(&self) -> Option<bool> {
        self.training
    }

    /// Whether a block with this mode trains on `device`: its own mode, else the backend's
    /// (`Autodiff` trains).
    ///
    /// ```
    /// use burn::backend::{Autodiff, NdArray};
    /// use d2l_blocks::mode::Mode;
    ///
    /// let device = Default::default();
    /// assert!(Mode::<Autodiff<NdArray>>::unset().resolve(&device));
    /// assert!(!Mode::<NdArray>::unset().resolve(&device));
    /// let mut mode = Mode::<Autodiff<NdArray>>::unset();
    /// mode.set(false);
    /// assert!(!mode.resolve(&device));
    /// ```
    pub fn resolve(&self, device: &B::Device) -> bool {
        self.training.unwrap_or_else(|| B::ad_enabled(device))
    }
}

impl<B: Backend> Default for Mode<B> {
    fn default() -> Self {
        Self::unset()
    }
}

impl<B: Backend> Clone for Mode<B> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<B: Backend> Copy for Mode<B> {}

impl<B: Backend> fmt::Debug for Mode<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Mode").field(&self.training).finish()
    }
}

impl<B: Backend> fmt::Display for Mode<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.training {
            Some(true) => f.write_str("train"),
            Some(false) => f.write_str("eval"),
            None => f.write_str("backend"),
        }
    }
}

// The validation twin's modes are unset: it evaluates on its backend without autodiff.
crate::stateless::stateless_module!(Mode, unset);

impl<B: Backend> ModuleDisplayDefault for Mode<B> {
    fn content(&self, content: Content) -> Option<Content> {
        content.add_formatted(&self.to_string()).optional()
    }
}

impl<B: Backend> ModuleDisplay for Mode<B> {}

/// `train()`, `eval()` and `training()` on every block — PyTorch's `module.train()`,
/// `module.eval()` and `module.training`, for a `Sequential`, a derived model or a single
/// layer alike.
///
/// Burn's `Module` has a `train` method of its own (it converts a module to an autodiff
/// backend), which Rust picks first wherever `burn::module::Module` is imported — for a
/// `Sequential` too; there, write `Train::train(&mut net)` (the compiler's hint then names
/// `HasAutodiffModule`). `eval()` has no such twin.
pub trait Train<B: Backend>: Forward<B> {
    /// Puts this block and every block under it in training mode (`module.train()`).
    fn train(&mut self) -> &mut Self {
        self.set_training(true);
        self
    }

    /// Puts this block and every block under it in evaluation mode (`module.eval()`).
    fn eval(&mut self) -> &mut Self {
        self.set_training(false);
        self
    }

    /// The mode `train()` / `eval()` last set on this block ([`Forward::mode`]); `None` if
    /// neither reached it (the backend decides).
    fn training(&self) -> Option<bool> {
        self.mode()
    }
}

impl<B: Backend, T: Forward<B> + ?Sized> Train<B> for T {}
