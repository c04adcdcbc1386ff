//! D2L §5.4 "Custom Layers": CenteredLayer (no parameters) and MyLinear (its own parameters).
//!
//! Run: `cargo run --example sec5_4_custom_layers`.

use burn::tensor::{Distribution, ElementConversion, Tensor};
use d2l::blocks::Sequential;
use d2l::device::backend::DeviceBackend;
use d2l::layers::{CenteredLayer, LazyLinear, MyLinear};
use d2l::params::Parameters;
use d2l::print::torch_repr;

d2l::main!(section);

/// Every cell of §5.4, generic over the backend.
pub fn section<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    println!("## 5.4 Custom Layers — backend: {}", B::KIND);
    B::seed(device, 0);
    // 5.4.1 Layers without parameters.
    d2l::cell("centered"); // ANCHOR: centered
    let layer = Sequential::<B>::new().add(CenteredLayer::new());
    let y = layer.forward(Tensor::<B, 1>::from_floats(
        [1.0, 2.0, 3.0, 4.0, 5.0],
        device,
    ))?;
    println!(
        "layer(torch.tensor([1.0, 2, 3, 4, 5])) = {}",
        torch_repr(&y)
    );
    assert_eq!(
        y.to_data().iter::<f32>().collect::<Vec<_>>(),
        [-2.0, -1.0, 0.0, 1.0, 2.0]
    );
    // ANCHOR_END: centered
    d2l::cell("centered_net"); // ANCHOR: centered_net
    let net = Sequential::<B>::new()
        .add(LazyLinear::new(128))
        .add(CenteredLayer::new());
    let y = net.forward(Tensor::<B, 2>::random(
        [4, 8],
        Distribution::Uniform(0.0, 1.0),
        device,
    ))?;
    let mean: f32 = y.mean().into_scalar().elem();
    println!("Y.mean() = {mean:e}");
    assert!(
        mean.abs() < 1e-5,
        "a centered output has mean 0, got {mean}"
    );
    // ANCHOR_END: centered_net

    // 5.4.2 Layers with parameters.
    d2l::cell("my_linear"); // ANCHOR: my_linear
    let linear = Sequential::<B>::new().add(MyLinear::new(5, 3, device));
    let weight = linear[0].state_dict().get("weight")?.clone();
    println!("linear.weight = {weight}");
    assert_eq!(weight.shape(), [5, 3]);
    // ANCHOR_END: my_linear
    d2l::cell("my_linear_forward"); // ANCHOR: my_linear_forward
    let y = linear.forward(Tensor::<B, 2>::random(
        [2, 5],
        Distribution::Uniform(0.0, 1.0),
        device,
    ))?;
    println!("linear(torch.rand(2, 5)) = {}", torch_repr(&y));
    assert!(
        y.to_data().iter::<f32>().all(|v| v >= 0.0),
        "MyLinear ends in a ReLU"
    );
    // ANCHOR_END: my_linear_forward
    d2l::cell("my_linear_net"); // ANCHOR: my_linear_net
    let net = Sequential::<B>::new()
        .add(MyLinear::new(64, 8, device))
        .add(MyLinear::new(8, 1, device));
    let y = net.forward(Tensor::<B, 2>::random(
        [2, 64],
        Distribution::Uniform(0.0, 1.0),
        device,
    ))?;
    println!("net(torch.rand(2, 64)) = {}", torch_repr(&y));
    assert_eq!(y.dims(), [2, 1]);
    println!("{net}");
    // ANCHOR_END: my_linear_net
    Ok(())
}
