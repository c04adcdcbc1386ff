//! `BatchNorm`'s fast formulation (inner axis first, per-channel operands repeated to
//! `[N, C, 1]`, `x · α + β`) against the textbook one, on every backend: outputs, the gradients
//! of the input, `weight` and `bias`, and the running statistics, to 1e-6 of their scale.

use burn::backend::Autodiff;
use burn::module::Param;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use d2l_blocks::layers::BatchNorm;
use d2l_blocks::{Forward, TypedForward};
use d2l_device::backend_test;

use crate::reference::{assert_close, tensor};

/// The textbook batch norm of `x` viewed as `[N, C, L]`: `(x − μ) / √(σ² + ε) · γ + β`.
fn textbook<B: Backend>(
    x: Tensor<B, 3>,
    mean: Option<Tensor<B, 3>>,
    var: Option<Tensor<B, 3>>,
    weight: Tensor<B, 1>,
    bias: Tensor<B, 1>,
    eps: f64,
) -> Tensor<B, 3> {
    let c = weight.dims()[0];
    let mean = mean.unwrap_or_else(|| x.clone().mean_dim(0).mean_dim(2));
    let var = var.unwrap_or_else(|| (x.clone() - mean.clone()).square().mean_dim(0).mean_dim(2));
    (x - mean) / var.add_scalar(eps).sqrt() * weight.reshape([1, c, 1]) + bias.reshape([1, c, 1])
}

/// One training step and one evaluation of `BatchNorm` on `shape`, against [`textbook`].
fn check_shape<B: Backend, const D: usize>(shape: [usize; D], device: &B::Device) {
    type Ad<B> = Autodiff<B>;
    let (n, c) = (shape[0], shape[1]);
    let l: usize = shape[2..].iter().product();
    let mut bn = if D == 4 {
        BatchNorm::<Ad<B>>::new_2d(c, device)
    } else {
        BatchNorm::<Ad<B>>::new_1d(c, device)
    };
    let weight = tensor::<Ad<B>, 1>([c], 1, 0.5, 1.0, device);
    let bias = tensor::<Ad<B>, 1>([c], 2, 0.5, 0.0, device);
    bn.weight = Param::from_tensor(weight.clone());
    bn.bias = Param::from_tensor(bias.clone());
    // An offset larger than the spread, as after a ReLU: the centring must not lose digits.
    let x = tensor::<Ad<B>, D>(shape, 3, 2.0, 3.0, device).require_grad();
    let upstream = tensor::<Ad<B>, D>(shape, 4, 1.0, 0.0, device);

    let y = bn.forward_tensor::<D, D>(x.clone()).expect("forward");
    let grads = (y.clone() * upstream.clone()).sum().backward();
    let (gx, gw, gb) = (
        x.grad(&grads).expect("x grad"),
        bn.weight.grad(&grads).expect("weight grad"),
        bn.bias.grad(&grads).expect("bias grad"),
    );

    let w = Tensor::<Ad<B>, 1>::from_inner(weight.clone().inner()).require_grad();
    let b = Tensor::<Ad<B>, 1>::from_inner(bias.clone().inner()).require_grad();
    let x_ref = Tensor::<Ad<B>, D>::from_inner(x.clone().inner()).require_grad();
    let expected = textbook(
        x_ref.clone().reshape([n, c, l]),
        None,
        None,
        w.clone(),
        b.clone(),
        1e-5,
    );
    let ref_grads = (expected.clone() * upstream.reshape([n, c, l]))
        .sum()
        .backward();
    assert_close(y.reshape([n, c, l]), expected, "output");
    assert_close(
        gx,
        x_ref.grad(&ref_grads).expect("x grad"),
        "input gradient",
    );
    assert_close(
        gw,
        w.grad(&ref_grads).expect("weight grad"),
        "weight gradient",
    );
    assert_close(gb, b.grad(&ref_grads).expect("bias grad"), "bias gradient");

    // Running statistics: 0.9 · (0, 1) + 0.1 · (batch mean, unbiased batch variance).
    let x3 = x.clone().inner().reshape([n, c, l]);
    let mean = x3.clone().mean_dim(0).mean_dim(2);
    let var = (x3.clone() - mean.clone()).square().mean_dim(0).mean_dim(2);
    let unbiased = (n * l) as f64 / (n * l - 1) as f64;
    let running_mean = mean.reshape([c]).mul_scalar(0.1);
    let running_var = var.reshape([c]).mul_scalar(0.1 * unbiased).add_scalar(0.9);
    assert_close(
        bn.running_mean.value().inner(),
        running_mean.clone(),
        "running_mean",
    );
    assert_close(
        bn.running_var.value().inner(),
        running_var.clone(),
        "running_var",
    );

    // Evaluation: the running statistics, folded into `x · α + β`.
    bn.set_training(false);
    let y = bn.forward_tensor::<D, D>(x.clone()).expect("eval forward");
    let expected = textbook(
        x3,
        Some(running_mean.reshape([1, c, 1])),
        Some(running_var.reshape([1, c, 1])),
        weight.inner(),
        bias.inner(),
        1e-5,
    );
    assert_close(y.inner().reshape([n, c, l]), expected, "eval output");
}

backend_test! {
    fn batch_norm_fast_formulation_equals_the_textbook_one<B>(device) {
        check_shape::<B, 2>([6, 5], device);
        check_shape::<B, 3>([4, 3, 7], device);
        check_shape::<B, 4>([3, 4, 5, 6], device);
        // LeNet-with-BN's first block at batch 8: 6 channels of 28×28.
        check_shape::<B, 4>([8, 6, 28, 28], device);
    }
}
