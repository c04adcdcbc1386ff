//! The checks every spatial block runs before Burn's kernels (which assert on bad input):
//! batch dimension, channels, device, size against the kernel; and PyTorch's printing of
//! sizes.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::{Activation, BlockError};

/// Runs `f` on `x` as a batched rank-`N` tensor: a rank-`N` input as it is, a rank-`N - 1`
/// input as one unbatched sample (PyTorch's `Conv2d` on `[C, H, W]`), whose output loses the
/// batch dimension again.
///
/// # Errors
/// [`BlockError::Rank`] for any other rank; `f`'s error.
pub(crate) fn batched<B: Backend, const N: usize>(
    x: Activation<B>,
    f: impl FnOnce(Tensor<B, N>) -> Result<Tensor<B, N>, BlockError>,
) -> Result<Activation<B>, BlockError> {
    let rank = x.rank();
    if rank == N {
        return f(x.into_tensor::<N>()?).map(Activation::from);
    }
    if rank + 1 == N {
        let shape = x.shape();
        let mut batched = vec![1];
        batched.extend(&shape);
        let x =
            Tensor::<B, N>::from_primitive(crate::tensor::reshape(x.into_primitive(), &batched));
        let y = f(x)?;
        let out: Vec<usize> = y.dims()[1..].to_vec();
        return Ok(Activation::from_primitive(crate::tensor::reshape(
            y.into_primitive(),
            &out,
        )));
    }
    Err(BlockError::Rank {
        path: String::new(),
        expected: N,
        actual: x.shape(),
    })
}

/// Checks that `x` has `expected` channels (dimension 1).
pub(crate) fn channels(expected: usize, shape: &[usize]) -> Result<(), BlockError> {
    if shape.get(1) == Some(&expected) {
        Ok(())
    } else {
        Err(BlockError::Channels {
            path: String::new(),
            expected,
            actual: shape.to_vec(),
        })
    }
}

/// Checks that `x` is on the parameters' device.
pub(crate) fn device<B: Backend>(params: &B::Device, x: &B::Device) -> Result<(), BlockError> {
    if params == x {
        Ok(())
    } else {
        Err(BlockError::Device {
            path: String::new(),
            expected: format!("{params:?}"),
            actual: format!("{x:?}"),
        })
    }
}

/// One spatial dimension of a sliding window: kernel, stride, padding (total of both sides),
/// dilation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
    pub dilation: usize,
}

impl Window {
    /// The extent of the dilated kernel.
    fn extent(&self) -> usize {
        self.dilation * (self.kernel.saturating_sub(1)) + 1
    }

    /// The output size for an input of size `len`, if the window fits (PyTorch's floor rule).
    pub fn output(&self, len: usize) -> Option<usize> {
        let padded = len + self.padding;
        (padded >= self.extent() && self.stride > 0)
            .then(|| (padded - self.extent()) / self.stride + 1)
    }
}

/// The output sizes of `windows` over the trailing dimensions of `shape`, or
/// [`BlockError::TooSmall`].
pub(crate) fn outputs(shape: &[usize], windows: &[Window]) -> Result<Vec<usize>, BlockError> {
    let spatial = &shape[shape.len() - windows.len()..];
    spatial
        .iter()
        .zip(windows)
        .map(|(&len, w)| w.output(len))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| BlockError::TooSmall {
            path: String::new(),
            kernel: windows.iter().map(Window::extent).collect(),
            padding: windows.iter().map(|w| w.padding / 2).collect(),
            actual: shape.to_vec(),
        })
}

/// A tensor of `shape` with no elements (a zero-size batch), without running a kernel.
pub(crate) fn empty<B: Backend, const N: usize>(
    shape: [usize; N],
    device: &B::Device,
) -> Tensor<B, N> {
    Tensor::from_data(TensorData::new(Vec::<f32>::new(), shape), device)
}

/// PyTorch's printing of a size tuple: `(3,)`, `(3, 3)`.
pub fn tuple(values: &[usize]) -> String {
    match values {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            values
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// PyTorch's printing of a size given as an int when all its values agree: `3` or `(3, 2)`.
pub(crate) fn int_or_tuple(values: &[usize]) -> String {
    match values {
        [first, rest @ ..] if rest.iter().all(|v| v == first) => first.to_string(),
        _ => tuple(values),
    }
}

/// Python's `repr` of a float: `1e-05`, `0.1`, `1.0`.
pub fn py_float(value: f64) -> String {
    if value != 0.0 && (value.abs() < 1e-4 || value.abs() >= 1e16) {
        let s = format!("{value:e}");
        match s.split_once('e') {
            Some((mantissa, exp)) => {
                let (sign, digits) = exp.strip_prefix('-').map_or(("+", exp), |d| ("-", d));
                format!("{mantissa}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else if value.fract() == 0.0 && value.abs() < 1e16 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_does() {
        assert_eq!(py_float(1e-5), "1e-05");
        assert_eq!(py_float(0.1), "0.1");
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(0.2), "0.2");
        assert_eq!(py_float(1e-3), "0.001");
    }

    #[test]
    fn sizes_print_as_pytorch_does() {
        assert_eq!(tuple(&[3]), "(3,)");
        assert_eq!(tuple(&[3, 2]), "(3, 2)");
        assert_eq!(int_or_tuple(&[2, 2]), "2");
        assert_eq!(int_or_tuple(&[3, 2]), "(3, 2)");
    }

    #[test]
    fn windows_follow_the_floor_rule() {
        let w = Window {
            kernel: 3,
            stride: 2,
            padding: 2,
            dilation: 1,
        };
        assert_eq!(w.output(7), Some(4));
        let w = Window {
            kernel: 5,
            stride: 1,
            padding: 0,
            dilation: 1,
        };
        assert_eq!(w.output(4), None);
    }
}
