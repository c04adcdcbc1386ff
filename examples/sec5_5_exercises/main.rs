//! D2L §5.5 exercises: what stored parameters are good for (resuming training, bit for bit),
//! reusing the first two layers of a trained network in another architecture, and saving the
//! architecture with the parameters.
//!
//! Run: `cargo run --example sec5_5_exercises`.

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn::nn::{LinearConfig, Relu};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::{Distribution, ElementConversion, Tensor};
use d2l::blocks::Sequential;
use d2l::device::backend::DeviceBackend;
use d2l::io::{
    load_model, load_optimizer, load_state, load_tensors, rename_prefix, save_model,
    save_optimizer, save_state, state_tensors,
};
use d2l::params::{Strict, load_state_dict};

d2l::main!(exercises);

/// The §5.5 exercises, generic over the backend.
pub fn exercises<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    type Ad<B> = Autodiff<B>;
    println!("## 5.5 exercises — backend: {}", B::KIND);
    let dir = std::env::temp_dir().join(format!("d2l-sec5_5x-{}-{}", B::KIND, std::process::id()));
    std::fs::create_dir_all(&dir)?;
    B::seed(device, 5);
    let x = Tensor::<Ad<B>, 2>::random([32, 4], Distribution::Normal(0.0, 1.0), device);
    let y = x.clone().sum_dim(1).sin();
    let train = |mut net: Sequential<Ad<B>>,
                 adam: &mut dyn FnMut(Sequential<Ad<B>>, GradientsParams) -> Sequential<Ad<B>>,
                 steps: usize|
     -> d2l::Result<(Sequential<Ad<B>>, f32)> {
        let mut last = f32::NAN;
        for _ in 0..steps {
            let loss = (net.forward(x.clone())? - y.clone()).powi_scalar(2).mean();
            last = loss.clone().into_scalar().elem();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = adam(net, grads);
        }
        Ok((net, last))
    };

    // 1. Stored parameters (and optimizer state) let training stop and resume exactly.
    d2l::cell("ex1"); // ANCHOR: ex1
    let start = mlp::<Ad<B>>(device);
    let mut adam = AdamConfig::new().init();
    let (straight, loss) = train(start.clone(), &mut |n, g| adam.step(1e-2, n, g), 20)?;
    println!("1. 20 steps in one go: loss {loss:.5}");
    let mut adam = AdamConfig::new().init();
    let (half, _) = train(start, &mut |n, g| adam.step(1e-2, n, g), 10)?;
    save_state(dir.join("half.safetensors"), &half)?;
    save_optimizer(dir.join("half.adam"), adam.to_record(), &half)?;
    // A fresh process would start here: new model, new optimizer, both loaded by name.
    let mut resumed = mlp::<Ad<B>>(device);
    load_state(dir.join("half.safetensors"), &mut resumed, true)?;
    let mut adam = AdamConfig::new().init().load_record(load_optimizer(
        dir.join("half.adam"),
        &resumed,
        device,
    )?);
    let (resumed, loss) = train(resumed, &mut |n, g| adam.step(1e-2, n, g), 10)?;
    let identical = state_tensors(&resumed.valid()) == state_tensors(&straight.valid());
    println!(
        "   10 steps, save, load into a fresh model and optimizer, 10 more: loss {loss:.5}; parameters bit-identical: {identical}"
    );
    assert!(
        identical,
        "resuming from the checkpoint must reproduce the uninterrupted run"
    );
    // ANCHOR_END: ex1

    // 2. The first two layers of a trained network in a new architecture.
    d2l::cell("ex2"); // ANCHOR: ex2
    let trained = straight.valid();
    save_state(dir.join("trained.safetensors"), &trained)?;
    let body = Sequential::new()
        .add(LinearConfig::new(4, 8).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(8, 8).init(device));
    let mut new_net = Sequential::<B>::new()
        .add_named("body", body)?
        .add(LinearConfig::new(8, 3).init(device));
    let file = load_tensors(dir.join("trained.safetensors"))?;
    let mut taken = rename_prefix(&file, "0", "body.0");
    taken.extend(rename_prefix(&file, "2", "body.2"));
    let report = load_state_dict(&mut new_net, &taken, Strict::No)?;
    println!("2. {new_net}");
    println!(
        "   taken: {:?}; left as initialized: {:?}",
        report.loaded, report.missing
    );
    assert_eq!(
        report.loaded,
        [
            "body.0.weight",
            "body.0.bias",
            "body.2.weight",
            "body.2.bias"
        ]
    );
    assert_eq!(report.missing, ["1.weight", "1.bias"]);
    // ANCHOR_END: ex2

    // 3. Architecture and parameters in one file, for block types a registry knows.
    d2l::cell("ex3"); // ANCHOR: ex3
    let registry = d2l::chapter_registry::<B>();
    save_model(dir.join("model.safetensors"), &new_net, &registry)?;
    let rebuilt = load_model(dir.join("model.safetensors"), &registry, device)?;
    let x = Tensor::<B, 2>::random([2, 4], Distribution::Normal(0.0, 1.0), device);
    let same = rebuilt.forward(x.clone())?.into_data() == new_net.forward(x)?.into_data();
    println!("3. rebuilt from the file alone:\n{rebuilt}\n   same outputs: {same}");
    assert!(same);
    let odd = Sequential::<B>::new().add(d2l::blocks::book::FixedHiddenMlp::new(device));
    let err =
        save_model(dir.join("odd.safetensors"), &odd, &registry).expect_err("an unregistered type");
    println!(
        "   the restriction: every block must be of a registered type, rebuilt from its configuration\n   (no ties, no state outside parameters): {err}"
    );

    std::fs::remove_dir_all(&dir)?;
    // ANCHOR_END: ex3
    Ok(())
}

fn mlp<B: burn::tensor::backend::Backend>(device: &B::Device) -> Sequential<B> {
    Sequential::new()
        .add(LinearConfig::new(4, 8).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(8, 8).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(8, 1).init(device))
}
