//! The convolution's data movement, threaded: image patches to GEMM columns (`im2col`), the
//! columns' gradient back to images (`col2im`), and the two batch/channel transposes.
//!
//! The column matrix is `[C·kh·kw, N·Ho·Wo]`: one row per (channel, kernel tap), one column
//! per output pixel of every image. Rows are ordered by channel, so the rows of group `g` are
//! the contiguous block `g·(C/G)·kh·kw ..`, and a batched GEMM over groups needs no copy.

use rayon::prelude::*;

/// A 2-D convolution's sizes, all checked non-zero and consistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Geometry {
    /// Batch, channels in, height, width of the input.
    pub(super) input: [usize; 4],
    /// Kernel height and width.
    pub(super) kernel: [usize; 2],
    /// Output height and width.
    pub(super) output: [usize; 2],
    pub(super) stride: [usize; 2],
    pub(super) padding: [usize; 2],
    pub(super) dilation: [usize; 2],
}

impl Geometry {
    /// Output pixels per image.
    pub(super) fn pixels(&self) -> usize {
        self.output[0] * self.output[1]
    }

    /// Columns of the column matrix: output pixels of the whole batch.
    pub(super) fn columns(&self) -> usize {
        self.input[0] * self.pixels()
    }

    /// Rows of the column matrix: (channel, kernel tap) pairs.
    pub(super) fn rows(&self) -> usize {
        self.input[1] * self.kernel[0] * self.kernel[1]
    }

    /// For kernel tap `tap` along axis `axis`: the output positions whose input position
    /// `o·stride + offset` is inside the image, and `offset` (negative inside the padding).
    fn valid(&self, axis: usize, tap: usize) -> (std::ops::Range<usize>, isize) {
        let size = self.input[2 + axis] as isize;
        let stride = self.stride[axis] as isize;
        let offset = (tap * self.dilation[axis]) as isize - self.padding[axis] as isize;
        // First o with o·stride + offset ≥ 0, first o with o·stride + offset ≥ size.
        let first = |bound: isize| {
            let need = bound - offset;
            if need <= 0 {
                0
            } else {
                ((need + stride - 1) / stride) as usize
            }
        };
        let end = first(size).min(self.output[axis]);
        (first(0).min(end)..end, offset)
    }

    /// The input position of output position `o` along `axis` (inside the image: `o` is in
    /// the range [`Geometry::valid`] returned).
    #[inline(always)]
    fn source(&self, axis: usize, o: usize, offset: isize) -> usize {
        ((o * self.stride[axis]) as isize + offset) as usize
    }
}

/// The column matrix `[C·kh·kw, N·Ho·Wo]` of `x` (`[N, C, H, W]`, contiguous); padding reads
/// as zero.
pub(super) fn im2col(x: &[f32], g: &Geometry) -> Vec<f32> {
    let [n, c, h, w] = g.input;
    let [kh, kw] = g.kernel;
    let wo = g.output[1];
    let (pixels, columns) = (g.pixels(), g.columns());
    let mut cols = vec![0.0; g.rows() * columns];
    cols.par_chunks_mut(columns)
        .enumerate()
        .for_each(|(row, out)| {
            let (channel, i, j) = (row / (kh * kw), (row / kw) % kh, row % kw);
            let (rows_ok, row_offset) = g.valid(0, i);
            let (cols_ok, col_offset) = g.valid(1, j);
            if cols_ok.is_empty() {
                return; // this tap only ever reads padding: the row stays zero
            }
            let (first, len) = (cols_ok.start, cols_ok.len());
            let src_first = g.source(1, first, col_offset);
            for image in 0..n {
                let plane = &x[(image * c + channel) * h * w..][..h * w];
                let out = &mut out[image * pixels..][..pixels];
                for oh in rows_ok.clone() {
                    let src = &plane[g.source(0, oh, row_offset) * w..][..w];
                    let dst = &mut out[oh * wo..][..wo];
                    if g.stride[1] == 1 {
                        dst[first..first + len].copy_from_slice(&src[src_first..src_first + len]);
                    } else {
                        for (k, d) in dst[first..first + len].iter_mut().enumerate() {
                            *d = src[src_first + k * g.stride[1]];
                        }
                    }
                }
            }
        });
    cols
}

/// The input gradient `[N, C, H, W]` from the column matrix's gradient (`im2col`'s adjoint):
/// every column entry added back to the input pixel it was copied from.
pub(super) fn col2im(dcols: &[f32], g: &Geometry) -> Vec<f32> {
    let [_, c, h, w] = g.input;
    let [kh, kw] = g.kernel;
    let wo = g.output[1];
    let (pixels, columns) = (g.pixels(), g.columns());
    let mut dx = vec![0.0; g.input.iter().product()];
    dx.par_chunks_mut(h * w)
        .enumerate()
        .for_each(|(plane_index, plane)| {
            let (image, channel) = (plane_index / c, plane_index % c);
            for i in 0..kh {
                let (rows_ok, row_offset) = g.valid(0, i);
                for j in 0..kw {
                    let (cols_ok, col_offset) = g.valid(1, j);
                    if cols_ok.is_empty() {
                        continue;
                    }
                    let first = cols_ok.start;
                    let dst_first = g.source(1, first, col_offset);
                    let row = (channel * kh + i) * kw + j;
                    let seg = &dcols[row * columns + image * pixels..][..pixels];
                    for oh in rows_ok.clone() {
                        let dst = &mut plane[g.source(0, oh, row_offset) * w..][..w];
                        let src = &seg[oh * wo + first..][..cols_ok.len()];
                        for (k, &v) in src.iter().enumerate() {
                            dst[dst_first + k * g.stride[1]] += v;
                        }
                    }
                }
            }
        });
    dx
}

/// `[N, O, L]` to `[O, N·L]`: the output gradient as the GEMMs want it.
pub(super) fn batch_to_columns(y: &[f32], [n, o, l]: [usize; 3]) -> Vec<f32> {
    let mut out = vec![0.0; y.len()];
    out.par_chunks_mut(n * l)
        .enumerate()
        .for_each(|(channel, row)| {
            for image in 0..n {
                row[image * l..][..l].copy_from_slice(&y[(image * o + channel) * l..][..l]);
            }
        });
    out
}

/// `[O, N·L]` to `[N, O, L]`, adding `bias[o]` to every element of channel `o`.
pub(super) fn columns_to_batch(y: &[f32], [n, o, l]: [usize; 3], bias: Option<&[f32]>) -> Vec<f32> {
    let mut out = vec![0.0; y.len()];
    out.par_chunks_mut(l).enumerate().for_each(|(index, dst)| {
        let (image, channel) = (index / o, index % o);
        let src = &y[channel * n * l + image * l..][..l];
        match bias {
            Some(bias) => {
                let b = bias[channel];
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d = s + b;
                }
            }
            None => dst.copy_from_slice(src),
        }
    });
    out
}
