//! Burn's pooling layers as blocks: `MaxPool1d/2d`, `AvgPool1d/2d`, `AdaptiveAvgPool1d/2d`,
//! printed as PyTorch prints them, checked before Burn's kernels run. No parameters.

use burn::nn::pool::{
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,
};
use burn::nn::{PaddingConfig1d, PaddingConfig2d};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use burn::tensor::ops::ConvOptions;

use super::check::{self, Window, batched, int_or_tuple, tuple};
use crate::{Activation, BlockError, Forward, impl_block};

/// Per-side padding of a 1-d pool (Burn's `Same` as the kernel's half).
fn pad_1d(padding: &PaddingConfig1d, kernel: usize) -> usize {
    match *padding {
        PaddingConfig1d::Valid => 0,
        PaddingConfig1d::Same => kernel / 2,
        PaddingConfig1d::Explicit(l, r) => l.max(r),
    }
}

/// Per-side padding of a 2-d pool, per spatial dimension.
fn pad_2d(padding: &PaddingConfig2d, kernel: [usize; 2]) -> [usize; 2] {
    match *padding {
        PaddingConfig2d::Valid => [0, 0],
        PaddingConfig2d::Same => [kernel[0] / 2, kernel[1] / 2],
        PaddingConfig2d::Explicit(t, l, b, r) => [t.max(b), l.max(r)],
    }
}

/// Checks `x` (batched, rank `N`) against `windows` over its trailing dimensions and runs
/// `pool`, or returns the zero-size output of a zero-size batch or channel dimension.
fn pooled<B: Backend, const N: usize>(
    x: Tensor<B, N>,
    windows: &[Window],
    pool: impl FnOnce(Tensor<B, N>) -> Tensor<B, N>,
) -> Result<Tensor<B, N>, BlockError> {
    let shape = x.dims();
    let out = check::outputs(&shape, windows)?;
    if shape[0] == 0 || shape[1] == 0 {
        let mut dims = shape;
        dims[N - windows.len()..].copy_from_slice(&out);
        return Ok(check::empty(dims, &x.device()));
    }
    Ok(pool(x))
}

/// `pool(x)` with NaN wherever a window holds a NaN, as PyTorch's max pools give (Burn's CPU
/// and wgpu kernels skip NaNs): the pool of `x`'s NaN mask marks those windows.
fn nan_max<B: Backend, const N: usize>(
    x: Tensor<B, N>,
    pool: impl Fn(Tensor<B, N>) -> Tensor<B, N>,
) -> Tensor<B, N> {
    let nans = pool(crate::tensor::nan_mask(x.clone()).float());
    pool(x).mask_fill(nans.greater_elem(0.0), f32::NAN)
}

/// `MaxPool1d` on `[N, C, L]` (or `[C, L]`).
impl<B: Backend> Forward<B> for MaxPool1d {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let window = Window {
            kernel: self.kernel_size,
            stride: self.stride,
            padding: 2 * pad_1d(&self.padding, self.kernel_size),
            dilation: self.dilation,
        };
        batched::<B, 3>(x, |x| {
            pooled(x, &[window], |x| {
                nan_max(x, |x| MaxPool1d::forward(self, x))
            })
        })
    }

    fn repr(&self) -> String {
        format!(
            "MaxPool1d(kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={})",
            self.kernel_size,
            self.stride,
            pad_1d(&self.padding, self.kernel_size),
            self.dilation,
            if self.ceil_mode { "True" } else { "False" }
        )
    }
}
impl_block!(MaxPool1d);

/// The two windows of a 2-d pool (padding on each side, counted twice).
fn windows_2d(
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
) -> [Window; 2] {
    core::array::from_fn(|i| Window {
        kernel: kernel[i],
        stride: stride[i],
        padding: 2 * padding[i],
        dilation: dilation[i],
    })
}

/// `MaxPool2d` on `[N, C, H, W]` (or `[C, H, W]`).
impl<B: Backend> Forward<B> for MaxPool2d {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let padding = pad_2d(&self.padding, self.kernel_size);
        let windows = windows_2d(self.kernel_size, self.stride, padding, self.dilation);
        batched::<B, 4>(x, |x| {
            pooled(x, &windows, |x| nan_max(x, |x| MaxPool2d::forward(self, x)))
        })
    }

    fn repr(&self) -> String {
        format!(
            "MaxPool2d(kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={})",
            int_or_tuple(&self.kernel_size),
            int_or_tuple(&self.stride),
            int_or_tuple(&pad_2d(&self.padding, self.kernel_size)),
            int_or_tuple(&self.dilation),
            if self.ceil_mode { "True" } else { "False" }
        )
    }
}
impl_block!(MaxPool2d);

