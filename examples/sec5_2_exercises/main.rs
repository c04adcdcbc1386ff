//! D2L §5.2 exercises: NestMLP's parameter names; training an MLP with a tied layer.
//!
//! Run: `cargo run --example sec5_2_exercises`.

use burn::backend::Autodiff;
use burn::nn::{LinearConfig, Relu};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::{Distribution, Tensor};
use d2l::blocks::book::NestMlp;
use d2l::blocks::{Sequential, Shared};
use d2l::device::backend::{BackendTask, DeviceBackend, run_selected};
use d2l::params::Parameters;

/// The §5.2 exercises, generic over the backend.
pub struct Exercises;

fn norm(values: &[f32]) -> f32 {
    values.iter().map(|v| v * v).sum::<f32>().sqrt()
}

impl BackendTask for Exercises {
    type Output = ();

    fn run<B: DeviceBackend>(self, device: &B::Device) {
        println!("## 5.2 exercises — backend: {}", B::KIND);
        // 1. Parameters of the nested blocks of §5.1.
        let nest = Sequential::<B>::new().add(NestMlp::new(device));
        for p in nest.named_parameters() {
            println!("1. {:<18} {:?}", p.key(), p.shape());
        }

        // 3. Train an MLP with a shared layer; watch per-layer parameter and gradient norms.
        type Ad<B> = Autodiff<B>;
        B::seed(device, 1);
        let shared = Shared::new(LinearConfig::new(8, 8).init::<Ad<B>>(device));
        let mut net = Sequential::<Ad<B>>::new()
            .add(LinearConfig::new(4, 8).init(device))
            .add(Relu::new())
            .add(shared.clone())
            .add(Relu::new())
            .add(shared.clone())
            .add(Relu::new())
            .add(LinearConfig::new(8, 1).init(device));
        let x = Tensor::<Ad<B>, 2>::random([64, 4], Distribution::Normal(0.0, 1.0), device);
        let w_true = Tensor::<Ad<B>, 2>::from_floats([[2.0], [-3.4], [1.0], [0.5]], device);
        let y = x.clone().matmul(w_true) + 4.2;
        let mut optim = SgdConfig::new().init();
        println!("3. epoch  loss      ‖2.weight‖  ‖∇2.weight‖  ‖0.weight‖  ‖∇0.weight‖  tied");
        for epoch in 1..=5 {
            let Ok(pred) = net.forward_tensor::<2, 2>(x.clone()) else { return };
            let loss = (pred - y.clone()).powi_scalar(2).mean();
            let loss_value = loss.clone().into_data().to_vec::<f32>().unwrap_or_default()[0];
            let grads = loss.backward();
            let sd = net.state_dict();
            let value = |k: &str| norm(&sd[k].data().to_vec::<f32>().unwrap_or_default());
            let grad = |k: &str| sd[k].grad(&grads).map(|g| norm(&g.to_vec::<f32>().unwrap_or_default())).unwrap_or(0.0);
            let tied = sd["2.weight"].data() == sd["4.weight"].data();
            println!(
                "   {epoch:>5}  {loss_value:<8.4}  {:<10.4}  {:<11.4}  {:<10.4}  {:<11.4}  {tied}",
                value("2.weight"), grad("2.weight"), value("0.weight"), grad("0.weight")
            );
            let grads = GradientsParams::from_grads(grads, &net);
            net = optim.step(0.05, net, grads);
        }
        println!("   the shared layer gets one gradient (the sum of both uses) and one update per step.");
    }
}

#[allow(dead_code)]
fn main() {
    if let Err(err) = run_selected(Exercises) {
        eprintln!("sec5_2_exercises: {err}");
        std::process::exit(1);
    }
}
