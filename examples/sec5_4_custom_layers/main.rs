//! D2L §5.4 "Custom Layers": CenteredLayer (no parameters) and MyLinear (its own parameters).
//!
//! Run: `cargo run --example sec5_4_custom_layers`.

use burn::tensor::{Distribution, Tensor};
use d2l::blocks::Sequential;
use d2l::device::backend::{BackendTask, DeviceBackend, run_selected};
use d2l::layers::{CenteredLayer, LazyLinear, MyLinear};
use d2l::params::Parameters;
use d2l::print::torch_repr;

/// Every cell of §5.4, generic over the backend.
pub struct Section;

impl BackendTask for Section {
    type Output = ();

    fn run<B: DeviceBackend>(self, device: &B::Device) {
        println!("## 5.4 Custom Layers — backend: {}", B::KIND);
        B::seed(device, 0);
        // 5.4.1 Layers without parameters.
        let layer = Sequential::<B>::new().add(CenteredLayer::new());
        if let Ok(y) = layer.forward_tensor::<1, 1>(Tensor::from_floats([1.0, 2.0, 3.0, 4.0, 5.0], device)) {
            println!("layer([1, 2, 3, 4, 5]) = {}", torch_repr(&y));
        }
        let net = Sequential::<B>::new().add(LazyLinear::new(128)).add(CenteredLayer::new());
        if let Ok(y) = net.forward_tensor::<2, 2>(Tensor::random([4, 8], Distribution::Uniform(0.0, 1.0), device)) {
            let mean: f32 = y.mean().into_data().to_vec::<f32>().unwrap_or_default()[0];
            println!("Y.mean() = {mean:e}");
        }

        // 5.4.2 Layers with parameters.
        let linear = Sequential::<B>::new().add(MyLinear::new(5, 3, device));
        println!("linear.weight = {}", linear[0].state_dict()["weight"]);
        if let Ok(y) = linear.forward_tensor::<2, 2>(Tensor::random([2, 5], Distribution::Uniform(0.0, 1.0), device)) {
            println!("linear(X) = {}", torch_repr(&y));
        }
        let net = Sequential::<B>::new().add(MyLinear::new(64, 8, device)).add(MyLinear::new(8, 1, device));
        if let Ok(y) = net.forward_tensor::<2, 2>(Tensor::random([2, 64], Distribution::Uniform(0.0, 1.0), device)) {
            println!("net(X) = {}", torch_repr(&y));
        }
        println!("{net}");
    }
}

#[allow(dead_code)]
fn main() {
    if let Err(err) = run_selected(Section) {
        eprintln!("sec5_4_custom_layers: {err}");
        std::process::exit(1);
    }
}
