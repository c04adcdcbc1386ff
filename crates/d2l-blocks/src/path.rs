//! Dotted paths (`0.block 1.2.weight`) and the one walk over a module's parameters and blocks.
//!
//! Everything in d2l-burn that names a parameter or a block — records, `named_parameters`,
//! state dicts, initializers, `apply`, errors — builds its names here: [`SEPARATOR`] joins
//! segments, [`Path`] tracks where a Burn visitor or mapper is, [`visit_params`] and
//! [`map_params`] walk every float parameter with its path, and [`apply`] / [`visit_blocks`]
//! walk the blocks themselves. Parameters travel rank-erased ([`ParamSlot`]), so the walk
//! works at any rank Burn can hold.

use std::collections::HashSet;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorMetadata, TensorPrimitive};

use crate::{Block, BlockError, Shared, visit_block};

pub use crate::key::{Path, SEPARATOR, is_torch_scalar, is_torch_transposed, join, torch_name};

/// Checks a child name: not empty, no [`SEPARATOR`] (it would make paths ambiguous).
///
/// # Errors
/// [`BlockError::InvalidName`] saying which rule the name breaks.
pub fn check_name(name: &str) -> Result<(), BlockError> {
    let reason = if name.is_empty() {
        "a child name must not be empty"
    } else if name.contains(SEPARATOR) {
        "a child name must not contain `.`, the path separator"
    } else {
        return Ok(());
    };
    Err(BlockError::InvalidName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    })
}

/// A float parameter met by a walk, rank-erased.
#[derive(Debug, Clone)]
pub struct ParamSlot<B: Backend> {
    /// Burn's id (shared by the positions of a tied parameter).
    pub id: ParamId,
    /// The value (Burn orientation).
    pub value: TensorPrimitive<B>,
    /// Whether autodiff tracks it (always `false` on a backend without autodiff).
    pub requires_grad: bool,
}

impl<B: Backend> ParamSlot<B> {
    /// Whether this is a [`Buffer`](crate::Buffer)'s value, not a parameter
    /// ([`buffer::is_buffer`](crate::buffer::is_buffer)).
    pub fn is_buffer(&self) -> bool {
        crate::buffer::is_buffer(self.id)
    }

    /// The value's shape (Burn orientation).
    pub fn shape(&self) -> Vec<usize> {
        self.value.shape().to_vec()
    }
}

/// Something whose parameters a Burn visitor can walk: any Burn `Module`, and `dyn Block`.
pub trait Visitable<B: Backend> {
    /// Runs `visitor` over the parameters.
    fn accept<V: ModuleVisitor<B>>(&self, visitor: &mut V);
}

impl<B: Backend, M: Module<B>> Visitable<B> for M {
    fn accept<V: ModuleVisitor<B>>(&self, visitor: &mut V) {
        self.visit(visitor);
    }
}

impl<B: Backend> Visitable<B> for dyn Block<B> {
    fn accept<V: ModuleVisitor<B>>(&self, visitor: &mut V) {
        visit_block(self, visitor);
    }
}

struct ParamVisitor<F> {
    path: Path,
    f: F,
}

impl<B: Backend, F: FnMut(&Path, ParamSlot<B>)> ModuleVisitor<B> for ParamVisitor<F> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        let slot = ParamSlot {
            id: param.id,
            requires_grad: value.is_require_grad(),
            value: value.into_primitive(),
        };
        (self.f)(&self.path, slot);
    }
}

/// Calls `f` with the path and value of every float parameter of `module`, in registration
/// order; a tied parameter once per position.
pub fn visit_params<B: Backend, T: Visitable<B> + ?Sized>(
    module: &T,
    f: impl FnMut(&Path, ParamSlot<B>),
) {
    module.accept(&mut ParamVisitor {
        path: Path::default(),
        f,
    });
}

struct ParamMapperWalk<F> {
    path: Path,
    f: F,
}

