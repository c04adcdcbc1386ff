//! D2L §5.3 "Lazy Initialization": a network whose input widths are inferred on first use.
//!
//! Run: `cargo run --example sec5_3_deferred_init`.

use burn::nn::Relu;
use burn::tensor::{Distribution, Tensor};
use d2l::blocks::Sequential;
use d2l::device::backend::DeviceBackend;
use d2l::layers::{LazyLinear, parameter_shapes};
use d2l::params::{Init, Parameters};

d2l::main!(section);

/// Every cell of §5.3, generic over the backend.
pub fn section<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    println!("## 5.3 Lazy Initialization — backend: {}", B::KIND);
    d2l::cell("lazy_net"); // ANCHOR: lazy_net
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
    println!("before the first forward: {}", shapes(&net));
    assert_eq!(
        parameter_shapes(&net)[0],
        ("0.weight".to_owned(), vec![256, -1])
    );
    println!(
        "named_parameters() = {} (nothing to train yet)",
        net.named_parameters().len()
    );
    // ANCHOR_END: lazy_net
    assert!(net.named_parameters().is_empty());

    d2l::cell("first_forward"); // ANCHOR: first_forward
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
    // ANCHOR_END: first_forward
    Ok(())
}

fn shapes<B: burn::tensor::backend::Backend>(net: &Sequential<B>) -> String {
    let items: Vec<String> = parameter_shapes(net)
        .iter()
        .map(|(k, s)| format!("{k}: {s:?}"))
        .collect();
    items.join(", ")
}
