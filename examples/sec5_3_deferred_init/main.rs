//! D2L §5.3 "Lazy Initialization": a network whose input widths are inferred on first use.
//!
//! Run: `cargo run --example sec5_3_deferred_init`.

use burn::nn::Relu;
use burn::tensor::{Distribution, Tensor};
use d2l::blocks::Sequential;
use d2l::device::backend::{BackendTask, DeviceBackend};
use d2l::layers::{LazyLinear, parameter_shapes};
use d2l::params::{Init, Parameters};

/// Every cell of §5.3, generic over the backend.
pub struct Section;

fn shapes<B: burn::tensor::backend::Backend>(net: &Sequential<B>) -> String {
    let items: Vec<String> = parameter_shapes(net)
        .iter()
        .map(|(k, s)| format!("{k}: {s:?}"))
        .collect();
    items.join(", ")
}

impl BackendTask for Section {
    type Output = d2l::Result;

    fn run<B: DeviceBackend>(self, device: &B::Device) -> d2l::Result {
        println!("## 5.3 Lazy Initialization — backend: {}", B::KIND);
        let first = LazyLinear::<B>::new(256).with_init(
            Some(Init::Normal {
                mean: 0.0,
                std: 0.01,
            }),
            Some(Init::Zeros),
        )?;
        let net = Sequential::<B>::new()
            .add(first)
            .add(Relu::new())
            .add(LazyLinear::new(10));
        println!("{net}");
        // net[0].weight: <UninitializedParameter>
        println!("before the first forward: {}", shapes(&net));
        assert_eq!(
            parameter_shapes(&net)[0],
            ("0.weight".to_owned(), vec![256, -1])
        );
        println!(
            "named_parameters() = {} (nothing to train yet)",
            net.named_parameters().len()
        );
        assert!(net.named_parameters().is_empty());

        let x = Tensor::<B, 2>::random([2, 20], Distribution::Uniform(0.0, 1.0), device);
        let y = net.forward(x)?;
        println!("net(X).shape = {:?}", y.dims());
        println!("after: {}", shapes(&net));
        let w = net.param("0.weight")?;
        println!("net[0].weight.shape = {:?}", w.shape());
        assert_eq!(w.shape(), [256, 20]);
        assert!(
            net.param("0.bias")?.data().iter::<f32>().all(|b| b == 0.0),
            "the initializer chosen before ran at materialization"
        );
        println!("{net}");
        Ok(())
    }
}

#[allow(dead_code)]
fn main() -> d2l::Result {
    d2l::run(Section)
}
