//! `AvgPool2d` (through a depthwise convolution on flex, Burn's pool elsewhere) against Burn's
//! `avg_pool2d`, on every backend:
//! outputs and input gradients, for the windows where the two are the same average, and the
//! fallback where they are not (ceil mode, uncounted or asymmetric padding).

use burn::backend::Autodiff;
use burn::nn::PaddingConfig2d;
use burn::nn::pool::AvgPool2dConfig;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use burn::tensor::module::avg_pool2d;
use d2l_blocks::TypedForward;
use d2l_device::backend_test;

use crate::reference::{assert_close, tensor};

/// Pools `[2, 3, 9, 8]` (with a NaN and an infinity in it) with `config` and compares the
/// output and the input gradient with Burn's `avg_pool2d(padding, count_include_pad, ceil)`.
fn check<B: Backend>(config: AvgPool2dConfig, padding: [usize; 2], device: &B::Device) {
    type Ad<B> = Autodiff<B>;
    let shape = [2, 3, 9, 8];
    let mut values = crate::reference::values(shape.iter().product(), 7, 2.0, 0.5);
    values[20] = f32::NAN;
    values[300] = f32::INFINITY;
    let x = Tensor::<Ad<B>, 4>::from_data(burn::tensor::TensorData::new(values, shape), device)
        .require_grad();
    let pool = config.init();
    let y = pool.forward_tensor::<4, 4>(x.clone()).expect("forward");
    let expected_x = Tensor::<Ad<B>, 4>::from_inner(x.clone().inner()).require_grad();
    let expected = avg_pool2d(
        expected_x.clone(),
        pool.kernel_size,
        pool.stride,
        padding,
        pool.count_include_pad,
        pool.ceil_mode,
    );
    assert_eq!(y.dims(), expected.dims(), "{config:?}");
    let upstream = tensor::<Ad<B>, 4>(y.dims(), 8, 1.0, 0.0, device);
    let grads = (y.clone() * upstream.clone()).sum().backward();
    let expected_grads = (expected.clone() * upstream).sum().backward();
    let what = format!(
        "{:?} stride {:?} padding {padding:?}",
        pool.kernel_size, pool.stride
    );
    assert_close(y.inner(), expected.inner(), &format!("output, {what}"));
    assert_close(
        x.grad(&grads).expect("input gradient"),
        expected_x.grad(&expected_grads).expect("input gradient"),
        &format!("input gradient, {what}"),
    );
}

backend_test! {
    fn avg_pool_2d_as_a_depthwise_conv_equals_burns_pool<B>(device) {
        // LeNet's 2×2/2, an overlapping 3×3/1 with counted padding, a strided non-square one.
        check::<B>(AvgPool2dConfig::new([2, 2]).with_strides([2, 2]), [0, 0], device);
        check::<B>(
            AvgPool2dConfig::new([3, 3]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)),
            [1, 1],
            device,
        );
        check::<B>(
            AvgPool2dConfig::new([2, 3])
                .with_strides([2, 1])
                .with_padding(PaddingConfig2d::Explicit(1, 0, 1, 0)),
            [1, 0],
            device,
        );
        // Not the same average as a convolution: Burn's pool runs.
        check::<B>(
            AvgPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_count_include_pad(false),
            [1, 1],
            device,
        );
        check::<B>(
            AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).with_ceil_mode(true),
            [0, 0],
            device,
        );
    }
}
