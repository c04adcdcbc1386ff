//! 2-D convolution on flex as one batched GEMM per pass (batched over groups), with flex's own
//! strided, threaded `matmul` — a well-shaped product per pass instead of flex's per-image
//! GEMMs (forward) and Burn's default backward (a convolution with batch and channels swapped
//! for the weight, a transposed convolution with a sequential batch loop for the input):
//!
//! - forward: `Y[g] = W[g] · cols[g]`, `[O/G, K/G] · [K/G, N·L]`, then bias;
//! - weight gradient: `dW[g] = dY[g] · cols[g]ᵀ`, the whole batch in the inner dimension;
//! - input gradient: `dcols[g] = W[g]ᵀ · dY[g]`, then `col2im`.
//!
//! Each returns `None` where the kernels do not apply (another dtype, an empty dimension, an
//! invalid geometry, a column matrix over budget): the caller then runs Burn's op.

use burn::backend::Flex;
use burn::backend::flex::FlexTensor;
use burn::tensor::ops::{ConvOptions, FloatTensorOps};
use burn::tensor::{Shape, TensorMetadata};

use super::im2col::{Geometry, batch_to_columns, col2im, columns_to_batch, im2col};
use super::{f32_values, from_values};

/// The column matrix stays under 1 GiB; larger problems run Burn's (tiled) op.
const MAX_COLUMN_ELEMENTS: usize = 1 << 28;

/// The geometry of a convolution of `x` by `weight`, if our kernels handle it.
fn geometry(x: &FlexTensor, weight: &FlexTensor, options: &ConvOptions<2>) -> Option<Geometry> {
    let [n, c, h, w] = dims4(&x.shape())?;
    let [o, cg, kh, kw] = dims4(&weight.shape())?;
    let groups = options.groups;
    if [n, c, h, w, o, cg, kh, kw, groups].contains(&0) || cg * groups != c || o % groups != 0 {
        return None;
    }
    if options.stride.contains(&0) || options.dilation.contains(&0) {
        return None;
    }
    let out = |axis: usize, size: usize, k: usize| {
        let span = options.dilation[axis] * (k - 1) + 1;
        let padded = size + 2 * options.padding[axis];
        (padded >= span).then(|| (padded - span) / options.stride[axis] + 1)
    };
    let g = Geometry {
        input: [n, c, h, w],
        kernel: [kh, kw],
        output: [out(0, h, kh)?, out(1, w, kw)?],
        stride: options.stride,
        padding: options.padding,
        dilation: options.dilation,
    };
    (g.rows().checked_mul(g.columns())? <= MAX_COLUMN_ELEMENTS).then_some(g)
}

fn dims4(shape: &Shape) -> Option<[usize; 4]> {
    shape.as_slice().try_into().ok()
}

/// `t` as a contiguous f32 tensor, if it is f32.
fn contiguous(t: &FlexTensor) -> Option<FlexTensor> {
    let t = t.to_contiguous();
    f32_values(&t).is_some().then_some(t)
}

/// The column matrix of `x` as a `[G, K/G, N·L]` tensor.
fn columns(x: &FlexTensor, g: &Geometry, groups: usize) -> Option<FlexTensor> {
    let x = contiguous(x)?;
    let cols = im2col(f32_values(&x)?, g);
    Some(from_values(
        cols,
        Shape::new([groups, g.rows() / groups, g.columns()]),
    ))
}

/// The output gradient `[N, O, Ho, Wo]` as a `[G, O/G, N·L]` tensor.
fn output_columns(grad: &FlexTensor, g: &Geometry, o: usize, groups: usize) -> Option<FlexTensor> {
    if dims4(&grad.shape())? != [g.input[0], o, g.output[0], g.output[1]] {
        return None;
    }
    let grad = contiguous(grad)?;
    let dy = batch_to_columns(f32_values(&grad)?, [g.input[0], o, g.pixels()]);
    Some(from_values(
        dy,
        Shape::new([groups, o / groups, g.columns()]),
    ))
}

/// `weight` `[O, C/G, kh, kw]` as `[G, O/G, K/G]`.
fn weight_matrix(weight: &FlexTensor, groups: usize) -> Option<FlexTensor> {
    let [o, cg, kh, kw] = dims4(&weight.shape())?;
    let weight = contiguous(weight)?;
    Some(Flex::float_reshape(
        weight,
        Shape::new([groups, o / groups, cg * kh * kw]),
    ))
}

/// Forward.
pub(super) fn conv2d(
    x: &FlexTensor,
    weight: &FlexTensor,
    bias: Option<&FlexTensor>,
    options: &ConvOptions<2>,
) -> Option<FlexTensor> {
    let g = geometry(x, weight, options)?;
    let groups = options.groups;
    let o = weight.shape().as_slice()[0];
    let bias = match bias {
        Some(b) if b.shape().as_slice() != [o] => return None,
        Some(b) => Some(contiguous(b)?),
        None => None,
    };
    let y = Flex::float_matmul(weight_matrix(weight, groups)?, columns(x, &g, groups)?);
    let y = contiguous(&y)?;
    let bias = match &bias {
        Some(b) => Some(f32_values(b)?),
        None => None,
    };
    let n = g.input[0];
    let out = columns_to_batch(f32_values(&y)?, [n, o, g.pixels()], bias);
    Some(from_values(
        out,
        Shape::new([n, o, g.output[0], g.output[1]]),
    ))
}

/// The weight gradient `[O, C/G, kh, kw]`.
pub(super) fn weight_backward(
    x: &FlexTensor,
    weight: &FlexTensor,
    output_grad: &FlexTensor,
    options: &ConvOptions<2>,
) -> Option<FlexTensor> {
    let g = geometry(x, weight, options)?;
    let groups = options.groups;
    let shape = weight.shape();
    let dy = output_columns(output_grad, &g, shape.as_slice()[0], groups)?;
    let cols_t = Flex::float_swap_dims(columns(x, &g, groups)?, 1, 2);
    let dw = Flex::float_matmul(dy, cols_t);
    Some(Flex::float_reshape(dw, shape))
}

/// The input gradient `[N, C, H, W]`.
pub(super) fn x_backward(
    x: &FlexTensor,
    weight: &FlexTensor,
    output_grad: &FlexTensor,
    options: &ConvOptions<2>,
) -> Option<FlexTensor> {
    let g = geometry(x, weight, options)?;
    let groups = options.groups;
    let dy = output_columns(output_grad, &g, weight.shape().as_slice()[0], groups)?;
    let w_t = Flex::float_swap_dims(weight_matrix(weight, groups)?, 1, 2);
    let dcols = contiguous(&Flex::float_matmul(w_t, dy))?;
    let dx = col2im(f32_values(&dcols)?, &g);
    Some(from_values(dx, Shape::new(g.input)))
}
