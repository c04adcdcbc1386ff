//! `d2l-mpi-check SCENARIO`: what `mpirun` starts in the MPI tests — data-parallel LeNet
//! training across processes, and the faults a job meets.
//!
//! - `equivalence`: every rank trains on its shard; rank 0 checks the result against one
//!   process on the whole batch and prints `equivalence ok: …`.
//! - `error`, `panic`, `kill`: rank 1 returns an error, panics, or is killed (SIGKILL) after
//!   the first step; the job must end, never hang.
//! - `late`: rank 1 arrives after the timeout; rank 0 reports the timeout and the job ends.
//! - `mismatch`: rank 1 builds another model; every rank refuses it at start-up.
//! - `syncbn`: `SyncBatchNorm` across the processes equals one process on the whole batch
//!   (`sync_bn.rs`).

mod sync_bn;

use std::time::Duration;

use burn::backend::{Autodiff, NdArray};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::{Int, Tensor, TensorData};
use d2l_blocks::Sequential;
use d2l_layers::models::{LeNetConfig, init_cnn};
use d2l_parallel::{DistributedDataParallel, MpiComm};
use d2l_params::{Parameters, Strict, load_state_dict};

type B = Autodiff<NdArray>;
type Error = Box<dyn std::error::Error + Send + Sync>;
const BATCH: usize = 8;

fn lenet(classes: usize) -> Result<Sequential<B>, Error> {
    let device = Default::default();
    let mut net = LeNetConfig::new(classes).init::<B>(&device);
    net.forward_tensor::<4, 2>(Tensor::zeros([1, 1, 28, 28], &device))?;
    init_cnn(&mut net)?;
    Ok(net)
}

fn batch(rows: std::ops::Range<usize>) -> (Tensor<B, 4>, Tensor<B, 1, Int>) {
    let device = Default::default();
    let n = rows.len();
    let x: Vec<f32> = (rows.clone())
        .flat_map(|i| (0..784).map(move |j| ((i * 784 + j) as f32 * 0.37).sin()))
        .collect();
    let y: Vec<i64> = rows.map(|i| (i % 10) as i64).collect();
    (
        Tensor::from_data(TensorData::new(x, [n, 1, 28, 28]), &device),
        Tensor::from_data(TensorData::new(y, [n]), &device),
    )
}

/// Three SGD steps on the batch `(x, y)`, gradients through `sync`.
fn train(
    mut net: Sequential<B>,
    (x, y): (Tensor<B, 4>, Tensor<B, 1, Int>),
    sync: impl Fn(&Sequential<B>, GradientsParams) -> Result<GradientsParams, Error>,
) -> Result<Sequential<B>, Error> {
    let loss_fn = CrossEntropyLossConfig::new().init(&Default::default());
    let mut sgd = SgdConfig::new().init();
    for _ in 0..3 {
        let loss = loss_fn.forward(net.forward_tensor::<4, 2>(x.clone())?, y.clone());
        let grads = sync(&net, GradientsParams::from_grads(loss.backward(), &net))?;
        net = sgd.step(0.1, net, grads);
    }
    Ok(net)
}

fn scenario(comm: &MpiComm, which: &str) -> Result<String, Error> {
    if which == "syncbn" {
        return sync_bn::run(comm);
    }
    let (rank, world) = (comm.rank(), comm.world_size());
    let classes = if which == "mismatch" && rank == 1 {
        9
    } else {
        10
    };
    let (ddp, net) = DistributedDataParallel::new(comm, lenet(classes)?)?;
    let initial = net.clone();
    let shard = BATCH / world;
    let net = train(
        net,
        batch(rank * shard..(rank + 1) * shard),
        |net, grads| {
            if rank == 1 {
                match which {
                    "error" => return Err("disk full".into()),
                    "panic" => panic!("out of memory"),
                    "late" => std::thread::sleep(Duration::from_secs(4)),
                    "kill" => {
                        let pid = std::process::id().to_string();
                        std::process::Command::new("kill")
                            .args(["-9", &pid])
                            .status()?;
                    }
                    _ => {}
                }
            }
            Ok(ddp.average_gradients(net, grads)?)
        },
    )?;
    if rank != 0 {
        return Ok(String::new());
    }
    // Rank 0: one process on the whole batch from the same initial state.
    let mut single = lenet(10)?;
    let state: std::collections::BTreeMap<String, TensorData> = (initial.state_dict().iter())
        .map(|v| (v.key().to_owned(), v.data()))
        .collect();
    load_state_dict(&mut single, &state, Strict::Yes)?;
    let single = train(single, batch(0..BATCH), |_, g| Ok(g))?;
    let mut worst = 0f64;
    for (a, b) in net.state_dict().iter().zip(single.state_dict().iter()) {
        let (a, b) = (a.data().to_vec::<f32>()?, b.data().to_vec::<f32>()?);
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (x, y) in a.iter().zip(&b) {
            worst = worst.max(f64::from((x - y).abs() / scale.max(f32::MIN_POSITIVE)));
        }
    }
    if worst > 1e-6 {
        return Err(format!("world {world}: {worst:.2e} from one process, 1e-6 allowed").into());
    }
    Ok(format!(
        "equivalence ok: world {world}, largest relative difference {worst:.2e}"
    ))
}

fn main() {
    let which = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "equivalence".into());
    let comm = match MpiComm::init() {
        Ok(comm) => comm.with_timeout(Duration::from_secs(if which == "late" { 1 } else { 120 })),
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(2);
        }
    };
    let line = comm.run(|comm| scenario(comm, &which));
    if !line.is_empty() {
        println!("{line}");
    }
}
