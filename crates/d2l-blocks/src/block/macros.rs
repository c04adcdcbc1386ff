//! The macros that make a module a block: [`children!`](crate::children) and
//! [`impl_block!`](crate::impl_block).

/// Implements [`Forward::children`](crate::Forward::children) and [`Forward::children_mut`](crate::Forward::children_mut) inside an
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

/// Makes a type that implements Burn's `Module` and this crate's [`Forward`](crate::Forward) a [`Block`](crate::Block).
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
