//! The thread engine's collective steps, checked by hand.

use burn::tensor::{Tensor, TensorData};
use d2l_parallel::{Communicator, ParallelError, ThreadGroup};

use crate::values;

d2l_device::backend_test! {
    fn all_reduce_mean_and_broadcast_give_every_rank_the_same_values<B>(device) {
        for world in [1usize, 2, 4] {
            let devices = vec![device.clone(); world];
            let out = ThreadGroup::new(world)
                .unwrap()
                .run::<B, _, _, ParallelError>(&devices, |comm| {
                    let r = comm.rank() as f32;
                    let x = Tensor::<B, 1>::from_data(TensorData::new(vec![r, -2.0 * r, 7.0], [3]), comm.device());
                    let mean = values(comm.all_reduce_mean(x.clone())?);
                    let root = world - 1;
                    let from_root = values(comm.broadcast(x, root)?);
                    comm.barrier(comm.device())?;
                    Ok((comm.rank(), mean, from_root))
                })
                .unwrap();
            // Mean of 0..world is (world-1)/2.
            let m = (world as f32 - 1.0) / 2.0;
            let last = (world - 1) as f32;
            for (rank, (r, mean, from_root)) in out.into_iter().enumerate() {
                assert_eq!(r, rank);
                assert_eq!(mean, [m, -2.0 * m, 7.0], "world {world}");
                assert_eq!(from_root, [last, -2.0 * last, 7.0], "world {world}");
            }
        }
    }
}

#[test]
fn groups_run_one_after_another_and_check_their_arguments() {
    type B = burn::backend::NdArray;
    let device = Default::default();
    assert!(matches!(ThreadGroup::new(0), Err(ParallelError::Config(_))));
    let group = ThreadGroup::new(2).unwrap();
    let err = group
        .run::<B, _, _, ParallelError>(&[device], |_| Ok(()))
        .unwrap_err();
    assert_eq!(
        err,
        ParallelError::Config("1 devices for a group of 2 ranks".into())
    );
    for round in 0..3 {
        let sums = group
            .run::<B, _, _, ParallelError>(&[device, device], |comm| {
                let x = Tensor::<B, 1>::from_floats([round as f32 + comm.rank() as f32], &device);
                Ok(values(comm.all_reduce_mean(x)?)[0])
            })
            .unwrap();
        assert_eq!(sums, [round as f32 + 0.5; 2]);
    }
    let err = group
        .run::<B, _, _, ParallelError>(&[device, device], |comm| {
            comm.broadcast(Tensor::<B, 1>::zeros([1], &device), 2)
        })
        .unwrap_err();
    assert_eq!(
        err,
        ParallelError::Config("broadcast from rank 2 in a group of 2".into())
    );
}
