//! Our own CPU kernels where a Burn backend has none fast enough (the book's CNNs on flex).
//!
//! [`CpuKernels`] is a backend extension in Burn's pattern (the Burn book's "custom kernel"
//! chapter): a trait over [`Backend`] whose methods default to Burn's own ops. `Flex`
//! overrides them with the kernels of this module (vectorized `exp`/`sigmoid`, 2-D convolution
//! and both its gradients as one well-shaped GEMM each, threaded); `Autodiff<B>` records its
//! own backward for them (the sigmoid's from its saved output, the convolution's through the
//! kernels above), so training uses them too.
//!
//! Layers stay generic over `B: Backend`: the free functions [`sigmoid`], [`exp`] and
//! [`conv2d`] route a `Flex` or `Autodiff<Flex>` tensor to the kernels and every other backend
//! to Burn's op, which is what they compute (tested against each other on every backend).
//! [`set_enabled`] turns the routing off, for before/after measurements.
//!
//! ```
//! use burn::backend::{Autodiff, Flex};
//! use burn::tensor::Tensor;
//! use burn::tensor::ops::ConvOptions;
//! use d2l_device::kernels;
//!
//! let device = Default::default();
//! let x = Tensor::<Autodiff<Flex>, 4>::ones([2, 3, 8, 8], &device).require_grad();
//! let w = Tensor::<Autodiff<Flex>, 4>::ones([4, 3, 3, 3], &device).require_grad();
//! let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
//! let y = kernels::sigmoid(kernels::conv2d(x.clone(), w.clone(), None, options));
//! assert_eq!(y.dims(), [2, 4, 8, 8]);
//! let grads = y.sum().backward();
//! assert_eq!(w.grad(&grads).map(|g| g.dims()), Some([4, 3, 3, 3]));
//! ```

mod autodiff;
#[cfg(feature = "flex")]
mod flex;
mod route;

use std::sync::atomic::{AtomicBool, Ordering};

use burn::tensor::backend::Backend;
use burn::tensor::ops::{ActivationOps, ConvOptions, FloatTensor, FloatTensorOps, ModuleOps};
use burn::tensor::{Tensor, TensorPrimitive};

/// A backend's own kernels for the ops the book's CNNs spend their time in.
///
/// Every method defaults to Burn's op of the same meaning, so a backend opts in by overriding
/// the ones it has a faster kernel for (`impl CpuKernels for MyBackend {}` keeps Burn's).
/// Arguments and results follow Burn's `ActivationOps` / `ModuleOps` methods of the same name.
pub trait CpuKernels: Backend {
    /// `1 / (1 + e^-x)`, elementwise.
    fn sigmoid(x: FloatTensor<Self>) -> FloatTensor<Self> {
        <Self as ActivationOps<Self>>::sigmoid(x)
    }

    /// The sigmoid's input gradient from its output `y`: `grad · y · (1 − y)`.
    fn sigmoid_backward(output: FloatTensor<Self>, grad: FloatTensor<Self>) -> FloatTensor<Self> {
        <Self as ActivationOps<Self>>::sigmoid_backward(output, grad)
    }

    /// `e^x`, elementwise.
    fn exp(x: FloatTensor<Self>) -> FloatTensor<Self> {
        <Self as FloatTensorOps<Self>>::float_exp(x)
    }

    /// 2-D cross-correlation of `x` `[N, C, H, W]` with `weight` `[O, C / groups, kh, kw]`,
    /// plus `bias` `[O]`.
    fn conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: Option<FloatTensor<Self>>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        <Self as ModuleOps<Self>>::conv2d(x, weight, bias, options)
    }

    /// The gradient of [`CpuKernels::conv2d`] with respect to `x`, given the output's.
    fn conv2d_x_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        <Self as ModuleOps<Self>>::conv2d_x_backward(x, weight, output_grad, options)
    }

    /// The gradient of [`CpuKernels::conv2d`] with respect to `bias`, given the output's.
    fn conv2d_bias_backward(
        x: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        <Self as ModuleOps<Self>>::conv2d_bias_backward(x, bias, output_grad)
    }

    /// The gradient of [`CpuKernels::conv2d`] with respect to `weight`, given the output's.
    fn conv2d_weight_backward(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        <Self as ModuleOps<Self>>::conv2d_weight_backward(x, weight, output_grad, options)
    }
}

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the routing of [`sigmoid`], [`exp`] and [`conv2d`] to [`CpuKernels`] on or off for
/// the whole process (on by default). Off, every backend runs Burn's ops: what benchmarks
/// compare against, and a way to rule the kernels out when hunting a numerical difference.
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Whether [`sigmoid`], [`exp`] and [`conv2d`] route to [`CpuKernels`] (see [`set_enabled`]).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// `1 / (1 + e^-x)` elementwise: flex's kernel on `Flex` and `Autodiff<Flex>` (its backward
/// from the saved output), Burn's `sigmoid` elsewhere; an empty tensor is returned as is.
pub fn sigmoid<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    // Elementwise on nothing is nothing (and cubecl cannot launch a kernel over it).
    if x.shape().num_elements() == 0 {
        return x;
    }
    match route::on::<B>() {
        Some(kernels) => route::map(x, kernels.sigmoid),
        None => burn::tensor::activation::sigmoid(x),
    }
}

/// `e^x` elementwise: flex's kernel on `Flex` and `Autodiff<Flex>`, Burn's `exp` elsewhere;
/// an empty tensor is returned as is.
pub fn exp<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    if x.shape().num_elements() == 0 {
        return x;
    }
    match route::on::<B>() {
        Some(kernels) => route::map(x, kernels.exp),
        None => x.exp(),
    }
}

/// 2-D cross-correlation (PyTorch's `F.conv2d`): flex's GEMM kernels on `Flex` and
/// `Autodiff<Flex>` (both gradients included), Burn's `conv2d` elsewhere.
///
/// `x` is `[N, C, H, W]`, `weight` `[O, C / groups, kh, kw]`, `bias` `[O]`; shapes are the
/// caller's to check, as for Burn's `conv2d`.
pub fn conv2d<B: Backend>(
    x: Tensor<B, 4>,
    weight: Tensor<B, 4>,
    bias: Option<Tensor<B, 1>>,
    options: ConvOptions<2>,
) -> Tensor<B, 4> {
    let Some(kernels) = route::on::<B>() else {
        return burn::tensor::module::conv2d(x, weight, bias, options);
    };
    let float = |t: TensorPrimitive<B>| t.tensor();
    let y = (kernels.conv2d)(
        float(x.into_primitive()),
        float(weight.into_primitive()),
        bias.map(|b| float(b.into_primitive())),
        options,
    );
    Tensor::from_primitive(TensorPrimitive::Float(y))
}
