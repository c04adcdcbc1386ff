//! [`Block`]: the object-safe face of a Burn module inside a dynamic container, and
//! [`Forward`]: what a user writes to make a module a block.
//!
//! One job per file: the traits here; the rank-erased visitor and mapper that carry Burn's
//! walks across `dyn Block` (`erased.rs`); the rank check (`probe.rs`); the macros that
//! implement a block (`macros.rs`).

mod erased;
mod macros;
mod probe;

use core::any::Any;
use core::fmt::Debug;
use std::sync::Arc;

use burn::module::{ModuleMapper, ModuleVisitor};
use burn::tensor::backend::{AutodiffBackend, Backend};

pub(crate) use erased::{EraseMapper, EraseVisitor};
pub use erased::{ErasedMapper, ErasedVisitor, ReifyMapper, ReifyVisitor};
pub use probe::RankProbe;

use crate::{Activation, BlockError};

/// The forward pass, children and PyTorch-style description of a block (D2L §5.1).
///
/// Implement this for a `#[derive(Module)]` struct, then make it a [`Block`] with
/// [`impl_block!`](crate::impl_block). Burn's `Linear`, `Relu`, `Sigmoid`, `Tanh` and `Gelu`
/// implement it already.
pub trait Forward<B: Backend> {
    /// Runs the block on `x`.
    ///
    /// # Errors
    /// [`BlockError`] with an empty path for a bad input (wrong rank, width or device); the
    /// enclosing container adds the path.
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError>;

    /// PyTorch's `repr` of the block: `Linear(in_features=20, out_features=256, bias=True)`,
    /// `ReLU()`, or a multi-line tree built with [`tree`](crate::tree). The default is
    /// PyTorch's default `__repr__`: the type's name and each of [`children`](Self::children)
    /// on its own line (`Residual(\n  (conv1): …\n)`); a block without children prints as
    /// `Name()`.
    fn repr(&self) -> String {
        crate::display::tree(
            crate::display::short_type_name(core::any::type_name::<Self>()),
            self.children()
                .into_iter()
                .map(|(name, child)| (name, child.repr())),
        )
    }

    /// The blocks this block holds, by field name, in registration order — what PyTorch's
    /// `named_children()` lists and [`apply`](crate::path::apply) recurses into. The default
    /// is none (a leaf).
    fn children(&self) -> Vec<(&str, &dyn Block<B>)> {
        Vec::new()
    }

    /// [`children`](Self::children), mutably; must list the same children in the same order.
    fn children_mut(&mut self) -> Vec<(&str, &mut dyn Block<B>)> {
        Vec::new()
    }

    /// Creates parameters a lazy block does not have yet, on `device`, from the shapes about
    /// to be loaded (keys relative to this block, Burn's orientation: a `Sequential` record's).
    /// The default passes each child of [`children`](Self::children) its part (the keys under
    /// its name); a lazy layer turns its part into PyTorch's orientation by its own pending
    /// shapes and builds itself from it.
    fn materialize_for(&self, shapes: &[(String, Vec<usize>)], device: &B::Device) {
        for (name, child) in self.children() {
            let part: Vec<(String, Vec<usize>)> = shapes
                .iter()
                .filter_map(|(key, shape)| {
                    let rest = key
                        .strip_prefix(name)?
                        .strip_prefix(crate::key::SEPARATOR)?;
                    Some((rest.to_owned(), shape.clone()))
                })
                .collect();
            if !part.is_empty() {
                child.materialize_for(&part, device);
            }
        }
    }

    /// The shapes of the parameters this block will create but has not yet (keys relative to
    /// it, PyTorch orientation, `-1` for a size still to infer) — a lazy layer before its first
    /// input; `None` for a block whose parameters exist (the default).
    fn pending_shapes(&self) -> Option<Vec<(String, Vec<isize>)>> {
        None
    }

