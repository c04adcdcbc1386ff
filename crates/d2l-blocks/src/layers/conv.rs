//! Burn's convolutions as blocks: `Conv1d`, `Conv2d`, `ConvTranspose2d`, printed as PyTorch
//! prints them, checked before Burn's kernels run.
//!
//! Their weights are PyTorch's layout already (`[out, in / groups, k…]`, transposed
//! convolutions `[in, out / groups, k…]`), so keys and shapes need no conversion. An unbatched
//! input (`[C, H, W]`) works as in PyTorch; a zero-size batch gives a zero-size output.

use burn::nn::conv::{Conv1d, Conv2d, ConvTranspose2d};
use burn::nn::{PaddingConfig1d, PaddingConfig2d};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use burn::tensor::ops::ConvOptions;

use super::check::{self, Window, batched, tuple};
use crate::{Activation, BlockError, Forward, impl_block};

/// PyTorch's printout of a convolution (`Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1),
/// padding=(2, 2))`): what differs from the defaults, in PyTorch's order. Lazy convolutions
/// print through it too (`LazyConv2d(0, …)`).
#[derive(Debug, Clone)]
pub struct ConvRepr<'a> {
    /// The class name (`Conv2d`).
    pub name: &'a str,
    /// Input and output channels.
    pub channels: [usize; 2],
    /// Kernel size per spatial dimension.
    pub kernel: &'a [usize],
    /// Stride per spatial dimension.
    pub stride: &'a [usize],
    /// The padding as printed (`(2, 2)`, `same`), `None` for none.
    pub padding: Option<String>,
    /// Dilation per spatial dimension.
    pub dilation: &'a [usize],
    /// Output padding (transposed convolutions), empty otherwise.
    pub output_padding: &'a [usize],
    /// Groups.
    pub groups: usize,
    /// Whether there is a bias.
    pub bias: bool,
}

impl ConvRepr<'_> {
    /// The printout.
    pub fn render(&self) -> String {
        let [c_in, c_out] = self.channels;
        let mut s = format!(
            "{}({c_in}, {c_out}, kernel_size={}, stride={}",
            self.name,
            tuple(self.kernel),
            tuple(self.stride)
        );
        if let Some(padding) = &self.padding {
            s += &format!(", padding={padding}");
        }
        if self.dilation.iter().any(|&d| d != 1) {
            s += &format!(", dilation={}", tuple(self.dilation));
        }
        if self.output_padding.iter().any(|&p| p != 0) {
            s += &format!(", output_padding={}", tuple(self.output_padding));
        }
        if self.groups != 1 {
            s += &format!(", groups={}", self.groups);
        }
        if !self.bias {
            s += ", bias=False";
        }
        s + ")"
    }
}

/// Burn's 1-d padding as PyTorch prints it (`None`: no padding; `(l, r)` when asymmetric), and
/// its total over both sides.
pub fn padding_1d(
    padding: &PaddingConfig1d,
    kernel: usize,
    dilation: usize,
) -> (Option<String>, usize) {
    match *padding {
        PaddingConfig1d::Valid | PaddingConfig1d::Explicit(0, 0) => (None, 0),
        PaddingConfig1d::Same => (Some("same".into()), dilation * (kernel - 1)),
        PaddingConfig1d::Explicit(l, r) if l == r => (Some(tuple(&[l])), l + r),
        PaddingConfig1d::Explicit(l, r) => (Some(tuple(&[l, r])), l + r),
    }
}

/// Burn's 2-d padding as PyTorch prints it (`None`: no padding; `(t, l, b, r)` when
/// asymmetric), and its total per spatial dimension.
pub fn padding_2d(
    padding: &PaddingConfig2d,
    kernel: [usize; 2],
    dilation: [usize; 2],
) -> (Option<String>, [usize; 2]) {
    match *padding {
        PaddingConfig2d::Valid | PaddingConfig2d::Explicit(0, 0, 0, 0) => (None, [0, 0]),
        PaddingConfig2d::Same => (
            Some("same".into()),
            [dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1)],
        ),
        PaddingConfig2d::Explicit(t, l, b, r) if t == b && l == r => {
            (Some(tuple(&[t, l])), [t + b, l + r])
        }
        PaddingConfig2d::Explicit(t, l, b, r) => (Some(tuple(&[t, l, b, r])), [t + b, l + r]),
    }
}

/// `Conv1d` on `[N, C, L]` (or `[C, L]`).
impl<B: Backend> Forward<B> for Conv1d<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        batched::<B, 3>(x, |x| {
            let [c_out, c_in, kernel] = self.weight.dims();
            let shape = x.dims();
            check::channels(c_in * self.groups, &shape)?;
            check::device::<B>(&self.weight.device(), &x.device())?;
            let (_, padding) = padding_1d(&self.padding, kernel, self.dilation);
            let window = Window {
                kernel,
                stride: self.stride,
                padding,
                dilation: self.dilation,
            };
            let out = check::outputs(&shape, &[window])?;
            if shape[0] == 0 {
                return Ok(check::empty([0, c_out, out[0]], &x.device()));
            }
            Ok(Conv1d::forward(self, x))
        })
    }

    fn repr(&self) -> String {
        let [c_out, c_in, kernel] = self.weight.dims();
        ConvRepr {
            name: "Conv1d",
            channels: [c_in * self.groups, c_out],
            kernel: &[kernel],
            stride: &[self.stride],
            padding: padding_1d(&self.padding, kernel, self.dilation).0,
            dilation: &[self.dilation],
            output_padding: &[],
            groups: self.groups,
            bias: self.bias.is_some(),
        }
        .render()
    }
}
impl_block!(Conv1d<B>);

