//! The `syncbn` scenario: `SyncBatchNorm` across processes — every rank trains a small CNN
//! with batch norms on its shard, with statistics over the whole job; rank 0 checks the
//! result against one process on the whole batch (the same three SGD steps as `main.rs`).

use std::sync::Arc;

use burn::backend::{Autodiff, NdArray};
use burn::nn::conv::Conv2dConfig;
use burn::nn::{LinearConfig, PaddingConfig2d, Relu};
use burn::tensor::{Int, Tensor, TensorData};
use d2l_blocks::Sequential;
use d2l_blocks::layers::{BatchNorm, Flatten};
use d2l_parallel::{DistributedDataParallel, GroupSum, MpiComm, convert_sync_batchnorm};
use d2l_params::{Parameters, Strict, load_state_dict};

use crate::{Error, train};

type B = Autodiff<NdArray>;
const BATCH: usize = 8;

/// Conv → BatchNorm2d → ReLU → Flatten → Linear → BatchNorm1d → ReLU → Linear, on 1×6×6.
fn small_cnn() -> Sequential<B> {
    let device = Default::default();
    Sequential::new()
        .add(
            Conv2dConfig::new([1, 4], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(&device),
        )
        .add(BatchNorm::new_2d(4, &device))
        .add(Relu::new())
        .add(Flatten::new())
        .add(LinearConfig::new(4 * 36, 6).init(&device))
        .add(BatchNorm::new_1d(6, &device))
        .add(Relu::new())
        .add(LinearConfig::new(6, 3).init(&device))
}

/// Rows of a fixed batch, shifted per row so that the shards' statistics differ.
fn batch(rows: std::ops::Range<usize>) -> (Tensor<B, 4>, Tensor<B, 1, Int>) {
    let device = Default::default();
    let n = rows.len();
    let x: Vec<f32> = (rows.clone())
        .flat_map(|i| (0..36).map(move |j| ((i * 36 + j) as f32 * 0.37).sin() + i as f32 * 0.25))
        .collect();
    let y: Vec<i64> = rows.map(|i| (i % 3) as i64).collect();
    (
        Tensor::from_data(TensorData::new(x, [n, 1, 6, 6]), &device),
        Tensor::from_data(TensorData::new(y, [n]), &device),
    )
}

fn state(net: &Sequential<B>) -> std::collections::BTreeMap<String, TensorData> {
    (net.state_dict().iter())
        .map(|v| (v.key().to_owned(), v.data()))
        .collect()
}

/// Runs the scenario; rank 0 returns its line.
pub fn run(comm: &MpiComm) -> Result<String, Error> {
    let (rank, world) = (comm.rank(), comm.world_size());
    let (ddp, net) = DistributedDataParallel::new(comm, small_cnn())?;
    let initial = state(&net);
    let group = GroupSum::<NdArray>::new(Arc::new(comm.clone()));
    let net = convert_sync_batchnorm::<B, _>(net, group)?;
    if !net.to_string().contains("SyncBatchNorm(") {
        return Err(format!("not converted: {net}").into());
    }
    let shard = BATCH / world;
    let net = train(
        net,
        batch(rank * shard..(rank + 1) * shard),
        |net, grads| Ok(ddp.average_gradients(net, grads)?),
    )?;
    if rank != 0 {
        return Ok(String::new());
    }
    let mut single = small_cnn();
    load_state_dict(&mut single, &initial, Strict::Yes)?;
    let single = train(single, batch(0..BATCH), |_, g| Ok(g))?;
    let (ours, theirs) = (state(&net), state(&single));
    let mut worst = 0f64;
    for (key, b) in &theirs {
        let (a, b) = (
            ours[key].clone().convert::<f32>().to_vec::<f32>()?,
            b.clone().convert::<f32>().to_vec::<f32>()?,
        );
        let scale = b.iter().fold(f32::MIN_POSITIVE, |m, v| m.max(v.abs()));
        for (x, y) in a.iter().zip(&b) {
            worst = worst.max(f64::from((x - y).abs() / scale));
        }
    }
    if worst > 1e-5 {
        return Err(format!("world {world}: {worst:.2e} from one process, 1e-5 allowed").into());
    }
    Ok(format!(
        "syncbn ok: world {world}, largest relative difference {worst:.2e}"
    ))
}