    /// Sets the training mode of this block and of every block under it — PyTorch's
    /// `module.train(mode)`; `false` is `module.eval()` (call it as
    /// [`Train::train`](crate::Train::train) / [`Train::eval`](crate::Train::eval)). The
    /// default passes it on to every child of [`children_mut`](Self::children_mut); a block
    /// that behaves differently in training keeps it in its own [`Mode`](crate::mode::Mode)
    /// ([`mode`](crate::mode)).
    fn set_training(&mut self, training: bool) {
        for (_, child) in self.children_mut() {
            child.set_training(training);
        }
    }

    /// The mode [`set_training`](Self::set_training) last set on this block, `None` if it
    /// never reached it. The default is the first child's that has one.
    fn mode(&self) -> Option<bool> {
        self.children()
            .into_iter()
            .find_map(|(_, child)| child.mode())
    }
}

/// Turns an inner-backend block back into its autodiff twin (`AutodiffModule::from_inner`);
/// `None` for a block that is not the one `valid()` made.
pub type Lift<B> = Arc<
    dyn Fn(Box<dyn Block<<B as AutodiffBackend>::InnerBackend>>) -> Option<Box<dyn Block<B>>>
        + Send
        + Sync,
>;

/// A Burn module with a forward pass, usable as a child of [`Sequential`](crate::Sequential).
///
/// Object-safe: Burn's generic `Module` methods are routed through [`ErasedVisitor`] and
/// [`ErasedMapper`]. Implement it with [`impl_block!`](crate::impl_block), never by hand.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a block: it cannot go into a `Sequential` or be called as one",
    label = "not a `d2l_blocks::Block`",
    note = "Burn's `BatchNorm` and `Dropout` are not blocks: their mode is the backend's and their state is not PyTorch's; use `d2l_blocks::layers::BatchNorm::new_2d(c, &device)` and `d2l_blocks::layers::Dropout::new(p)`",
    note = "a module of your own becomes a block with `impl Forward<B> for …` and `impl_block!(…)`"
)]
pub trait Block<B: Backend>: Forward<B> + Send + Sync + Debug + 'static {
    /// The Rust type name, for debugging and `apply`-style visits.
    fn type_name(&self) -> &'static str;
    /// The block as `Any`, to downcast to its concrete type.
    fn as_any(&self) -> &dyn Any;
    /// The block as mutable `Any`, to edit it in place.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// The boxed block as `Any`, to take its concrete value back.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    /// A deep copy (Burn's `Clone`: parameters keep their ids).
    fn clone_box(&self) -> Box<dyn Block<B>>;
    /// Burn's `Module::visit`, rank-erased.
    fn visit_erased(&self, visitor: &mut dyn ErasedVisitor<B>);
    /// Burn's `Module::map`, rank-erased.
    fn map_erased(self: Box<Self>, mapper: &mut dyn ErasedMapper<B>) -> Box<dyn Block<B>>;
    /// Burn's `Module::collect_devices`.
    fn collect_devices_erased(&self, devices: Vec<B::Device>) -> Vec<B::Device>;
    /// Burn's `Module::num_params`.
    fn num_params_erased(&self) -> usize;
    /// The first parameter whose rank cannot cross a `dyn Block` boundary (0 or above
    /// [`MAX_RANK`](crate::MAX_RANK)), as [`BlockError::UnsupportedRank`] with its path.
    fn check_ranks(&self) -> Result<(), BlockError>;
    /// Burn's `AutodiffModule::valid`, with the way back (`from_inner`).
    fn valid_boxed(&self) -> (Box<dyn Block<B::InnerBackend>>, Lift<B>)
    where
        B: AutodiffBackend;
}

impl<B: Backend> Clone for Box<dyn Block<B>> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Runs a Burn visitor over a `dyn Block` (its parameters, with the block's own paths).
pub fn visit_block<B: Backend, V: ModuleVisitor<B>>(block: &dyn Block<B>, visitor: &mut V) {
    block.visit_erased(&mut EraseVisitor(visitor));
}

/// Runs a Burn mapper over a boxed `dyn Block`, returning the mapped block.
pub fn map_block<B: Backend, M: ModuleMapper<B>>(
    block: Box<dyn Block<B>>,
    mapper: &mut M,
) -> Box<dyn Block<B>> {
    crate::session::session(|| block.map_erased(&mut EraseMapper(mapper)))
}
