//! [`split_batch`]: D2L §13.5's `split_batch`, a minibatch split over devices.

use burn::tensor::backend::Backend;
use burn::tensor::{BasicOps, Tensor};

use crate::ParallelError;

/// Splits a minibatch (`x` and its labels `y`) into one part per device along the first
/// axis and moves each part to its device: D2L §13.5's `split_batch` (PyTorch's
/// `nn.parallel.scatter`, parts of `ceil(n / k)` rows, the last one smaller).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, Tensor};
/// use d2l_parallel::split_batch;
///
/// let device = Default::default();
/// let x = Tensor::<NdArray, 1, Int>::arange(0..24, &device).reshape([4, 6]);
/// let y = Tensor::<NdArray, 1, Int>::arange(0..4, &device);
/// let parts = split_batch(x, y, &[device, device]).unwrap();
/// assert_eq!(parts.len(), 2);
/// assert_eq!(parts[1].0.to_data().to_vec::<i64>().unwrap(), (12..24).collect::<Vec<i64>>());
/// assert_eq!(parts[1].1.to_data().to_vec::<i64>().unwrap(), [2, 3]);
/// ```
///
/// # Errors
/// [`ParallelError::Config`] if `x` and `y` have different batch sizes, the batch is empty,
/// or no device is given.
#[allow(clippy::type_complexity)]
pub fn split_batch<B, const D: usize, K, L>(
    x: Tensor<B, D, K>,
    y: Tensor<B, 1, L>,
    devices: &[B::Device],
) -> Result<Vec<(Tensor<B, D, K>, Tensor<B, 1, L>)>, ParallelError>
where
    B: Backend,
    K: BasicOps<B>,
    L: BasicOps<B>,
{
    let (n, m) = (x.dims()[0], y.dims()[0]);
    if n != m {
        return Err(ParallelError::Config(format!(
            "split_batch: {n} inputs but {m} labels"
        )));
    }
    if n == 0 || devices.is_empty() {
        return Err(ParallelError::Config(format!(
            "split_batch: {n} rows over {} devices",
            devices.len()
        )));
    }
    let rows = n.div_ceil(devices.len());
    Ok((0..n)
        .step_by(rows)
        .zip(devices)
        .map(|(start, device)| {
            let end = (start + rows).min(n);
            (
                x.clone().narrow(0, start, end - start).to_device(device),
                y.clone().narrow(0, start, end - start).to_device(device),
            )
        })
        .collect())
}
