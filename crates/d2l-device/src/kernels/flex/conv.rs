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
use rayon::prelude::*;

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
    let o = shape.as_slice()[0];
    let dy = output_columns(output_grad, &g, o, groups)?;
    let cols = columns(x, &g, groups)?;
    // The product's inner dimension is the whole batch's pixels while its outer ones are
    // small (LeNet: 6 × 25 over 200 704), and a GEMM threads over its outer dimensions only:
    // split the batch into `parts` products that run in parallel, then add them — where the
    // outer dimensions are too small to thread over (ResNet's are not: 64 × 576 and up).
    let (og, kg) = (o / groups, g.rows() / groups);
    let parts = if og * kg < SPLIT_BELOW {
        batch_parts(g.input[0])
    } else {
        1
    };
    let chunk = g.columns() / parts;
    let dy = Flex::float_reshape(dy, Shape::new([groups, og, parts, chunk]));
    let dy = Flex::float_permute(dy, &[0, 2, 1, 3]);
    let cols = Flex::float_reshape(cols, Shape::new([groups, kg, parts, chunk]));
    let cols_t = Flex::float_permute(cols, &[0, 2, 3, 1]);
    let partial = Flex::float_matmul(dy, cols_t);
    let dw = if parts > 1 {
        Flex::float_sum_dim(partial, 1)
    } else {
        partial
    };
    Some(Flex::float_reshape(dw, shape))
}

/// Weight gradients with fewer elements per group than this split the batch.
const SPLIT_BELOW: usize = 1 << 13;

/// How many parallel products the weight gradient's batch splits into: a divisor of the batch
/// size, about twice the threads (flex threads a batched GEMM over its batch from 4 on).
fn batch_parts(batch: usize) -> usize {
    let target = (2 * rayon::current_num_threads()).max(4);
    (1..=batch.min(target))
        .rev()
        .find(|p| batch % p == 0)
        .unwrap_or(1)
}

/// The bias gradient `[O]`: the output gradient summed over the batch and pixels (each image's
/// channel in f32, the batch in f64).
pub(super) fn bias_backward(output_grad: &FlexTensor, o: usize) -> Option<FlexTensor> {
    let [n, channels, h, w] = dims4(&output_grad.shape())?;
    if channels != o {
        return None;
    }
    let grad = contiguous(output_grad)?;
    let dy = f32_values(&grad)?;
    let pixels = h * w;
    let sums = (0..o)
        .into_par_iter()
        .map(|channel| {
            let sum: f64 = (0..n)
                .map(|image| {
                    let plane = &dy[(image * o + channel) * pixels..][..pixels];
                    f64::from(plane.iter().sum::<f32>())
                })
                .sum();
            sum as f32
        })
        .collect();
    Some(from_values(sums, Shape::new([o])))
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
