//! `d2l_device::kernels` against Burn's standard ops on every backend: on flex (with and without
//! autodiff) the routed functions run our kernels, elsewhere Burn's op. Outputs and gradients,
//! over strides, padding, dilation, groups, padding wider than the kernel, non-contiguous and
//! non-finite inputs.

use burn::backend::Autodiff;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Tensor, TensorData};
use d2l_device::backend::DeviceBackend;
use d2l_device::numerics::{MatmulInputs, Tolerance, dot_bound};
use d2l_device::{backend_test, kernels};

/// Deterministic values in `offset ± scale` (a linear congruential sequence). The convolution
/// cases use `[0, 1]`: with no cancellation, a difference in summation order stays within
/// [`dot_bound`] of the result itself, and a missed or extra term shows.
fn values(count: usize, seed: u64, scale: f32, offset: f32) -> Vec<f32> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * scale + offset
        })
        .collect()
}

/// A tensor of [`values`] in `[0, 1]`.
fn positive<B: DeviceBackend, const D: usize>(
    shape: [usize; D],
    seed: u64,
    device: &B::Device,
) -> Tensor<B, D> {
    let count = shape.iter().product();
    Tensor::from_data(
        TensorData::new(values(count, seed, 0.5, 0.5), shape),
        device,
    )
}

/// Two summation orders of dot products up to `k` long, each within [`dot_bound`] of the
/// exact sum (of non-negative terms, so of the result).
fn sums_of<B: DeviceBackend>(k: usize) -> Tolerance {
    Tolerance::new(1e-30, 2.0 * dot_bound(MatmulInputs::of(B::KIND), k))
}

/// `actual` against `expected` within `tolerance`; NaN must meet NaN, an infinity the same
/// infinity.
#[track_caller]
fn check<B: DeviceBackend, const D: usize>(
    actual: Tensor<B, D>,
    expected: Tensor<B, D>,
    tolerance: Tolerance,
    what: &str,
) {
    assert_eq!(actual.dims(), expected.dims(), "{what}: shape");
    let (actual, expected) = (actual.into_data(), expected.into_data());
    if let Err(error) = tolerance.check_data(&actual, &expected) {
        panic!("{what}: {error}");
    }
}

/// One convolution case: input `[N, C, H, W]`, `O` outputs, kernel, stride, padding,
/// dilation, groups.
struct Case {
    input: [usize; 4],
    out: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
}

/// The routed convolution and Burn's, forward and all three gradients, with and without bias.
fn check_conv<B: DeviceBackend>(case: &Case, seed: u64, device: &B::Device) {
    type Ad<B> = Autodiff<B>;
    let c = case.input[1];
    let weight_shape = [case.out, c / case.groups, case.kernel[0], case.kernel[1]];
    let options = ConvOptions::new(case.stride, case.padding, case.dilation, case.groups);
    let x = positive::<Ad<B>, 4>(case.input, seed, device);
    let w = positive::<Ad<B>, 4>(weight_shape, seed + 1, device);
    let b = positive::<Ad<B>, 1>([case.out], seed + 2, device);
    let what = format!("{:?} {:?}", case.input, options);
    for with_bias in [true, false] {
        let run = |routed: bool| {
            let (x, w, b) = (
                x.clone().require_grad(),
                w.clone().require_grad(),
                b.clone().require_grad(),
            );
            let bias = with_bias.then(|| b.clone());
            let y = if routed {
                kernels::conv2d(x.clone(), w.clone(), bias, options.clone())
            } else {
                burn::tensor::module::conv2d(x.clone(), w.clone(), bias, options.clone())
            };
            let upstream = positive::<Ad<B>, 4>(y.dims(), seed + 3, device);
            let grads = (y.clone() * upstream).sum().backward();
            let grad = |t: &Tensor<Ad<B>, 4>| t.grad(&grads).expect("gradient");
            let gb = with_bias.then(|| b.grad(&grads).expect("bias gradient"));
            (y.inner(), grad(&x), grad(&w), gb)
        };
        let (ours, burn) = (run(true), run(false));
        // The longest dot product: the weight gradient's, over the batch's output pixels.
        let [ho, wo] = [2, 3].map(|axis| ours.0.dims()[axis]);
        let taps = case.kernel[0] * case.kernel[1];
        let tol = sums_of::<B>((case.input[0] * ho * wo).max(c * taps).max(case.out * taps));
        check(
            ours.0,
            burn.0,
            tol,
            &format!("{what}: output (bias {with_bias})"),
        );
        check(ours.1, burn.1, tol, &format!("{what}: input gradient"));
        check(ours.2, burn.2, tol, &format!("{what}: weight gradient"));
        if let (Some(ours), Some(burn)) = (ours.3, burn.3) {
            check(ours, burn, tol, &format!("{what}: bias gradient"));
        }
    }
    // Without autodiff: the inner backend's kernel.
    let (x, w, b) = (x.inner(), w.inner(), b.inner());
    let ours = kernels::conv2d(x.clone(), w.clone(), Some(b.clone()), options.clone());
    let burn = burn::tensor::module::conv2d(x, w, Some(b), options);
    let taps = case.kernel[0] * case.kernel[1];
    check(
        ours,
        burn,
        sums_of::<B>(c * taps + 1),
        &format!("{what}: inner output"),
    );
}

