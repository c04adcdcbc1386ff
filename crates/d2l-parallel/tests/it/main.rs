//! Integration tests of d2l-parallel, run once per backend by `cargo xtask test-all-backends`.

mod ddp;
mod ddp_pytorch;
mod faults;
mod group_sum;
#[cfg(feature = "mpi")]
mod mpi;
mod resume;
mod sampler;
mod sync_bn;
mod threads;

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

/// A tensor's values as f32.
pub fn values<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("f32 data")
}
