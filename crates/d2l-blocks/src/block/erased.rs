//! Burn's generic visitors and mappers, rank-erased so that they cross a `dyn Block` boundary
//! ([`ErasedVisitor`], [`ErasedMapper`]) and reified again on the other side.

use core::any::Any;

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor};

use crate::with_rank;

/// A rank-erased view of a Burn visitor, so that it can cross a `dyn Block` boundary.
///
/// Parameters travel as `&dyn Any` holding a `Param<Tensor<B, rank>>` (of the float, int or
/// bool kind); the receiving side downcasts at the matching const rank ([`with_rank!`]).
///
/// [`with_rank!`]: crate::with_rank
pub trait ErasedVisitor<B: Backend> {
    /// Burn's `enter_module`.
    fn enter_module(&mut self, name: &str, container_type: &str);
    /// Burn's `exit_module`.
    fn exit_module(&mut self, name: &str, container_type: &str);
    /// A float parameter of the given rank.
    fn visit_float(&mut self, rank: usize, param: &dyn Any);
    /// An int parameter of the given rank.
    fn visit_int(&mut self, rank: usize, param: &dyn Any);
    /// A bool parameter of the given rank.
    fn visit_bool(&mut self, rank: usize, param: &dyn Any);
}

/// A rank-erased view of a Burn mapper (see [`ErasedVisitor`]).
///
/// Parameters travel as `&mut dyn Any` holding an `Option<Param<Tensor<B, rank>>>`: the
/// mapper takes the parameter out and puts the mapped one back. A slot left empty keeps the
/// parameter as it was.
pub trait ErasedMapper<B: Backend> {
    /// Burn's `enter_module`.
    fn enter_module(&mut self, name: &str, container_type: &str);
    /// Burn's `exit_module`.
    fn exit_module(&mut self, name: &str, container_type: &str);
    /// Maps a float parameter of the given rank in its slot.
    fn map_float(&mut self, rank: usize, slot: &mut dyn Any);
    /// Maps an int parameter of the given rank in its slot.
    fn map_int(&mut self, rank: usize, slot: &mut dyn Any);
    /// Maps a bool parameter of the given rank in its slot.
    fn map_bool(&mut self, rank: usize, slot: &mut dyn Any);
}

/// Turns a concrete Burn visitor into an [`ErasedVisitor`] (the container side).
pub(crate) struct EraseVisitor<'a, V>(pub(crate) &'a mut V);

/// Turns an [`ErasedVisitor`] back into a Burn visitor (the child side).
pub struct ReifyVisitor<'a, B: Backend>(pub &'a mut dyn ErasedVisitor<B>);

/// Turns a concrete Burn mapper into an [`ErasedMapper`] (the container side).
pub(crate) struct EraseMapper<'a, M>(pub(crate) &'a mut M);

/// Turns an [`ErasedMapper`] back into a Burn mapper (the child side).
pub struct ReifyMapper<'a, B: Backend>(pub &'a mut dyn ErasedMapper<B>);

// A parameter of a rank `with_rank!` cannot name is never sent across (see `Reify*`), and a
// slot of an unexpected type is left alone: the walk goes on without it.
impl<B: Backend, V: ModuleVisitor<B>> ErasedVisitor<B> for EraseVisitor<'_, V> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.0.enter_module(name, container_type);
    }
    fn exit_module(&mut self, name: &str, container_type: &str) {
        self.0.exit_module(name, container_type);
    }
    fn visit_float(&mut self, rank: usize, param: &dyn Any) {
        with_rank!(rank, D => if let Some(p) = param.downcast_ref::<Param<Tensor<B, D>>>() {
            self.0.visit_float::<D>(p)
        });
    }
    fn visit_int(&mut self, rank: usize, param: &dyn Any) {
        with_rank!(rank, D => if let Some(p) = param.downcast_ref::<Param<Tensor<B, D, Int>>>() {
            self.0.visit_int::<D>(p)
        });
    }
    fn visit_bool(&mut self, rank: usize, param: &dyn Any) {
        with_rank!(rank, D => if let Some(p) = param.downcast_ref::<Param<Tensor<B, D, Bool>>>() {
            self.0.visit_bool::<D>(p)
        });
    }
}

/// Whether a parameter of rank `D` can cross a `dyn Block` boundary.
pub(super) const fn crosses(rank: usize) -> bool {
    rank >= 1 && rank <= crate::MAX_RANK
}

impl<B: Backend> ModuleVisitor<B> for ReifyVisitor<'_, B> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.0.enter_module(name, container_type);
    }
    fn exit_module(&mut self, name: &str, container_type: &str) {
        self.0.exit_module(name, container_type);
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if crosses(D) {
            self.0.visit_float(D, param);
        }
    }
    fn visit_int<const D: usize>(&mut self, param: &Param<Tensor<B, D, Int>>) {
        if crosses(D) {
            self.0.visit_int(D, param);
        }
    }
    fn visit_bool<const D: usize>(&mut self, param: &Param<Tensor<B, D, Bool>>) {
        if crosses(D) {
            self.0.visit_bool(D, param);
        }
    }
}

/// Maps the parameter in `slot` if it holds a `Param` of type `T`.
fn map_slot<T: 'static>(slot: &mut dyn Any, f: impl FnOnce(T) -> T) {
    if let Some(slot) = slot.downcast_mut::<Option<T>>() {
        if let Some(param) = slot.take() {
            *slot = Some(f(param));
        }
    }
}

impl<B: Backend, M: ModuleMapper<B>> ErasedMapper<B> for EraseMapper<'_, M> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.0.enter_module(name, container_type);
    }
    fn exit_module(&mut self, name: &str, container_type: &str) {
        self.0.exit_module(name, container_type);
    }
    fn map_float(&mut self, rank: usize, slot: &mut dyn Any) {
        with_rank!(rank, D => map_slot(slot, |p: Param<Tensor<B, D>>| self.0.map_float::<D>(p)));
    }
    fn map_int(&mut self, rank: usize, slot: &mut dyn Any) {
        with_rank!(rank, D => map_slot(slot, |p: Param<Tensor<B, D, Int>>| self.0.map_int::<D>(p)));
    }
    fn map_bool(&mut self, rank: usize, slot: &mut dyn Any) {
        with_rank!(rank, D => map_slot(slot, |p: Param<Tensor<B, D, Bool>>| self.0.map_bool::<D>(p)));
    }
}

/// Sends a parameter of rank `rank` through an erased mapper; one that cannot cross, or an
/// emptied slot, keeps the parameter as it was.
fn through<T: Clone + 'static>(rank: usize, param: T, send: impl FnOnce(&mut dyn Any)) -> T {
    if !crosses(rank) {
        return param;
    }
    let fallback = param.clone();
    let mut slot = Some(param);
    send(&mut slot);
    slot.unwrap_or(fallback)
}

impl<B: Backend> ModuleMapper<B> for ReifyMapper<'_, B> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.0.enter_module(name, container_type);
    }
    fn exit_module(&mut self, name: &str, container_type: &str) {
        self.0.exit_module(name, container_type);
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        through(D, param, |slot| self.0.map_float(D, slot))
    }
    fn map_int<const D: usize>(
        &mut self,
        param: Param<Tensor<B, D, Int>>,
    ) -> Param<Tensor<B, D, Int>> {
        through(D, param, |slot| self.0.map_int(D, slot))
    }
    fn map_bool<const D: usize>(
        &mut self,
        param: Param<Tensor<B, D, Bool>>,
    ) -> Param<Tensor<B, D, Bool>> {
        through(D, param, |slot| self.0.map_bool(D, slot))
    }
}
