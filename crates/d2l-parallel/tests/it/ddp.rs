//! `DistributedDataParallel` on the book's LeNet: k ranks on batches of B/k take the steps one
//! rank takes on the batch of B; replicas start from rank 0's state; mismatched and lazy
//! models are refused.

use std::collections::BTreeMap;

use burn::backend::Autodiff;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, Optimizer, SgdConfig};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use d2l_blocks::Sequential;
use d2l_device::backend::DeviceBackend;
use d2l_device::numerics::Tolerance;
use d2l_layers::models::{LeNetConfig, init_cnn};
use d2l_parallel::{Communicator, DistributedDataParallel, ParallelError, ThreadGroup};
use d2l_params::{Parameters, Strict, load_state_dict};

pub(crate) type State = BTreeMap<String, TensorData>;
pub(crate) const BATCH: usize = 8;

/// The book's LeNet with `classes` outputs, materialized and Xavier-initialized (random).
pub(crate) fn lenet<B: Backend>(classes: usize, device: &B::Device) -> Sequential<B> {
    let mut net = LeNetConfig::new(classes).init::<B>(device);
    net.forward_tensor::<4, 2>(Tensor::zeros([1, 1, 28, 28], device))
        .expect("materialize");
    init_cnn(&mut net).expect("init");
    net
}

/// A fixed batch: images from a formula, labels `i % 10`.
pub(crate) fn batch<B: Backend>(
    device: &B::Device,
    rows: std::ops::Range<usize>,
) -> (Tensor<B, 4>, Tensor<B, 1, Int>) {
    let n = rows.len();
    let x: Vec<f32> = rows
        .clone()
        .flat_map(|i| (0..784).map(move |j| ((i * 784 + j) as f32 * 0.37).sin()))
        .collect();
    let y: Vec<i64> = rows.map(|i| (i % 10) as i64).collect();
    (
        Tensor::from_data(TensorData::new(x, [n, 1, 28, 28]), device),
        Tensor::from_data(TensorData::new(y, [n]), device),
    )
}

pub(crate) fn state<B: Backend, M: Parameters<B>>(net: &M) -> State {
    net.state_dict()
        .iter()
        .map(|v| (v.key().to_owned(), v.data()))
        .collect()
}

#[derive(Clone, Copy, Debug)]
enum Opt {
    Sgd,
    Adam,
}

/// `steps` steps of `opt` on `rows` of the fixed batch, with gradients passed through `sync`.
fn train<B: Backend>(
    mut net: Sequential<Autodiff<B>>,
    opt: Opt,
    rows: std::ops::Range<usize>,
    device: &B::Device,
    mut sync: impl FnMut(
        &Sequential<Autodiff<B>>,
        GradientsParams,
    ) -> Result<GradientsParams, ParallelError>,
) -> Result<Sequential<Autodiff<B>>, ParallelError> {
    let (x, y) = batch::<Autodiff<B>>(device, rows);
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut sgd = SgdConfig::new().init();
    let mut adam = AdamConfig::new().init();
    for _ in 0..3 {
        let out = net.forward_tensor::<4, 2>(x.clone()).expect("forward");
        let grads = GradientsParams::from_grads(loss_fn.forward(out, y.clone()).backward(), &net);
        let grads = sync(&net, grads)?;
        net = match opt {
            Opt::Sgd => sgd.step(0.1, net, grads),
            Opt::Adam => adam.step(1e-3, net, grads),
        };
    }
    Ok(net)
}

/// Trains on `world` ranks; returns rank 0's state after `new` and every rank's final state.
fn data_parallel<B: DeviceBackend>(
    world: usize,
    opt: Opt,
    device: &B::Device,
) -> (State, Vec<State>) {
    let devices = vec![device.clone(); world];
    let out = ThreadGroup::new(world)
        .unwrap()
        .run::<B, _, _, ParallelError>(&devices, |comm| {
            let rank = comm.rank();
            // Each rank initializes its own replica; rank 0's wins.
            let (ddp, net) = DistributedDataParallel::new(comm, lenet::<Autodiff<B>>(10, device))?;
            let initial = state(&net);
            let shard = BATCH / world;
            let net = train(
                net,
                opt,
                rank * shard..(rank + 1) * shard,
                device,
                |net, grads| ddp.average_gradients(net, grads),
            )?;
            Ok((initial, state(&net)))
        })
        .unwrap();
    let initial = out[0].0.clone();
    (initial, out.into_iter().map(|(_, end)| end).collect())
}

/// One rank on the whole batch, from `initial`.
fn single<B: DeviceBackend>(initial: &State, opt: Opt, device: &B::Device) -> State {
    let mut net = lenet::<Autodiff<B>>(10, device);
    load_state_dict(&mut net, initial, Strict::Yes).expect("load rank 0's state");
    state(&train(net, opt, 0..BATCH, device, |_, g| Ok(g)).unwrap())
}