const fn case(
    input: [usize; 4],
    out: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
) -> Case {
    Case {
        input,
        out,
        kernel,
        stride,
        padding,
        dilation,
        groups,
    }
}

backend_test! {
    fn conv2d_kernels_equal_burns_conv2d<B>(device) {
        let cases = [
            // LeNet's two convolutions (batch 2).
            case([2, 1, 28, 28], 6, [5, 5], [1, 1], [2, 2], [1, 1], 1),
            case([2, 6, 14, 14], 16, [5, 5], [1, 1], [0, 0], [1, 1], 1),
            // ResNet's stem: 7×7 stride 2, and a strided 1×1 shortcut.
            case([1, 3, 17, 15], 8, [7, 7], [2, 2], [3, 3], [1, 1], 1),
            case([2, 4, 9, 9], 6, [1, 1], [2, 2], [0, 0], [1, 1], 1),
            // Unequal strides, padding and dilation; groups.
            case([1, 4, 9, 8], 6, [3, 2], [2, 3], [0, 2], [1, 1], 2),
            case([3, 6, 10, 11], 6, [3, 3], [1, 2], [2, 1], [2, 3], 3),
            // Depthwise (the average pool's convolution).
            case([2, 4, 8, 8], 4, [2, 2], [2, 2], [0, 0], [1, 1], 4),
            // Padding wider than the kernel: some taps only ever read padding.
            case([1, 2, 4, 4], 3, [3, 3], [1, 1], [3, 3], [1, 1], 1),
            // Kernel as large as the padded input: a single output pixel.
            case([2, 2, 3, 3], 2, [5, 5], [1, 1], [1, 1], [1, 1], 1),
        ];
        for (seed, case) in cases.iter().enumerate() {
            check_conv::<B>(case, 10 * seed as u64, device);
        }
    }
}

backend_test! {
    fn conv2d_kernels_keep_nan_and_infinities_where_burn_has_them<B>(device) {
        let mut data = values(2 * 3 * 8 * 8, 7, 0.5, 0.5);
        data[10] = f32::NAN;
        data[100] = f32::INFINITY;
        data[300] = f32::NEG_INFINITY;
        let x = Tensor::<B, 4>::from_data(TensorData::new(data, [2, 3, 8, 8]), device);
        let w = positive::<B, 4>([4, 3, 3, 3], 8, device);
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        let ours = kernels::conv2d(x.clone(), w.clone(), None, options.clone());
        let burn = burn::tensor::module::conv2d(x, w, None, options);
        check(ours, burn, sums_of::<B>(27), "non-finite input");
    }
}

backend_test! {
    fn sigmoid_and_exp_kernels_equal_burns_ops<B>(device) {
        type Ad<B> = Autodiff<B>;
        // Large enough for several threads; values from deep in both tails.
        let mut data = values(3 * 129 * 101, 11, 40.0, 0.0);
        data[..5].copy_from_slice(&[f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0]);
        let x = Tensor::<Ad<B>, 3>::from_data(TensorData::new(data, [3, 129, 101]), device);
        let tol = Tolerance::new(1e-7, 1e-6);
        // Transposed: a non-contiguous input.
        for x in [x.clone(), x.swap_dims(0, 2)] {
            let count = x.dims().iter().product();
            let upstream = Tensor::<Ad<B>, 3>::from_data(
                TensorData::new(values(count, 12, 1.0, 0.0), x.dims()),
                device,
            );
            let run = |routed: bool| {
                let x = x.clone().require_grad();
                let y = if routed {
                    kernels::sigmoid(x.clone())
                } else {
                    burn::tensor::activation::sigmoid(x.clone())
                };
                let grads = (y.clone() * upstream.clone()).sum().backward();
                (y.inner(), x.grad(&grads).expect("gradient"))
            };
            let (ours, burn) = (run(true), run(false));
            check(ours.0, burn.0, tol, "sigmoid");
            check(ours.1, burn.1, tol, "sigmoid gradient");
        }
        // exp up to f32's overflow, and its gradient.
        let small = Tensor::<Ad<B>, 2>::from_data(
            TensorData::new(values(64 * 65, 13, 9.0, 0.0), [64, 65]),
            device,
        );
        let run = |routed: bool| {
            let x = small.clone().require_grad();
            let y = if routed { kernels::exp(x.clone()) } else { x.clone().exp() };
            let grads = y.clone().sum().backward();
            (y.inner(), x.grad(&grads).expect("gradient"))
        };
        let (ours, burn) = (run(true), run(false));
        check(ours.0, burn.0, tol, "exp");
        check(ours.1, burn.1, tol, "exp gradient");
        let wide = Tensor::<B, 1>::from_data(
            TensorData::new(vec![f32::NAN, 89.0, -104.0, 88.5, -87.0, 0.0], [6]),
            device,
        );
        check(kernels::exp(wide.clone()), wide.exp(), tol, "exp at f32's limits");
    }
}

backend_test! {
    fn kernels_pass_empty_tensors_through<B>(device) {
        let empty = Tensor::<B, 2>::zeros([0, 3], device);
        assert_eq!(kernels::sigmoid(empty.clone()).dims(), [0, 3]);
        assert_eq!(kernels::exp(empty).dims(), [0, 3]);
    }
}
