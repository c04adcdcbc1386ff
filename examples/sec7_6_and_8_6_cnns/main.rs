//! Past chapter 5: the book's LeNet (§7.6) and ResNet-18 (§8.6) built from the same blocks —
//! lazy convolutions and batch norm, the layer summary, a few SGD steps on synthetic data,
//! train and eval modes, a removable forward hook on a named module, and a PyTorch-format checkpoint round trip.
//!
//! Run: `cargo run --release --example sec7_6_and_8_6_cnns`.

use burn::backend::Autodiff;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::{Distribution, Int, Tensor, TensorData};
use std::sync::{Arc, Mutex};

use d2l::blocks::hooks;
use d2l::device::backend::DeviceBackend;
use d2l::layers::models::{LeNetConfig, ResNetConfig, init_cnn};
use d2l::layers::parameter_shapes;
use d2l::params::Parameters;

d2l::main!(section);

/// The cells, generic over the backend.
pub fn section<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    println!("## 7.6 LeNet — backend: {}", B::KIND);
    B::seed(device, 0);
    type AB<B> = Autodiff<B>;
    d2l::cell("lenet"); // ANCHOR: lenet
    let mut net = LeNetConfig::new(10).init::<AB<B>>(device);
    println!("{net}");
    assert_eq!(
        parameter_shapes(&net)[0],
        ("0.weight".to_owned(), vec![6, -1, 5, 5])
    );
    // ANCHOR_END: lenet
    // The book's layer_summary: the lazy layers infer their shapes on the way.
    d2l::cell("lenet_summary"); // ANCHOR: lenet_summary
    let x = Tensor::<AB<B>, 4>::random([1, 1, 28, 28], Distribution::Default, device);
    let summary = net.layer_summary(x)?;
    for layer in &summary {
        println!("{layer}");
    }
    assert_eq!(summary[0].shape, [1, 6, 28, 28]);
    assert_eq!(summary[5].shape, [1, 16, 5, 5]);
    assert_eq!(summary[11].shape, [1, 10]);
    let initialized = init_cnn(&mut net)?;
    assert_eq!(initialized, 5); // two convolutions, three linear layers
    // ANCHOR_END: lenet_summary

    // A few SGD steps on one synthetic batch: the loss goes down.
    d2l::cell("lenet_train"); // ANCHOR: lenet_train
    let x = Tensor::<AB<B>, 4>::random([8, 1, 28, 28], Distribution::Default, device);
    let labels: Vec<i64> = (0..8).collect();
    let y = Tensor::<AB<B>, 1, Int>::from_data(TensorData::new(labels, [8]), device);
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut optim = SgdConfig::new().init();
    let mut losses = Vec::new();
    for _ in 0..12 {
        let loss = loss_fn.forward(net.forward_tensor::<4, 2>(x.clone())?, y.clone());
        losses.push(loss.clone().into_data().convert::<f32>().to_vec::<f32>()?[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(0.1, net, grads);
    }
    println!("loss over {} steps: {losses:?}", losses.len());
    assert!(losses.iter().all(|l| l.is_finite()) && losses[11] < losses[0]);
    // ANCHOR_END: lenet_train

    println!("\n## 8.6 ResNet-18 — backend: {}", B::KIND);
    d2l::cell("resnet_summary"); // ANCHOR: resnet_summary
    let config = ResNetConfig::resnet18(10);
    let mut net = config.init::<AB<B>>(device);
    net.eval(); // the summary below must not move the running statistics
    let x = Tensor::<AB<B>, 4>::random([1, 1, 96, 96], Distribution::Default, device);
    let summary = net.layer_summary(x.clone())?;
    for layer in &summary {
        println!("{layer}");
    }
    let shapes: Vec<Vec<usize>> = summary.iter().map(|l| l.shape.clone()).collect();
    assert_eq!(
        shapes,
        [
            vec![1, 64, 24, 24],
            vec![1, 64, 24, 24],
            vec![1, 128, 12, 12],
            vec![1, 256, 6, 6],
            vec![1, 512, 3, 3],
            vec![1, 10]
        ]
    );
    // ANCHOR_END: resnet_summary
    d2l::cell("resnet_block"); // ANCHOR: resnet_block
    println!("{}", &net[1]);
    let params: usize = net.named_parameters().iter().map(|p| p.numel()).sum();
    let buffers = net.named_buffers().len();
    println!("{params} parameters, {buffers} buffers (running statistics, batch counts)");
    assert_eq!(buffers, 3 * 17); // 17 batch norms: the stem and two per residual block
    // ANCHOR_END: resnet_block

    // A forward hook on a module by its PyTorch name (`register_forward_hook`), removed
    // by its handle.
    d2l::cell("hook"); // ANCHOR: hook
    let seen = Arc::new(Mutex::new(None));
    let sink = Arc::clone(&seen);
    let handle = hooks::register_forward_hook(&net, "b3.0.conv3", move |_, y| {
        *sink
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(y.shape());
        None
    })?;
    let y_eval = net.forward_tensor::<4, 2>(x.clone())?;
    handle.remove();
    let shortcut = seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .take();
    println!("b3.0.conv3 output shape: {shortcut:?}");
    assert_eq!(shortcut, Some(vec![1, 128, 12, 12]));
    // ANCHOR_END: hook

    // One training step moves the running statistics; eval mode does not.
    d2l::cell("train_step"); // ANCHOR: train_step
    net.train();
    let batch = Tensor::<AB<B>, 4>::random([1, 1, 96, 96], Distribution::Default, device);
    net.forward_tensor::<4, 2>(batch)?;
    let tracked = net.state_dict()["0.1.num_batches_tracked"].data();
    println!("0.1.num_batches_tracked = {tracked}");
    assert_eq!(tracked.to_vec::<i64>()?, [1]);
    // ANCHOR_END: train_step

    // A PyTorch-format checkpoint (safetensors, PyTorch keys, buffers included) round trip
    // into a fresh lazy network, which takes its shapes from the file.
    d2l::cell("checkpoint"); // ANCHOR: checkpoint
    let path = std::env::temp_dir().join(format!("resnet18-{}.safetensors", std::process::id()));
    d2l::io::save_state(&path, &net)?;
    let mut clone = config.init::<AB<B>>(device);
    let report = d2l::io::load_state(&path, &mut clone, true)?;
    std::fs::remove_file(&path)?;
    println!("loaded {} tensors strictly", report.loaded.len());
    net.eval();
    clone.eval();
    let (a, b) = (
        net.forward_tensor::<4, 2>(x.clone())?,
        clone.forward_tensor::<4, 2>(x)?,
    );
    assert_eq!(a.into_data(), b.into_data());
    assert_eq!(y_eval.dims(), [1, 10]);
    println!("the reloaded network computes the same outputs");
    // ANCHOR_END: checkpoint
    Ok(())
}