/// `AvgPool1d` on `[N, C, L]` (or `[C, L]`).
impl<B: Backend> Forward<B> for AvgPool1d {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let window = Window {
            kernel: self.kernel_size,
            stride: self.stride,
            padding: 2 * pad_1d(&self.padding, self.kernel_size),
            dilation: 1,
        };
        batched::<B, 3>(x, |x| pooled(x, &[window], |x| AvgPool1d::forward(self, x)))
    }

    fn repr(&self) -> String {
        format!(
            "AvgPool1d(kernel_size={}, stride={}, padding={})",
            tuple(&[self.kernel_size]),
            tuple(&[self.stride]),
            tuple(&[pad_1d(&self.padding, self.kernel_size)])
        )
    }
}
impl_block!(AvgPool1d);

/// `AvgPool2d` on `[N, C, H, W]` (or `[C, H, W]`).
impl<B: Backend> Forward<B> for AvgPool2d {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let padding = pad_2d(&self.padding, self.kernel_size);
        let windows = windows_2d(self.kernel_size, self.stride, padding, [1, 1]);
        batched::<B, 4>(x, |x| pooled(x, &windows, |x| avg_pool_2d(self, x)))
    }

    fn repr(&self) -> String {
        format!(
            "AvgPool2d(kernel_size={}, stride={}, padding={})",
            int_or_tuple(&self.kernel_size),
            int_or_tuple(&self.stride),
            int_or_tuple(&pad_2d(&self.padding, self.kernel_size))
        )
    }
}
impl_block!(AvgPool2d);

/// `AvgPool2d` on burn-flex as a depthwise convolution with the constant kernel `1 / (kh·kw)`
/// wherever that is the same average: floor mode, symmetric padding, and the padding counted
/// (or none). burn-flex's average-pool backward is a sequential loop over every plane; the
/// convolution's gradient is the same spread of `grad / (kh·kw)`: LeNet's 2×2/2 pool forward +
/// backward 7.5 → 3.2 ms (`cargo xtask bench ops`). On ndarray the convolution is slower (8.3 →
/// 9.8 ms) and GPUs have a real pool kernel: every other backend runs Burn's pool.
fn avg_pool_2d<B: Backend>(pool: &AvgPool2d, x: Tensor<B, 4>) -> Tensor<B, 4> {
    if !is_flex::<B>(&x.device()) {
        return AvgPool2d::forward(pool, x);
    }
    let padding = match pool.padding {
        PaddingConfig2d::Valid => [0, 0],
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            [top, left]
        }
        _ => return AvgPool2d::forward(pool, x),
    };
    if pool.ceil_mode || (padding != [0, 0] && !pool.count_include_pad) {
        return AvgPool2d::forward(pool, x);
    }
    let channels = x.dims()[1];
    let [kh, kw] = pool.kernel_size;
    let weight = Tensor::full([channels, 1, kh, kw], 1.0 / (kh * kw) as f64, &x.device());
    let options = ConvOptions::new(pool.stride, padding, [1, 1], channels);
    d2l_device::kernels::conv2d(x, weight, None, options)
}

/// Whether `B` is burn-flex, bare or under autodiff, by Burn's own backend name.
fn is_flex<B: Backend>(device: &B::Device) -> bool {
    let name = B::name(device);
    name == "flex" || name.ends_with("<flex>")
}

/// An adaptive pool's window: any input of at least one element per spatial dimension fits.
const ADAPTIVE: Window = Window {
    kernel: 1,
    stride: 1,
    padding: 0,
    dilation: 1,
};

/// `AdaptiveAvgPool1d` on `[N, C, L]` (or `[C, L]`).
impl<B: Backend> Forward<B> for AdaptiveAvgPool1d {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        batched::<B, 3>(x, |x| {
            let [n, c, _] = x.dims();
            pooled(x, &[ADAPTIVE], |x| AdaptiveAvgPool1d::forward(self, x)).map(|y| {
                if n * c == 0 {
                    check::empty([n, c, self.output_size], &y.device())
                } else {
                    y
                }
            })
        })
    }

    fn repr(&self) -> String {
        format!("AdaptiveAvgPool1d(output_size={})", self.output_size)
    }
}
impl_block!(AdaptiveAvgPool1d);

/// `AdaptiveAvgPool2d` on `[N, C, H, W]` (or `[C, H, W]`).
impl<B: Backend> Forward<B> for AdaptiveAvgPool2d {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        batched::<B, 4>(x, |x| {
            let [n, c, _, _] = x.dims();
            let [oh, ow] = self.output_size;
            pooled(x, &[ADAPTIVE, ADAPTIVE], |x| {
                AdaptiveAvgPool2d::forward(self, x)
            })
            .map(|y| {
                if n * c == 0 {
                    check::empty([n, c, oh, ow], &y.device())
                } else {
                    y
                }
            })
        })
    }

    fn repr(&self) -> String {
        format!(
            "AdaptiveAvgPool2d(output_size={})",
            tuple(&self.output_size)
        )
    }
}
impl_block!(AdaptiveAvgPool2d);
