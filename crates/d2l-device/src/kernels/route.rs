//! From any `B: Backend` to the [`CpuKernels`] of the backend it is, without a trait bound.
//!
//! A table of `CpuKernels` methods for a backend `K` has type `Kernels<K>`; when `B` is `K`,
//! `Kernels<K>` *is* `Kernels<B>` and `Any` hands it over. Nothing is converted: the same
//! tensors flow through, only the function called changes.

use std::any::Any;

use burn::tensor::backend::Backend;
use burn::tensor::ops::{ConvOptions, FloatTensor};
use burn::tensor::{Tensor, TensorPrimitive};

use super::CpuKernels;

/// A binary convolution kernel's signature, as in [`CpuKernels::conv2d`].
type Conv2d<B> =
    fn(FloatTensor<B>, FloatTensor<B>, Option<FloatTensor<B>>, ConvOptions<2>) -> FloatTensor<B>;

/// The [`CpuKernels`] methods the free functions route to, for one backend.
pub(super) struct Kernels<B: Backend> {
    pub(super) sigmoid: fn(FloatTensor<B>) -> FloatTensor<B>,
    pub(super) exp: fn(FloatTensor<B>) -> FloatTensor<B>,
    pub(super) conv2d: Conv2d<B>,
}

impl<B: Backend> Kernels<B> {
    #[cfg_attr(not(feature = "flex"), allow(dead_code))]
    fn of() -> Self
    where
        B: CpuKernels,
    {
        Self {
            sigmoid: <B as CpuKernels>::sigmoid,
            exp: <B as CpuKernels>::exp,
            conv2d: <B as CpuKernels>::conv2d,
        }
    }
}

/// The kernels for `B` where it is a backend with its own (flex, with or without autodiff)
/// and routing is on; `None` means "use Burn's op".
pub(super) fn on<B: Backend>() -> Option<Kernels<B>> {
    if !super::enabled() {
        return None;
    }
    #[cfg(feature = "flex")]
    {
        use burn::backend::{Autodiff, Flex};
        if let Some(kernels) = cast(Kernels::<Flex>::of()) {
            return Some(kernels);
        }
        if let Some(kernels) = cast(Kernels::<Autodiff<Flex>>::of()) {
            return Some(kernels);
        }
    }
    None
}

/// `value` as a `U`, where `T` and `U` are the same type.
#[cfg_attr(not(feature = "flex"), allow(dead_code))]
fn cast<T: 'static, U: 'static>(value: T) -> Option<U> {
    (Box::new(value) as Box<dyn Any>)
        .downcast::<U>()
        .ok()
        .map(|boxed| *boxed)
}

/// Applies a kernel on Burn's rank-erased float tensor to a typed tensor.
pub(super) fn map<B: Backend, const D: usize>(
    x: Tensor<B, D>,
    kernel: fn(FloatTensor<B>) -> FloatTensor<B>,
) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(kernel(x.into_primitive().tensor())))
}

#[cfg(test)]
mod tests {
    use burn::backend::NdArray;

    use super::*;

    #[test]
    fn backends_without_kernels_route_to_burn() {
        assert!(on::<NdArray>().is_none());
        assert!(on::<burn::backend::Autodiff<NdArray>>().is_none());
    }

    #[cfg(feature = "flex")]
    #[test]
    fn flex_routes_to_its_kernels_unless_turned_off() {
        use burn::backend::{Autodiff, Flex};
        assert!(on::<Flex>().is_some());
        assert!(on::<Autodiff<Flex>>().is_some());
        super::super::set_enabled(false);
        let off = on::<Flex>().is_none();
        super::super::set_enabled(true);
        assert!(off);
    }
}
