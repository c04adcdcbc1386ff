//! D2L §13.6 "Concise Implementation for Multiple GPUs": the book's ResNet-18 trained data
//! parallel with PyTorch's `DistributedDataParallel` semantics — one replica per device, rank
//! 0's parameters broadcast at the start, gradients averaged in one all-reduce per step, batch
//! norm's buffers broadcast from rank 0 before each forward pass, each epoch's samples sharded
//! by a `DistributedSampler`, and a checkpoint saved by rank 0 that loads on one device.
//!
//! On a machine without GPUs, the two replicas share the CPU (two threads).
//! Run: `cargo run --release --example sec13_6_multiple_gpus_concise`.

use burn::backend::Autodiff;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};

use d2l::device::backend::DeviceBackend;
use d2l::device::try_all_gpus;
use d2l::layers::models::ResNetConfig;
use d2l::parallel::{Communicator, DistributedDataParallel, DistributedSampler, ThreadGroup};
use d2l::params::{Init, Parameters, init_params};

const SAMPLES: usize = 8;
const BATCH_PER_RANK: usize = 4;
/// Image side: small, so that the example trains in seconds on every backend.
const SIDE: usize = 32;
const PIXELS: usize = SIDE * SIDE;

/// A synthetic dataset: `SAMPLES` 32×32 images whose brightness and texture follow their
/// label `i % 10`, so that there is something to learn.
fn dataset() -> (Vec<f32>, Vec<i64>) {
    let labels: Vec<i64> = (0..SAMPLES as i64).map(|i| i % 10).collect();
    let x = (0..SAMPLES * PIXELS)
        .map(|j| {
            let label = labels[j / PIXELS] as f32;
            (j as f32 * 0.113 * (1.0 + label)).sin() * 0.5 + label * 0.1
        })
        .collect();
    (x, labels)
}

/// The rows `indices` of the dataset, as a batch on `device`.
fn rows<B: burn::tensor::backend::Backend>(
    (x, y): &(Vec<f32>, Vec<i64>),
    indices: &[usize],
    device: &B::Device,
) -> (Tensor<B, 4>, Tensor<B, 1, Int>) {
    let n = indices.len();
    let xs: Vec<f32> = (indices.iter())
        .flat_map(|&i| x[i * PIXELS..(i + 1) * PIXELS].iter().copied())
        .collect();
    let ys: Vec<i64> = indices.iter().map(|&i| y[i]).collect();
    (
        Tensor::from_data(TensorData::new(xs, [n, 1, SIDE, SIDE]), device),
        Tensor::from_data(TensorData::new(ys, [n]), device),
    )
}

d2l::main!(section);

/// The cells, generic over the backend.
pub fn section<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    type AB<B> = Autodiff<B>;
    println!("## 13.6 Concise multi-GPU training — backend: {}", B::KIND);
    d2l::cell("ddp_train"); // ANCHOR: ddp_train
    let gpus = try_all_gpus::<B>();
    let devices: Vec<B::Device> = if gpus.len() >= 2 {
        gpus[..2].to_vec()
    } else {
        vec![device.clone(); 2]
    };
    let world = devices.len();
    let data = dataset();
    let checkpoint =
        std::env::temp_dir().join(format!("ddp-resnet18-{}.safetensors", std::process::id()));
    let probe = rows::<B>(&data, &[0, 1], device).0;

    let outputs = ThreadGroup::new(world)?
        .run::<B, _, _, Box<dyn std::error::Error + Send + Sync>>(&devices, |comm| {
            let device = comm.device().clone();
            let rank = comm.rank();
            // Every rank builds and initializes its own replica (lazy layers take their
            // shapes from one sample, in eval mode so no statistic moves).
            let mut net = ResNetConfig::resnet18(10).init::<AB<B>>(&device);
            net.eval();
            net.forward_tensor::<4, 2>(rows::<AB<B>>(&data, &[0], &device).0)?;
            net.train();
            // The book's init_weights: N(0, 0.01²) for every linear and conv weight.
            init_params(&mut net, |p| {
                let layer = matches!(p.container.as_str(), "Linear" | "Conv2d");
                (layer && p.name == "weight").then_some(Init::Normal {
                    mean: 0.0,
                    std: 0.01,
                })
            })?;
            // DDP: rank 0's parameters and buffers on every replica.
            let (ddp, mut net) = DistributedDataParallel::new(comm, net)?;
            let loss_fn = CrossEntropyLossConfig::new().init(&device);
            let mut optim = SgdConfig::new().init();
            let mut sampler = DistributedSampler::new(SAMPLES, world, rank)?.shuffle(0);
            let mut epoch_losses = Vec::new();
            for epoch in 0..2 {
                sampler.set_epoch(epoch);
                let mut sum = 0.0;
                for (step, batch) in sampler.indices().chunks(BATCH_PER_RANK).enumerate() {
                    net = ddp.sync_buffers(net)?; // broadcast_buffers=True
                    let (x, y) = rows::<AB<B>>(&data, batch, &device);
                    let loss = loss_fn.forward(net.forward_tensor::<4, 2>(x)?, y);
                    // The loss averaged over the ranks, for printing.
                    let mean = ddp.comm().all_reduce_mean(loss.clone().inner())?;
                    let grads = GradientsParams::from_grads(loss.backward(), &net);
                    let grads = ddp.average_gradients(&net, grads)?;
                    net = optim.step(0.01, net, grads);
                    if ddp.is_main() {
                        let loss = mean.into_scalar().elem::<f32>();
                        println!("epoch {epoch}, step {step}: loss {loss:.4}");
                        sum += loss;
                    }
                }
                epoch_losses.push(sum);
            }
            net = ddp.sync_buffers(net)?;
            if ddp.is_main() {
                // Plain PyTorch keys: the file loads on one device, and in PyTorch.
                d2l::io::save_state(&checkpoint, &net)?;
            }
            ddp.comm().barrier(ddp.device())?;
            if ddp.is_main() {
                assert!(
                    epoch_losses.iter().all(|l| l.is_finite()),
                    "{epoch_losses:?}"
                );
            }
            net.eval();
            let probe = Tensor::<AB<B>, 4>::from_inner(probe.clone().to_device(&device));
            let y = net.forward_tensor::<4, 2>(probe)?;
            let weight = net.param("0.0.weight")?.data();
            Ok((y.into_data(), weight))
        })?;
    // ANCHOR_END: ddp_train
    // The replicas agree, parameters and outputs.
    d2l::cell("replicas_agree"); // ANCHOR: replicas_agree
    assert_eq!(outputs[0].1, outputs[1].1);
    outputs[1]
        .0
        .assert_approx_eq::<f32>(&outputs[0].0, burn::tensor::Tolerance::absolute(1e-5));
    println!("{world} replicas hold the same parameters and compute the same outputs");
    // ANCHOR_END: replicas_agree

    // The checkpoint loads strictly on one device into a fresh lazy network.
    d2l::cell("checkpoint"); // ANCHOR: checkpoint
    let mut single = ResNetConfig::resnet18(10).init::<AB<B>>(device);
    let report = d2l::io::load_state(&checkpoint, &mut single, true)?;
    std::fs::remove_file(&checkpoint)?;
    single.eval();
    let y = single.forward_tensor::<4, 2>(Tensor::from_inner(probe))?;
    y.into_data()
        .assert_approx_eq::<f32>(&outputs[0].0, burn::tensor::Tolerance::absolute(1e-5));
    println!(
        "rank 0's checkpoint ({} tensors) loads on one device with the same outputs",
        report.loaded.len()
    );
    // ANCHOR_END: checkpoint
    Ok(())
}
