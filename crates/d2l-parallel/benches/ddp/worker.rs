//! One rank of `cargo xtask bench ddp`, started by `mpirun`: the same work as the PyTorch
//! twin's rank, printed by rank 0 in the twin's format.

use std::time::{Duration, Instant};

use burn::backend::{Autodiff, Flex};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::{Int, Tensor, TensorData};
use d2l_layers::models::{LeNetConfig, init_cnn};
use d2l_parallel::{Communicator, DistributedDataParallel, MpiComm};

type B = Autodiff<Flex>;
type Error = Box<dyn std::error::Error + Send + Sync>;

/// The median of `times`, in milliseconds.
fn median_ms(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1e3
}

/// Two warm-up runs of `f`, then `steps` timed ones, each after a barrier (the twin's `timed`).
fn timed(
    comm: &MpiComm,
    steps: usize,
    mut f: impl FnMut() -> Result<(), Error>,
) -> Result<Vec<Duration>, Error> {
    let device = Default::default();
    for _ in 0..2 {
        f()?;
    }
    let mut times = Vec::with_capacity(steps);
    for _ in 0..steps.max(1) {
        Communicator::<B>::barrier(comm, &device)?;
        let started = Instant::now();
        f()?;
        times.push(started.elapsed());
    }
    Ok(times)
}

/// LeNet SGD steps on `batch / world` images per rank: `step_ms=… allreduce_ms=…`.
fn train(comm: &MpiComm, batch: usize, steps: usize) -> Result<String, Error> {
    let device = Default::default();
    let local = batch / comm.world_size();
    let mut net = LeNetConfig::new(10).init::<B>(&device);
    net.forward_tensor::<4, 2>(Tensor::zeros([1, 1, 28, 28], &device))?;
    init_cnn(&mut net)?;
    let (ddp, net) = DistributedDataParallel::new(comm, net)?;
    let x: Vec<f32> = (0..local * 784).map(|i| (i as f32 * 0.37).sin()).collect();
    let x = Tensor::<B, 4>::from_data(TensorData::new(x, [local, 1, 28, 28]), &device);
    let y: Vec<i64> = (0..local).map(|i| (i % 10) as i64).collect();
    let y = Tensor::<B, 1, Int>::from_data(TensorData::new(y, [local]), &device);
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut sgd = SgdConfig::new().init();
    let mut net = Some(net);
    let mut reduce = vec![];
    let times = timed(comm, steps, || {
        let model = net.take().ok_or("no model")?;
        let loss = loss_fn.forward(model.forward_tensor::<4, 2>(x.clone())?, y.clone());
        loss.clone().into_scalar(); // read the loss back, as the twin does
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let started = Instant::now();
        let grads = ddp.average_gradients(&model, grads)?;
        reduce.push(started.elapsed());
        net = Some(sgd.step(0.01, model, grads));
        Ok(())
    })?;
    let reduce = reduce.split_off(2);
    Ok(format!(
        "step_ms={:.3} allreduce_ms={:.3}",
        median_ms(times),
        median_ms(reduce)
    ))
}

/// `all_reduce_mean` of `floats` values through [`MpiComm`]: `ms=…`.
fn allreduce(comm: &MpiComm, floats: usize, steps: usize) -> Result<String, Error> {
    let device = Default::default();
    let values: Vec<f32> = (0..floats).map(|i| (i % 1000) as f32 * 0.001).collect();
    let buffer = Tensor::<Flex, 1>::from_data(TensorData::new(values, [floats]), &device);
    let times = timed(comm, steps, || {
        Communicator::<Flex>::all_reduce_mean(comm, buffer.clone())?;
        Ok(())
    })?;
    Ok(format!("ms={:.4}", median_ms(times)))
}

/// Runs `args` (`train BATCH STEPS` or `allreduce FLOATS STEPS`) on this rank; rank 0 prints.
pub fn main(args: &[String]) {
    let comm = match MpiComm::init() {
        Ok(comm) => comm,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(2);
        }
    };
    let rank = comm.rank();
    let number = |i: usize| args.get(i).and_then(|a| a.parse::<usize>().ok());
    let line = comm.run(|comm| -> Result<String, Error> {
        match (args.first().map(String::as_str), number(1), number(2)) {
            (Some("train"), Some(batch), Some(steps)) => train(comm, batch, steps),
            (Some("allreduce"), Some(floats), Some(steps)) => allreduce(comm, floats, steps),
            _ => Err(format!("worker arguments: {args:?}").into()),
        }
    });
    if rank == 0 {
        println!("{line}");
    }
}
