//! [`Sequential`]: a heterogeneous, dynamic chain of blocks that is a real Burn `Module`.
//!
//! One job per file: building ([`add`](Sequential::add) and friends), access by index, name
//! and type, the forward pass, Burn's `Module` / `AutodiffModule`, and the record.

mod access;
mod build;
mod forward;
mod module;
mod record;

use core::fmt;
use std::collections::HashMap;
use std::sync::Arc;

use burn::tensor::backend::Backend;

use crate::path::{ParamSlot, visit_params};
use crate::session::session;
use crate::{Block, BlockError, Forward};

pub use record::{ParamItem, SequentialRecord};

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
    lifts: Vec<Option<Arc<dyn core::any::Any + Send + Sync>>>,
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
}

impl<B: Backend> fmt::Display for Sequential<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&Forward::repr(self))
    }
}