/// `Conv2d` on `[N, C, H, W]` (or `[C, H, W]`).
impl<B: Backend> Forward<B> for Conv2d<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        batched::<B, 4>(x, |x| {
            let [c_out, c_in, kh, kw] = self.weight.dims();
            let shape = x.dims();
            check::channels(c_in * self.groups, &shape)?;
            check::device::<B>(&self.weight.device(), &x.device())?;
            let (_, padding) = padding_2d(&self.padding, [kh, kw], self.dilation);
            let windows: [Window; 2] = core::array::from_fn(|i| Window {
                kernel: [kh, kw][i],
                stride: self.stride[i],
                padding: padding[i],
                dilation: self.dilation[i],
            });
            let out = check::outputs(&shape, &windows)?;
            if shape[0] == 0 {
                return Ok(check::empty([0, c_out, out[0], out[1]], &x.device()));
            }
            Ok(conv2d(self, x))
        })
    }

    fn repr(&self) -> String {
        let [c_out, c_in, kh, kw] = self.weight.dims();
        ConvRepr {
            name: "Conv2d",
            channels: [c_in * self.groups, c_out],
            kernel: &[kh, kw],
            stride: &self.stride,
            padding: padding_2d(&self.padding, [kh, kw], self.dilation).0,
            dilation: &self.dilation,
            output_padding: &[],
            groups: self.groups,
            bias: self.bias.is_some(),
        }
        .render()
    }
}
impl_block!(Conv2d<B>);

/// `conv`'s forward: through `d2l_device::kernels` (flex's GEMM kernels) where the padding
/// is the same on both sides, as in every PyTorch `Conv2d`; Burn's forward otherwise.
fn conv2d<B: Backend>(conv: &Conv2d<B>, x: Tensor<B, 4>) -> Tensor<B, 4> {
    let padding = match conv.padding {
        PaddingConfig2d::Valid => Some([0, 0]),
        PaddingConfig2d::Explicit(top, left, bottom, right) => {
            (top == bottom && left == right).then_some([top, left])
        }
        // PyTorch's 'same' (stride 1): symmetric when the kernel's span is odd.
        PaddingConfig2d::Same => {
            let span = |i: usize| conv.dilation[i] * conv.kernel_size[i].saturating_sub(1);
            let even = span(0) % 2 == 0 && span(1) % 2 == 0;
            (conv.stride == [1, 1] && even).then(|| [span(0) / 2, span(1) / 2])
        }
    };
    let Some(padding) = padding else {
        return Conv2d::forward(conv, x);
    };
    let options = ConvOptions::new(conv.stride, padding, conv.dilation, conv.groups);
    let bias = conv.bias.as_ref().map(|b| b.val());
    d2l_device::kernels::conv2d(x, conv.weight.val(), bias, options)
}

/// `ConvTranspose2d` on `[N, C, H, W]` (or `[C, H, W]`).
impl<B: Backend> Forward<B> for ConvTranspose2d<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        batched::<B, 4>(x, |x: Tensor<B, 4>| {
            let [c_in, c_out, kh, kw] = self.weight.dims();
            let shape = x.dims();
            check::channels(c_in, &shape)?;
            check::device::<B>(&self.weight.device(), &x.device())?;
            // (L - 1)·s - 2p + d(k - 1) + output_padding + 1 must be at least 1.
            let out: Vec<Option<usize>> = (0..2)
                .map(|i| {
                    let full = (shape[2 + i].max(1) - 1) * self.stride[i]
                        + self.dilation[i] * ([kh, kw][i] - 1)
                        + self.padding_out[i]
                        + 1;
                    full.checked_sub(2 * self.padding[i])
                        .filter(|&o| o > 0 && shape[2 + i] > 0)
                })
                .collect();
            let (Some(oh), Some(ow)) = (out[0], out[1]) else {
                return Err(BlockError::TooSmall {
                    path: String::new(),
                    kernel: vec![kh, kw],
                    padding: self.padding.to_vec(),
                    actual: shape.to_vec(),
                });
            };
            if shape[0] == 0 {
                return Ok(check::empty([0, c_out * self.groups, oh, ow], &x.device()));
            }
            Ok(ConvTranspose2d::forward(self, x))
        })
    }

    fn repr(&self) -> String {
        let [c_in, c_out, kh, kw] = self.weight.dims();
        let padding = self
            .padding
            .iter()
            .any(|&p| p != 0)
            .then(|| tuple(&self.padding));
        ConvRepr {
            name: "ConvTranspose2d",
            channels: [c_in, c_out * self.groups],
            kernel: &[kh, kw],
            stride: &self.stride,
            padding,
            dilation: &self.dilation,
            output_padding: &self.padding_out,
            groups: self.groups,
            bias: self.bias.is_some(),
        }
        .render()
    }
}
impl_block!(ConvTranspose2d<B>);
