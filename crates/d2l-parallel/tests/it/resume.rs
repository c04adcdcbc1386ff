//! A run resumed on a different number of ranks continues from the same state: rank 0's
//! checkpoint (PyTorch keys) and optimizer state, saved after two steps on 2 ranks, loaded
//! by 1 and by 4 ranks, whose third step lands where one rank's three steps land.

use std::path::{Path, PathBuf};

use burn::backend::Autodiff;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use d2l_blocks::Sequential;
use d2l_device::backend::DeviceBackend;
use d2l_parallel::{Communicator, DistributedDataParallel, ParallelError, ThreadGroup};
use d2l_params::{Strict, load_state_dict};

use super::ddp::{BATCH, State, assert_relative, batch, lenet, state};

const LR: f64 = 1e-3;

/// A fresh folder under the system's temporary one.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("d2l-parallel-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// `steps` Adam steps of a data-parallel run on `world` ranks. Every rank starts from
/// `initial` (a state) or from the checkpoint in `dir` (model and optimizer, as each rank of
/// a resumed PyTorch job loads them); rank 0 saves both to `dir` at the end. Returns rank 0's
/// final state.
fn run<B: DeviceBackend>(
    world: usize,
    steps: usize,
    initial: Option<&State>,
    dir: &Path,
    device: &B::Device,
) -> State {
    let devices = vec![device.clone(); world];
    let (model_file, optim_file) = (dir.join("model.safetensors"), dir.join("optim.mpk"));
    let out = ThreadGroup::new(world)
        .unwrap()
        .run::<B, _, _, ParallelError>(&devices, |comm| {
            let rank = comm.rank();
            let mut net: Sequential<Autodiff<B>> = lenet(10, device);
            let mut adam = AdamConfig::new().init();
            match initial {
                Some(initial) => {
                    load_state_dict(&mut net, initial, Strict::Yes).expect("state");
                }
                None => {
                    d2l_io::load_state(&model_file, &mut net, true).expect("checkpoint");
                    adam = adam.load_record(
                        d2l_io::load_optimizer(&optim_file, &net, device).expect("optimizer"),
                    );
                }
            };
            let (ddp, mut net) = DistributedDataParallel::new(comm, net)?;
            let shard = BATCH / world;
            let (x, y) = batch::<Autodiff<B>>(device, rank * shard..(rank + 1) * shard);
            let loss_fn = CrossEntropyLossConfig::new().init(device);
            for _ in 0..steps {
                let out = net.forward_tensor::<4, 2>(x.clone()).expect("forward");
                let loss = loss_fn.forward(out, y.clone());
                let grads = GradientsParams::from_grads(loss.backward(), &net);
                let grads = ddp.average_gradients(&net, grads)?;
                net = adam.step(LR, net, grads);
            }
            if ddp.is_main() {
                d2l_io::save_state(&model_file, &net).expect("save");
                d2l_io::save_optimizer(&optim_file, adam.to_record(), &net).expect("save");
            }
            Ok(state(&net))
        })
        .unwrap();
    out.into_iter().next().expect("rank 0")
}

d2l_device::backend_test! {
    fn a_run_resumed_on_another_world_size_continues_from_the_same_state<B>(device) {
        let initial = state(&lenet::<Autodiff<B>>(10, device));
        let reference = run::<B>(1, 3, Some(&initial), &scratch("resume-ref"), device);
        let dir = scratch("resume");
        run::<B>(2, 2, Some(&initial), &dir, device);
        let saved = std::fs::read(dir.join("model.safetensors")).expect("checkpoint");
        for world in [1, 4] {
            let resumed_dir = scratch(&format!("resume-{world}"));
            std::fs::write(resumed_dir.join("model.safetensors"), &saved).unwrap();
            std::fs::copy(dir.join("optim.mpk"), resumed_dir.join("optim.mpk")).unwrap();
            let resumed = run::<B>(world, 1, None, &resumed_dir, device);
            assert_relative(&resumed, &reference, 1e-6, B::KIND, &format!("resumed on {world}"));
            let _ = std::fs::remove_dir_all(resumed_dir);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
