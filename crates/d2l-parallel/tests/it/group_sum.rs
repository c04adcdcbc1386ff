//! `GroupSum` and `SyncBackend::all_reduce_sum`, the collective under `SyncBatchNorm`: every
//! rank gets the group's sum, call after call, lengths mixed; in the autodiff graph, the
//! gradient reaching each rank is the group's sum of the gradients.

use std::sync::Arc;

use burn::backend::Autodiff;
use burn::tensor::{Tensor, TensorData};
use d2l_parallel::{Communicator, GroupSum, ParallelError, SyncBackend, ThreadGroup};

use super::values;

const WORLD: usize = 2;
const LENGTHS: [usize; 4] = [5, 4, 5, 17];

/// Rank `rank`'s `call`-th buffer: small integers, so every sum is exact.
fn buffer(rank: usize, call: usize, len: usize) -> Vec<f32> {
    (0..len)
        .map(|j| (rank * 100 + call * 7 + j) as f32)
        .collect()
}

fn expected(call: usize, len: usize) -> Vec<f32> {
    (0..len)
        .map(|j| (0..WORLD).map(|r| buffer(r, call, len)[j]).sum())
        .collect()
}

d2l_device::backend_test! {
    fn every_rank_gets_the_groups_sum_call_after_call<B>(device) {
        let devices = vec![device.clone(); WORLD];
        let out = ThreadGroup::new(WORLD)
            .unwrap()
            .run::<B, _, _, ParallelError>(&devices, |comm| {
                let rank = comm.rank();
                let group = GroupSum::<B>::new(Arc::new(comm));
                let mut sums = vec![];
                for call in 0..12 {
                    let len = LENGTHS[call % LENGTHS.len()];
                    let x = Tensor::<B, 1>::from_data(TensorData::new(buffer(rank, call, len), [len]), device);
                    // Work queued on the device before the collective, as a forward pass has.
                    let x = (x * 2.0 + 1.0 - 1.0) / 2.0;
                    sums.push(values(group.call(x)?));
                }
                Ok(sums)
            })
            .unwrap();
        for (rank, sums) in out.iter().enumerate() {
            for (call, sum) in sums.iter().enumerate() {
                assert_eq!(sum, &expected(call, LENGTHS[call % LENGTHS.len()]), "rank {rank}, call {call}");
            }
        }
    }
}

d2l_device::backend_test! {
    fn the_gradient_of_a_group_sum_is_the_groups_sum_of_gradients<B>(device) {
        let devices = vec![device.clone(); WORLD];
        let out = ThreadGroup::new(WORLD)
            .unwrap()
            .run::<B, _, _, ParallelError>(&devices, |comm| {
                let rank = comm.rank();
                let group = GroupSum::<B>::new(Arc::new(comm));
                let mut grads = vec![];
                for call in 0..4 {
                    let len = LENGTHS[call];
                    let x = Tensor::<Autodiff<B>, 1>::from_data(TensorData::new(buffer(rank, call, len), [len]), device)
                        .require_grad();
                    // Two sums in one graph, as a batch norm takes them: y = S(x), z = S(y · x).
                    let y = Autodiff::<B>::all_reduce_sum(x.clone(), &group)?;
                    let z = Autodiff::<B>::all_reduce_sum(y.clone() * x.clone(), &group)?;
                    // Rank r weighs the output by (r + 1).
                    let loss = (z * (rank as f64 + 1.0)).sum();
                    let g = loss.backward();
                    grads.push((values(y.inner()), values(x.grad(&g).expect("grad"))));
                }
                Ok(grads)
            })
            .unwrap();
        // z = S(S(x)·x); dL/dx_r = S(w)·S(x) + S(x_r·S(w))... with w_r = r + 1 per rank:
        // dL/dz = w_r; through S: g_prod = S(w) = 3 (same on every rank); z's input is y·x_r,
        // so dL/dx_r = 3·y + S(3·x) = 3·y + 3·y = 6·y, where y = S(x) (the same everywhere).
        let w_sum = (1..=WORLD).map(|w| w as f32).sum::<f32>();
        for (rank, grads) in out.iter().enumerate() {
            for (call, (y, grad)) in grads.iter().enumerate() {
                assert_eq!(y, &expected(call, LENGTHS[call]), "rank {rank}, call {call}: y");
                let want: Vec<f32> = y.iter().map(|v| 2.0 * w_sum * v).collect();
                assert_eq!(grad, &want, "rank {rank}, call {call}: gradient");
            }
        }
    }
}
