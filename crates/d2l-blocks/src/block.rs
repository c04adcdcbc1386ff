//! [`Block`]: the object-safe face of a Burn module inside a dynamic container, and
//! [`Forward`]: what a user writes to make a module a block.

use core::any::Any;
use core::fmt::Debug;
use std::sync::Arc;

use burn::module::{ModuleMapper, ModuleVisitor, Param};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Bool, Int, Tensor};

use crate::{Activation, BlockError, with_rank};

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
    /// `ReLU()`, or a multi-line tree built with [`tree`](crate::tree).
    fn repr(&self) -> String;

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
    /// to be loaded (keys relative to this block, Burn orientation). The default passes each
    /// child of [`children`](Self::children) its part (the keys under its name); a lazy layer
    /// builds itself from its part.
    fn materialize_for(&self, shapes: &[(String, Vec<usize>)], device: &B::Device) {
        for (name, child) in self.children() {
            let part: Vec<(String, Vec<usize>)> = shapes
                .iter()
                .filter_map(|(key, shape)| {
                    let rest = key
                        .strip_prefix(name)?
                        .strip_prefix(crate::path::SEPARATOR)?;
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

/// The typed forward of every block — a `Sequential`, a derived model or a single layer:
/// rank-`I` tensor in, rank-`O` tensor out, both inferred where the types say them. A
/// classifier from images to logits: `let logits: Tensor<B, 2> = net.forward_tensor(x)?;`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::LinearConfig;
/// use burn::tensor::Tensor;
/// use d2l_blocks::{TypedForward, layers::Flatten};
///
/// let device = Default::default();
/// let linear = LinearConfig::new(6, 2).init::<NdArray>(&device);
/// let y: Tensor<NdArray, 2> = linear.forward_tensor(Tensor::<NdArray, 2>::ones([4, 6], &device)).unwrap();
/// assert_eq!(y.dims(), [4, 2]);
/// let flat: Tensor<NdArray, 2> = Flatten::new().forward_tensor(Tensor::<NdArray, 4>::ones([4, 1, 2, 3], &device)).unwrap();
/// assert_eq!(flat.dims(), [4, 6]);
/// ```
pub trait TypedForward<B: Backend>: Forward<B> {
    /// Runs the block on a rank-`I` tensor, expecting a rank-`O` output.
    ///
    /// # Errors
    /// The block's error; [`BlockError::Rank`] if the output is not of rank `O`.
    fn forward_tensor<const I: usize, const O: usize>(
        &self,
        x: Tensor<B, I>,
    ) -> Result<Tensor<B, O>, BlockError> {
        self.forward(x.into())?.into_tensor()
    }
}

impl<B: Backend, T: Forward<B> + ?Sized> TypedForward<B> for T {}

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
const fn crosses(rank: usize) -> bool {
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

/// Finds the first parameter of a rank that cannot cross a `dyn Block` boundary. Not public
/// API: [`impl_block!`](crate::impl_block) runs it on the concrete module, where every rank is
/// nameable.
#[doc(hidden)]
#[derive(Default)]
pub struct RankProbe {
    path: crate::path::Path,
    found: Option<BlockError>,
}

impl RankProbe {
    fn see(&mut self, rank: usize) {
        if self.found.is_none() && !crosses(rank) {
            self.found = Some(BlockError::UnsupportedRank {
                path: self.path.key().to_owned(),
                rank,
            });
        }
    }

    /// The result of the walk.
    pub fn finish(self) -> Result<(), BlockError> {
        self.found.map_or(Ok(()), Err)
    }
}

impl<B: Backend> ModuleVisitor<B> for RankProbe {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, _: &Param<Tensor<B, D>>) {
        self.see(D);
    }
    fn visit_int<const D: usize>(&mut self, _: &Param<Tensor<B, D, Int>>) {
        self.see(D);
    }
    fn visit_bool<const D: usize>(&mut self, _: &Param<Tensor<B, D, Bool>>) {
        self.see(D);
    }
}

/// Implements [`Forward::children`] and [`Forward::children_mut`] inside an
/// `impl Forward<B> for …` block, listing the named fields as children in order; an
/// `Option` field is written `name: option` and listed when it is `Some`
/// (`children!(B; conv1, conv2, conv3: option, bn1, bn2)`). With the children named once,
/// modes, `apply`, `named_modules`, hooks and lazy loading reach them all.
///
/// ```
/// use burn::prelude::*;
/// use burn::nn::{Linear, LinearConfig, Relu};
/// use d2l_blocks::{Activation, BlockError, Forward, Sequential, children, impl_block};
///
/// #[derive(Module, Debug)]
/// pub struct Twice<B: Backend> {
///     inner: Linear<B>,
/// }
///
/// impl<B: Backend> Forward<B> for Twice<B> {
///     fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
///         let x = Forward::forward(&self.inner, x)?;
///         Forward::forward(&self.inner, x)
///     }
///     fn repr(&self) -> String {
///         "Twice()".into()
///     }
///     children!(B; inner);
/// }
/// impl_block!(Twice<B>);
///
/// let device = Default::default();
/// let mut net = Sequential::<burn::backend::NdArray>::new().add(Twice { inner: LinearConfig::new(2, 2).init(&device) });
/// let mut paths = Vec::new();
/// net.apply(|path, _| paths.push(path.to_owned()));
/// assert_eq!(paths, ["0.inner", "0", ""]);
/// ```
#[macro_export]
macro_rules! children {
    ($b:ident; $($field:ident $(: $kind:ident)?),* $(,)?) => {
        fn children(&self) -> ::std::vec::Vec<(&str, &dyn $crate::Block<$b>)> {
            let mut out: ::std::vec::Vec<(&str, &dyn $crate::Block<$b>)> = ::std::vec::Vec::new();
            $($crate::__child!(out, $b, &self.$field, $field $(, $kind)?);)*
            out
        }
        fn children_mut(&mut self) -> ::std::vec::Vec<(&str, &mut dyn $crate::Block<$b>)> {
            let mut out: ::std::vec::Vec<(&str, &mut dyn $crate::Block<$b>)> = ::std::vec::Vec::new();
            $($crate::__child!(out, $b, &mut self.$field, $field $(, $kind)?);)*
            out
        }
    };
}

/// One entry of [`children!`]: a block field, or an `Option` field (`name: option`) listed
/// when it is `Some`. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __child {
    ($out:ident, $b:ident, $value:expr, $field:ident) => {
        $out.push((::core::stringify!($field), $value));
    };
    ($out:ident, $b:ident, $value:expr, $field:ident, option) => {
        if let ::core::option::Option::Some(child) = $value {
            $out.push((::core::stringify!($field), child));
        }
    };
}

/// Makes a type that implements Burn's `Module` and this crate's [`Forward`] a [`Block`].
///
/// Two forms: `impl_block!(MyBlock<B>)` for a struct generic over its backend (as
/// `#[derive(Module)]` structs are), `impl_block!(MyActivation)` for a module without a
/// backend parameter (like Burn's `Relu`).
///
/// ```
/// use burn::prelude::*;
/// use burn::nn::{Linear, LinearConfig};
/// use d2l_blocks::{Activation, BlockError, Forward, impl_block, tree};
///
/// /// The book's `MLP`: one hidden layer of 256 ReLUs, 10 outputs.
/// #[derive(Module, Debug)]
/// pub struct Mlp<B: Backend> {
///     hidden: Linear<B>,
///     output: Linear<B>,
/// }
///
/// impl<B: Backend> Forward<B> for Mlp<B> {
///     fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
///         let x = Forward::forward(&self.hidden, x).map_err(|e| e.within("hidden"))?;
///         let x = d2l_blocks::tensor::relu(x.into_tensor::<2>()?);
///         Forward::forward(&self.output, x.into()).map_err(|e| e.within("output"))
///     }
///     fn repr(&self) -> String {
///         tree("Mlp", [("hidden", Forward::<B>::repr(&self.hidden)), ("output", Forward::<B>::repr(&self.output))])
///     }
/// }
/// impl_block!(Mlp<B>);
/// ```
#[macro_export]
macro_rules! impl_block {
    ($ty:ident < $b:ident >) => {
        impl<$b: $crate::__burn::tensor::backend::Backend> $crate::Block<$b> for $ty<$b> {
            $crate::__block_methods!(
                $b,
                $ty<$b>,
                |inner| {
                    <$ty<$b> as $crate::__burn::module::AutodiffModule<$b>>::from_inner(inner)
                },
                $ty<<$b as $crate::__burn::tensor::backend::AutodiffBackend>::InnerBackend>
            );
        }
    };
    ($ty:ident) => {
        impl<B: $crate::__burn::tensor::backend::Backend> $crate::Block<B> for $ty {
            $crate::__block_methods!(B, $ty, |inner| inner, $ty);
        }
    };
}

/// The body shared by both forms of [`impl_block!`]. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __block_methods {
    ($b:ident, $self_ty:ty, |$inner:ident| $from_inner:expr, $inner_ty:ty) => {
        fn type_name(&self) -> &'static str {
            ::core::any::type_name::<Self>()
        }
        fn as_any(&self) -> &dyn ::core::any::Any {
            self
        }
        fn as_any_mut(&mut self) -> &mut dyn ::core::any::Any {
            self
        }
        fn into_any(self: ::std::boxed::Box<Self>) -> ::std::boxed::Box<dyn ::core::any::Any> {
            self
        }
        fn clone_box(&self) -> ::std::boxed::Box<dyn $crate::Block<$b>> {
            ::std::boxed::Box::new(::core::clone::Clone::clone(self))
        }
        fn visit_erased(&self, visitor: &mut dyn $crate::ErasedVisitor<$b>) {
            $crate::__burn::module::Module::<$b>::visit(self, &mut $crate::ReifyVisitor(visitor));
        }
        fn map_erased(
            self: ::std::boxed::Box<Self>,
            mapper: &mut dyn $crate::ErasedMapper<$b>,
        ) -> ::std::boxed::Box<dyn $crate::Block<$b>> {
            ::std::boxed::Box::new($crate::__burn::module::Module::<$b>::map(
                *self,
                &mut $crate::ReifyMapper(mapper),
            ))
        }
        fn collect_devices_erased(
            &self,
            devices: ::std::vec::Vec<<$b as $crate::__burn::tensor::backend::BackendTypes>::Device>,
        ) -> ::std::vec::Vec<<$b as $crate::__burn::tensor::backend::BackendTypes>::Device> {
            $crate::__burn::module::Module::<$b>::collect_devices(self, devices)
        }
        fn num_params_erased(&self) -> usize {
            $crate::__burn::module::Module::<$b>::num_params(self)
        }
        fn check_ranks(&self) -> ::core::result::Result<(), $crate::BlockError> {
            let mut probe = $crate::RankProbe::default();
            $crate::__burn::module::Module::<$b>::visit(self, &mut probe);
            probe.finish()
        }
        fn valid_boxed(
            &self,
        ) -> (
            ::std::boxed::Box<
                dyn $crate::Block<
                        <$b as $crate::__burn::tensor::backend::AutodiffBackend>::InnerBackend,
                    >,
            >,
            $crate::Lift<$b>,
        )
        where
            $b: $crate::__burn::tensor::backend::AutodiffBackend,
        {
            let valid = <Self as $crate::__burn::module::AutodiffModule<$b>>::valid(self);
            let lift: $crate::Lift<$b> = ::std::sync::Arc::new(|boxed| {
                let any = $crate::Block::into_any(boxed);
                let $inner: $inner_ty = *any.downcast::<$inner_ty>().ok()?;
                ::core::option::Option::Some(
                    ::std::boxed::Box::new($from_inner) as ::std::boxed::Box<dyn $crate::Block<$b>>
                )
            });
            (::std::boxed::Box::new(valid), lift)
        }
    };
}
