//! PyTorch-style printing of tensors, so examples print what the book prints.

use burn::tensor::Tensor;
pub use d2l_blocks::{format_data, size_suffix};
use d2l_device::{DeviceSpec, backend::DeviceBackend, device_name};

/// Formats a float tensor the way PyTorch's `repr` does: `tensor([[1., 2.],\n        [3., 4.]])`,
/// with `, device='cuda:0'` appended when the tensor is not on the CPU.
///
/// Integer-valued tensors print as `1.`; others with four decimals (`0.7802`), right-aligned
/// to a common width.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
///
/// let x = Tensor::<NdArray, 2>::from_floats([[1.0, -2.0], [3.0, 4.0]], &Default::default());
/// assert_eq!(d2l::print::torch_repr(&x), "tensor([[ 1., -2.],\n        [ 3.,  4.]])");
/// let y = Tensor::<NdArray, 1>::from_floats([0.5, 0.25], &Default::default());
/// assert_eq!(d2l::print::torch_repr(&y), "tensor([0.5000, 0.2500])");
/// let empty = Tensor::<NdArray, 2>::zeros([2, 0], &Default::default());
/// assert_eq!(d2l::print::torch_repr(&empty), "tensor([], size=(2, 0))");
/// ```
pub fn torch_repr<B: DeviceBackend, const D: usize>(tensor: &Tensor<B, D>) -> String {
    let device = device_name::<B>(&tensor.device());
    let data = tensor.to_data();
    let body = format_data(&data, "tensor(".len());
    let size = size_suffix(&data.shape);
    match device {
        DeviceSpec::Cpu => format!("tensor({body}{size})"),
        other => format!("tensor({body}{size}, device='{other}')"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    #[test]
    fn formats_like_pytorch() {
        let data = TensorData::new(vec![1.0f32; 6], [2, 3]);
        assert_eq!(
            format_data(&data, 7),
            "[[1., 1., 1.],\n        [1., 1., 1.]]"
        );
        let data = TensorData::new(vec![0.7802f32, -0.25], [2, 1]);
        assert_eq!(format_data(&data, 7), "[[ 0.7802],\n        [-0.2500]]");
        let data = TensorData::new((0..8).map(|v| v as f32).collect::<Vec<_>>(), [2, 2, 2]);
        assert_eq!(
            format_data(&data, 7),
            "[[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]]"
        );
        let data = TensorData::new(vec![3.0f32], [1]);
        assert_eq!(format_data(&data, 7), "[3.]");
    }
}
