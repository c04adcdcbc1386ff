//! D2L §5.2 exercises: NestMLP's parameter names; training an MLP with a tied layer.
//!
//! Run: `cargo run --example sec5_2_exercises`.

use burn::backend::Autodiff;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::{Distribution, ElementConversion, Tensor, TensorData};
use d2l::blocks::Sequential;
use d2l::blocks::book::{NestMlp, tied};
use d2l::device::backend::DeviceBackend;
use d2l::params::Parameters;

d2l::main!(exercises);

/// The §5.2 exercises, generic over the backend.
pub fn exercises<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    println!("## 5.2 exercises — backend: {}", B::KIND);
    // 1. Parameters of the nested blocks of §5.1.
    d2l::cell("ex1"); // ANCHOR: ex1
    let nest = Sequential::<B>::new().add(NestMlp::new(device));
    let keys: Vec<String> = nest
        .named_parameters()
        .iter()
        .map(|p| p.key().to_owned())
        .collect();
    for p in nest.named_parameters() {
        println!("1. {:<18} {:?}", p.key(), p.shape());
    }
    assert_eq!(
        keys,
        [
            "0.net.0.weight",
            "0.net.0.bias",
            "0.net.2.weight",
            "0.net.2.bias",
            "0.linear.weight",
            "0.linear.bias"
        ]
    );
    // ANCHOR_END: ex1

    // 3. Train an MLP with a shared layer; watch per-layer parameter and gradient norms.
    d2l::cell("ex3"); // ANCHOR: ex3
    type Ad<B> = Autodiff<B>;
    B::seed(device, 1);
    let (mut net, _shared) = tied::<Ad<B>>(device);
    let x = Tensor::<Ad<B>, 2>::random([64, 4], Distribution::Normal(0.0, 1.0), device);
    let w_true = Tensor::<Ad<B>, 2>::from_floats([[2.0], [-3.4], [1.0], [0.5]], device);
    let y = x.clone().matmul(w_true) + 4.2;
    let mut optim = SgdConfig::new().init();
    let mut losses = Vec::new();
    println!("3. epoch  loss      ‖2.weight‖  ‖∇2.weight‖  ‖0.weight‖  ‖∇0.weight‖  tied");
    for epoch in 1..=5 {
        let pred = net.forward(x.clone())?;
        let loss = (pred - y.clone()).powi_scalar(2).mean();
        let loss_value: f32 = loss.clone().into_scalar().elem();
        let grads = loss.backward();
        let sd = net.state_dict();
        let grad = |k: &str| -> d2l::Result<f32> {
            Ok(sd.get(k)?.grad(&grads).map(|g| norm(&g)).unwrap_or(0.0))
        };
        let tied = sd.get("2.weight")?.data() == sd.get("4.weight")?.data();
        println!(
            "   {epoch:>5}  {loss_value:<8.4}  {:<10.4}  {:<11.4}  {:<10.4}  {:<11.4}  {tied}",
            norm(&sd.get("2.weight")?.data()),
            grad("2.weight")?,
            norm(&sd.get("0.weight")?.data()),
            grad("0.weight")?
        );
        assert!(tied, "the shared layer must stay one parameter");
        assert_eq!(
            grad("2.weight")?,
            grad("4.weight")?,
            "one gradient for both positions"
        );
        losses.push(loss_value);
        let grads = GradientsParams::from_grads(grads, &net);
        net = optim.step(0.05, net, grads);
    }
    println!(
        "   the shared layer gets one gradient (the sum of both uses) and one update per step."
    );
    assert!(
        losses.last() < losses.first(),
        "training lowers the loss: {losses:?}"
    );
    // ANCHOR_END: ex3
    Ok(())
}

fn norm(data: &TensorData) -> f32 {
    data.iter::<f32>().map(|v| v * v).sum::<f32>().sqrt()
}
