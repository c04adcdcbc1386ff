//! [`CpuKernels`] for burn-flex, the default CPU backend: our kernels on f32 tensors, flex's
//! own ops for every other dtype and case (see each kernel's module).

mod conv;
mod elementwise;
mod im2col;

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::ops::{ActivationOps, ConvOptions, FloatTensorOps, ModuleOps};
use burn::tensor::{DType, Shape, TensorData, TensorMetadata};

use super::CpuKernels;

/// `t`'s elements in order, if it is a contiguous f32 tensor.
fn f32_values(t: &FlexTensor) -> Option<&[f32]> {
    t.as_slice::<f32>()
}

/// A contiguous f32 flex tensor of `shape` holding `values`.
fn from_values(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// `f` elementwise over an f32 tensor: in place where `x` owns its buffer and is contiguous
/// (a producer's temporary, the common case in a forward pass), else into a new tensor.
/// `Err` hands back a tensor of another dtype.
fn unary(
    mut x: FlexTensor,
    f: impl Fn(f32) -> f32 + Copy + Send + Sync,
) -> Result<FlexTensor, FlexTensor> {
    if x.dtype() != DType::F32 {
        return Err(x);
    }
    if let Some((start, end)) = x.layout().contiguous_offsets()
        && let Some(storage) = x.try_storage_mut::<f32>()
    {
        elementwise::map_in_place(&mut storage[start..end], f);
        return Ok(x);
    }
    let shape = x.shape();
    let x = x.to_contiguous();
    match f32_values(&x) {
        Some(values) => Ok(from_values(elementwise::map(values, f), shape)),
        None => Err(x),
    }
}

impl CpuKernels for Flex {
    fn sigmoid(x: FlexTensor) -> FlexTensor {
        unary(x, elementwise::sigmoid).unwrap_or_else(<Flex as ActivationOps<Flex>>::sigmoid)
    }

    fn sigmoid_backward(output: FlexTensor, grad: FlexTensor) -> FlexTensor {
        let same = output.shape() == grad.shape()
            && output.dtype() == DType::F32
            && grad.dtype() == DType::F32;
        if !same {
            return <Flex as ActivationOps<Flex>>::sigmoid_backward(output, grad);
        }
        let output = output.to_contiguous();
        let Some(y) = f32_values(&output) else {
            return <Flex as ActivationOps<Flex>>::sigmoid_backward(output, grad);
        };
        // The incoming gradient is usually a temporary of the backward pass: update it in place.
        let mut grad = grad.to_contiguous();
        if let Some((start, end)) = grad.layout().contiguous_offsets()
            && let Some(storage) = grad.try_storage_mut::<f32>()
        {
            elementwise::zip_in_place(&mut storage[start..end], y, elementwise::sigmoid_grad);
            return grad;
        }
        let mut values = f32_values(&grad).map(<[f32]>::to_vec).unwrap_or_default();
        if values.len() != y.len() {
            return <Flex as ActivationOps<Flex>>::sigmoid_backward(output, grad);
        }
        elementwise::zip_in_place(&mut values, y, elementwise::sigmoid_grad);
        from_values(values, output.shape())
    }

    fn exp(x: FlexTensor) -> FlexTensor {
        unary(x, elementwise::exp).unwrap_or_else(Flex::float_exp)
    }

    fn conv2d(
        x: FlexTensor,
        weight: FlexTensor,
        bias: Option<FlexTensor>,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        conv::conv2d(&x, &weight, bias.as_ref(), &options)
            .unwrap_or_else(|| <Flex as ModuleOps<Flex>>::conv2d(x, weight, bias, options))
    }

    fn conv2d_x_backward(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        conv::x_backward(&x, &weight, &output_grad, &options).unwrap_or_else(|| {
            <Flex as ModuleOps<Flex>>::conv2d_x_backward(x, weight, output_grad, options)
        })
    }

    fn conv2d_bias_backward(
        x: FlexTensor,
        bias: FlexTensor,
        output_grad: FlexTensor,
    ) -> FlexTensor {
        let channels = bias.shape().num_elements();
        let f32_bias = bias.dtype() == DType::F32;
        conv::bias_backward(&output_grad, channels)
            .filter(|_| f32_bias)
            .unwrap_or_else(|| {
                <Flex as ModuleOps<Flex>>::conv2d_bias_backward(x, bias, output_grad)
            })
    }

    fn conv2d_weight_backward(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        conv::weight_backward(&x, &weight, &output_grad, &options).unwrap_or_else(|| {
            <Flex as ModuleOps<Flex>>::conv2d_weight_backward(x, weight, output_grad, options)
        })
    }
}