impl<B: Backend, F: FnMut(&Path, ParamSlot<B>) -> Option<ParamSlot<B>>> ModuleMapper<B>
    for ParamMapperWalk<F>
{
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.exit();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let value = param.val();
        let slot = ParamSlot {
            id: param.id,
            requires_grad: value.is_require_grad(),
            value: value.into_primitive(),
        };
        let Some(new) = (self.f)(&self.path, slot) else {
            return param;
        };
        if new.value.shape().num_dims() != D {
            // Callers check shapes before mapping; a value of another rank is never installed.
            return param;
        }
        let (_, _, mapper) = param.consume();
        let value = Tensor::<B, D>::from_primitive(new.value)
            .detach()
            .set_require_grad(new.requires_grad);
        Param::from_mapped_value(new.id, value, mapper)
    }
}

/// Maps every float parameter of `module` through `f` (`None` keeps it as it is); a tied
/// parameter is mapped once. An installed value is a fresh leaf: detached, with the
/// requires-grad flag `f` returns, under the id `f` returns.
pub fn map_params<B: Backend, M: Module<B>>(
    module: M,
    f: impl FnMut(&Path, ParamSlot<B>) -> Option<ParamSlot<B>>,
) -> M {
    module.map(&mut ParamMapperWalk {
        path: Path::default(),
        f,
    })
}

/// Calls `f` on every block under `root` and then on `root` itself, children before parents,
/// with its dotted path (`""` for the root) — PyTorch's `module.apply(fn)`.
///
/// A [`Shared`] block is visited once, at its first position, as the block it wraps.
pub fn apply<B: Backend>(root: &mut dyn Block<B>, mut f: impl FnMut(&str, &mut dyn Block<B>)) {
    let visited: Result<(), core::convert::Infallible> = try_apply(root, |path, block| {
        f(path, block);
        Ok(())
    });
    let Ok(()) = visited;
}

/// [`apply`] with a fallible `f`: the walk stops at the first error, which is returned.
///
/// # Errors
/// The first error `f` returns.
pub fn try_apply<B: Backend, E>(
    root: &mut dyn Block<B>,
    mut f: impl FnMut(&str, &mut dyn Block<B>) -> Result<(), E>,
) -> Result<(), E> {
    apply_at(root, "", &mut f, &mut HashSet::new())
}

fn apply_at<B: Backend, E>(
    block: &mut dyn Block<B>,
    path: &str,
    f: &mut dyn FnMut(&str, &mut dyn Block<B>) -> Result<(), E>,
    seen: &mut HashSet<usize>,
) -> Result<(), E> {
    if let Some(shared) = block.downcast_ref::<Shared<B>>() {
        if !seen.insert(shared.key()) {
            return Ok(());
        }
        let shared = shared.clone();
        let mut inner = shared.write();
        return apply_at(&mut **inner, path, f, seen);
    }
    for (name, child) in block.children_mut() {
        apply_at(child, &join(path, name), f, seen)?;
    }
    f(path, block)
}

/// Calls `f` on `root` and then on every block under it, parents before children, with its
/// dotted path (`""` for the root). A [`Shared`] block is seen at every position, as the block
/// it wraps.
pub fn visit_blocks<B: Backend>(root: &dyn Block<B>, mut f: impl FnMut(&str, &dyn Block<B>)) {
    visit_at(root, "", &mut f);
}

fn visit_at<B: Backend>(block: &dyn Block<B>, path: &str, f: &mut dyn FnMut(&str, &dyn Block<B>)) {
    if let Some(shared) = block.downcast_ref::<Shared<B>>() {
        let inner = shared.read();
        return visit_at(&**inner, path, f);
    }
    f(path, block);
    for (name, child) in block.children() {
        visit_at(child, &join(path, name), f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("block 0").is_ok());
        assert!(matches!(
            check_name(""),
            Err(BlockError::InvalidName { .. })
        ));
        let err = check_name("a.b").expect_err("dotted");
        assert_eq!(
            err.to_string(),
            "invalid child name `a.b`: a child name must not contain `.`, the path separator"
        );
    }
}
