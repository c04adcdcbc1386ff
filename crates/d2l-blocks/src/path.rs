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

/// The separator of dotted paths, as in PyTorch's `state_dict` keys.
pub const SEPARATOR: char = '.';

/// `prefix` and `name` joined by [`SEPARATOR`]; an empty side is left out.
///
/// ```
/// use d2l_blocks::path::join;
///
/// assert_eq!(join("0.block 1", "2"), "0.block 1.2");
/// assert_eq!(join("", "weight"), "weight");
/// ```
pub fn join(prefix: &str, name: &str) -> String {
    match (prefix.is_empty(), name.is_empty()) {
        (true, _) => name.to_owned(),
        (_, true) => prefix.to_owned(),
        _ => format!("{prefix}{SEPARATOR}{name}"),
    }
}

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

/// Whether a parameter is stored transposed relative to PyTorch: a `Linear` weight.
///
/// **The one orientation rule.** Burn stores a `Linear` weight as `[in, out]`, PyTorch as
/// `[out, in]`. Wherever a PyTorch key is used (views, state dicts, files, errors, initializer
/// fans) shapes and values are PyTorch's `[out, in]`; typed access to the Burn tensor is
/// Burn's `[in, out]`.
pub fn is_torch_transposed(name: &str, container_type: &str, rank: usize) -> bool {
    rank == 2 && name == "weight" && container_type == "Struct:Linear"
}

/// PyTorch's name for a parameter Burn names otherwise: `LayerNorm`'s and `GroupNorm`'s
/// `gamma` / `beta` are `weight` / `bias`.
///
/// **The one naming rule.** Every key this workspace builds goes through [`Path::enter`],
/// which applies it, so state dicts, files, initializers and errors all use PyTorch's names.
pub fn torch_name<'a>(name: &'a str, container_type: &str) -> &'a str {
    match (container_type, name) {
        ("Struct:LayerNorm" | "Struct:GroupNorm", "gamma") => "weight",
        ("Struct:LayerNorm" | "Struct:GroupNorm", "beta") => "bias",
        _ => name,
    }
}

/// Whether a parameter is held as a float `[1]` but is PyTorch's int64 scalar (shape `[]`):
/// batch norm's `num_batches_tracked`. Views, state dicts and files show PyTorch's dtype and
/// shape; the value is converted at that boundary.
pub fn is_torch_scalar(name: &str, container_type: &str) -> bool {
    container_type == "Struct:BatchNorm" && name == "num_batches_tracked"
}

/// Where a walk is: the modules entered, as a dotted key, with their container types.
///
/// Entering and leaving a module costs no allocation past the longest path seen.
#[derive(Debug, Default, Clone)]
pub struct Path {
    key: String,
    starts: Vec<usize>,
    containers: Vec<String>,
}

impl Path {
    /// Enters the module `name` of Burn container type `container_type` (`Struct:Linear`).
    pub fn enter(&mut self, name: &str, container_type: &str) {
        self.starts.push(self.key.len());
        if !self.key.is_empty() {
            self.key.push(SEPARATOR);
        }
        self.key.push_str(torch_name(name, container_type));
        self.containers.push(container_type.to_owned());
    }

    /// Leaves the innermost module.
    pub fn exit(&mut self) {
        if let Some(start) = self.starts.pop() {
            self.key.truncate(start);
        }
        self.containers.pop();
    }

    /// The dotted key (`0.block 1.2.weight`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The last segment (`weight`), empty at the root.
    pub fn name(&self) -> &str {
        match self.starts.last() {
            Some(&start) if start == 0 => &self.key,
            Some(&start) => &self.key[start + SEPARATOR.len_utf8()..],
            None => "",
        }
    }

    /// The key of the enclosing module (`0.block 1.2`).
    pub fn parent(&self) -> &str {
        &self.key[..self.starts.last().copied().unwrap_or(0)]
    }

    /// Burn's container type of the innermost module (`Struct:Linear`), empty at the root.
    pub fn container_type(&self) -> &str {
        self.containers.last().map_or("", String::as_str)
    }

    /// The innermost container's type name (`Linear`).
    pub fn container(&self) -> &str {
        let ty = self.container_type();
        ty.split_once(':').map_or(ty, |(_, name)| name)
    }

    /// Whether the parameter here is PyTorch's int64 scalar ([`is_torch_scalar`]).
    pub fn is_torch_scalar(&self) -> bool {
        is_torch_scalar(self.name(), self.container_type())
    }

    /// Whether a parameter of `rank` here is stored transposed ([`is_torch_transposed`]).
    pub fn is_torch_transposed(&self, rank: usize) -> bool {
        is_torch_transposed(self.name(), self.container_type(), rank)
    }
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
    fn a_path_tracks_keys_names_and_containers() {
        let mut path = Path::default();
        assert_eq!((path.key(), path.name(), path.parent()), ("", "", ""));
        path.enter("0", "Struct:Sequential");
        path.enter("block 1", "Struct:Sequential");
        path.enter("weight", "Struct:Linear");
        assert_eq!(path.key(), "0.block 1.weight");
        assert_eq!(
            (path.name(), path.parent(), path.container()),
            ("weight", "0.block 1", "Linear")
        );
        assert!(path.is_torch_transposed(2));
        assert!(!path.is_torch_transposed(1));
        path.exit();
        path.enter("bias", "Struct:Linear");
        assert_eq!(path.key(), "0.block 1.bias");
        path.exit();
        path.exit();
        path.exit();
        assert_eq!(path.key(), "");
        path.exit();
        assert_eq!(path.key(), "");
    }

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