fn assert_states(actual: &State, expected: &State, tol: Tolerance, what: &str) {
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (key, a) in actual {
        tol.check_data(a, &expected[key])
            .unwrap_or_else(|e| panic!("{what}: {key}: {e}"));
    }
}

/// `|a − b| ≤ rel · max|b|` per tensor (widened on TF32 backends as `numerics` derives).
pub(crate) fn assert_relative(
    actual: &State,
    expected: &State,
    rel: f64,
    kind: d2l_device::BackendKind,
    what: &str,
) {
    for (key, b) in expected {
        let values = b
            .clone()
            .convert::<f32>()
            .to_vec::<f32>()
            .unwrap_or_default();
        let scale = values.iter().fold(0f32, |m, v| m.max(v.abs())) as f64;
        let tol = Tolerance::absolute(rel * scale).for_backend(kind, 10);
        let tol = Tolerance::absolute(tol.abs.max(tol.rel * scale));
        tol.check_data(&actual[key], b)
            .unwrap_or_else(|e| panic!("{what}: {key}: {e}"));
    }
}

d2l_device::backend_test! {
    fn k_ranks_on_b_over_k_take_one_ranks_steps_on_b<B>(device) {
        for opt in [Opt::Sgd, Opt::Adam] {
            // One rank through the group and DDP: bit-identical to plain training.
            let (initial, ends) = data_parallel::<B>(1, opt, device);
            assert_states(&ends[0], &single::<B>(&initial, opt, device), Tolerance::absolute(0.0), "k = 1");
            for world in [2, 4] {
                let (initial, ends) = data_parallel::<B>(world, opt, device);
                // Every replica took the same steps.
                for end in &ends[1..] {
                    assert_states(end, &ends[0], Tolerance::absolute(0.0), "replicas");
                }
                // Within 1e-6 relative of one rank on the whole batch (the split only changes
                // the summation order of the batch mean): relative to each tensor's largest
                // value, as Adam's step on a near-zero gradient amplifies rounding.
                let single = single::<B>(&initial, opt, device);
                assert_relative(&ends[0], &single, 1e-6, B::KIND, &format!("k = {world}, {opt:?}"));
            }
        }
    }
}

d2l_device::backend_test! {
    fn replicas_start_from_rank_0s_parameters<B>(device) {
        let devices = vec![device.clone(); 2];
        let states = ThreadGroup::new(2)
            .unwrap()
            .run::<B, _, _, ParallelError>(&devices, |comm| {
                let net = lenet::<Autodiff<B>>(10, device);
                let before = state(&net);
                let (_, net) = DistributedDataParallel::new(comm, net)?;
                Ok((before, state(&net)))
            })
            .unwrap();
        // Independently initialized, then rank 0's everywhere.
        assert_ne!(states[0].0["0.weight"], states[1].0["0.weight"]);
        assert_states(&states[0].1, &states[0].0, Tolerance::absolute(0.0), "rank 0 kept its own");
        assert_states(&states[1].1, &states[0].0, Tolerance::absolute(0.0), "rank 1 got rank 0's");
    }
}

#[test]
fn mismatched_models_are_refused_with_the_first_differing_key() {
    type B = burn::backend::NdArray;
    let device = Default::default();
    let err = ThreadGroup::new(3)
        .unwrap()
        .run::<B, _, _, ParallelError>(&[device; 3], |comm| {
            let classes = if comm.rank() == 2 { 9 } else { 10 };
            DistributedDataParallel::new(comm, lenet::<Autodiff<B>>(classes, &device)).map(drop)
        })
        .unwrap_err();
    // The last linear layer's weight, the first key whose shape depends on the classes.
    let last = lenet::<B>(10, &device)
        .state_dict()
        .iter()
        .find(|v| v.shape() == [10, 84])
        .map(|v| v.key().to_owned())
        .unwrap();
    assert_eq!(
        err,
        ParallelError::ModelMismatch {
            rank: 2,
            key: last,
            expected: "shape [10, 84]".into(),
            actual: "shape [9, 84]".into(),
        }
    );
}

#[test]
fn lazy_layers_without_an_input_are_refused() {
    type B = burn::backend::NdArray;
    let device = Default::default();
    let err = ThreadGroup::new(2)
        .unwrap()
        .run::<B, _, _, ParallelError>(&[device; 2], |comm| {
            let net = LeNetConfig::new(10).init::<Autodiff<B>>(&device);
            let (ddp, _) = DistributedDataParallel::new(comm, net)?;
            Ok(ddp.rank())
        })
        .unwrap_err();
    assert_eq!(
        err,
        ParallelError::Uninitialized {
            path: "0.weight".into()
        }
    );
}
