//! D2L §5.3 "Lazy Initialization": a network whose input widths are inferred on first use.
//!
//! Run: `cargo run --example sec5_3_deferred_init`.

use burn::nn::Relu;
use burn::tensor::{Distribution, Tensor};
use d2l::blocks::Sequential;
use d2l::device::backend::{BackendTask, DeviceBackend, run_selected};
use d2l::layers::{LazyLinear, parameter_shapes};
use d2l::params::{Init, Parameters};

/// Every cell of §5.3, generic over the backend.
pub struct Section;

fn shapes<B: burn::tensor::backend::Backend>(net: &Sequential<B>) -> String {
    let items: Vec<String> = parameter_shapes(net).iter().map(|(k, s)| format!("{k}: {s:?}")).collect();
    items.join(", ")
}

impl BackendTask for Section {
    type Output = ();

    fn run<B: DeviceBackend>(self, device: &B::Device) {
        println!("## 5.3 Lazy Initialization — backend: {}", B::KIND);
        let first = LazyLinear::<B>::new(256).with_init(Some(Init::Normal { mean: 0.0, std: 0.01 }), Some(Init::Zeros));
        let Ok(first) = first else { return };
        let net = Sequential::<B>::new().add(first).add(Relu::new()).add(LazyLinear::new(10));
        println!("{net}");
        println!("before the first forward: {}", shapes(&net));
        println!("named_parameters() = {:?} (nothing to train yet)", net.named_parameters().len());
        let x = Tensor::<B, 2>::random([2, 20], Distribution::Uniform(0.0, 1.0), device);
        match net.forward(x) {
            Ok(y) => println!("net(X).shape = {:?}", y.shape()),
            Err(err) => println!("error: {err}"),
        }
        println!("after: {}", shapes(&net));
        println!("net[0].weight.shape = {:?}", net.state_dict()["0.weight"].shape());
        println!("{net}");
    }
}

#[allow(dead_code)]
fn main() {
    if let Err(err) = run_selected(Section) {
        eprintln!("sec5_3_deferred_init: {err}");
        std::process::exit(1);
    }
}
