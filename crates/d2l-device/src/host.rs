//! Reading a tensor's values where a CPU backend keeps them, without a copy.
//!
//! Burn reads a tensor back with `into_data`, which copies whatever the tensor shares with its
//! owner (a model's parameter always is shared): for a 420 MB state dict that is 420 MB of
//! fresh memory, whose page faults cost more than the copy. The CPU backends keep the values
//! in host memory, row-major, behind the tensor primitive; [`host_bytes`] borrows them there.

use burn::tensor::backend::Backend;

/// The bytes of a float tensor, borrowed where its backend keeps them in host memory,
/// contiguous and row-major from the start of the buffer: flex and ndarray (`f32`, `f64`), with
/// or without `Autodiff`, where this crate's feature for them is on. `None` for any other
/// backend or layout (a transposed or sliced view): read it with `into_data` then.
///
/// The borrow lasts as long as `tensor`: the backends never write into a buffer that another
/// handle shares, so the bytes cannot change under it.
///
/// ```
/// use burn::tensor::{Tensor, TensorPrimitive};
/// # #[cfg(feature = "flex")] {
/// use burn::backend::Flex;
///
/// let t = Tensor::<Flex, 2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &Default::default());
/// let TensorPrimitive::Float(primitive) = t.clone().into_primitive() else { unreachable!() };
/// let bytes = d2l_device::host::host_bytes::<Flex>(&primitive).expect("flex keeps it on the host");
/// assert_eq!(bytes, t.into_data().as_bytes());
/// # }
/// ```
pub fn host_bytes<B: Backend>(tensor: &B::FloatTensorPrimitive) -> Option<&[u8]> {
    #[cfg_attr(
        not(any(feature = "flex", feature = "ndarray")),
        allow(unused_variables)
    )]
    let tensor: &dyn std::any::Any = tensor;
    #[cfg(feature = "flex")]
    {
        use burn::backend::{Autodiff, Flex};
        use burn::tensor::ops::FloatTensor;
        if let Some(t) = tensor.downcast_ref::<FloatTensor<Flex>>() {
            return flex(t);
        }
        if let Some(t) = tensor.downcast_ref::<FloatTensor<Autodiff<Flex>>>() {
            return flex(&t.primitive);
        }
    }
    #[cfg(feature = "ndarray")]
    {
        use burn::backend::{Autodiff, NdArray};
        use burn::tensor::ops::FloatTensor;
        if let Some(t) = tensor.downcast_ref::<FloatTensor<NdArray>>() {
            return ndarray(t);
        }
        if let Some(t) = tensor.downcast_ref::<FloatTensor<Autodiff<NdArray>>>() {
            return ndarray(&t.primitive);
        }
    }
    None
}

/// A flex tensor's bytes, if it is contiguous from the start of its buffer.
#[cfg(feature = "flex")]
fn flex(tensor: &burn::backend::flex::FlexTensor) -> Option<&[u8]> {
    let layout = tensor.layout();
    let len = layout.num_elements().checked_mul(tensor.dtype().size())?;
    if tensor.is_contiguous() && layout.start_offset() == 0 {
        tensor.bytes().get(..len)
    } else {
        None
    }
}

/// An ndarray tensor's bytes, if it holds floats in the standard (row-major) layout.
#[cfg(feature = "ndarray")]
fn ndarray(tensor: &burn::backend::ndarray::NdArrayTensor) -> Option<&[u8]> {
    use burn::backend::ndarray::NdArrayTensor;
    match tensor {
        NdArrayTensor::F32(storage) => storage.view().to_slice().map(bytemuck::cast_slice),
        NdArrayTensor::F64(storage) => storage.view().to_slice().map(bytemuck::cast_slice),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Tensor, TensorPrimitive};

    use super::host_bytes;

    /// The float primitive of `t`.
    fn primitive<B: burn::tensor::backend::Backend, const D: usize>(
        t: &Tensor<B, D>,
    ) -> B::FloatTensorPrimitive {
        match t.clone().into_primitive() {
            TensorPrimitive::Float(p) => p,
            TensorPrimitive::QFloat(_) => panic!("not quantized"),
        }
    }

    /// Borrowed bytes equal `into_data`'s; a transposed view has none.
    fn check<B: burn::tensor::backend::Backend>() {
        let device = Default::default();
        let t = Tensor::<B, 2>::from_floats([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], &device);
        let p = primitive(&t);
        let bytes = host_bytes::<B>(&p).expect("on the host");
        assert_eq!(bytes, t.to_data().as_bytes());
        assert_eq!(bytes.len(), 6 * 4);
        let moved = t.clone().swap_dims(0, 1);
        let moved_primitive = primitive(&moved);
        // A transposed view is not row-major: refused (its `into_data` is [1, 4, 2, 5, 3, 6]).
        assert_eq!(host_bytes::<B>(&moved_primitive), None);
    }

    #[cfg(feature = "flex")]
    #[test]
    fn flex_bytes_are_read_in_place() {
        check::<burn::backend::Flex>();
        check::<burn::backend::Autodiff<burn::backend::Flex>>();
    }

    #[cfg(feature = "ndarray")]
    #[test]
    fn ndarray_bytes_are_read_in_place() {
        check::<burn::backend::NdArray>();
        check::<burn::backend::Autodiff<burn::backend::NdArray>>();
    }
}
