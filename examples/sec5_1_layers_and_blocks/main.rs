//! D2L §5.1 "Layers and Modules": Sequential, a custom MLP, MySequential, FixedHiddenMLP, chimera.
//!
//! Run: `cargo run --example sec5_1_layers_and_blocks` (see `examples/README.md` for backends).

use burn::nn::{LinearConfig, Relu};
use burn::tensor::{Distribution, Tensor};
use d2l::blocks::book::{FixedHiddenMlp, Mlp, MySequential, chimera};
use d2l::blocks::{BlockError, Sequential};
use d2l::device::backend::DeviceBackend;
use d2l::print::torch_repr;

d2l::main!(section);

/// Every cell of §5.1, generic over the backend.
pub fn section<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    println!("## 5.1 Layers and Modules — backend: {}", B::KIND);
    B::seed(device, 0);
    d2l::cell("sequential"); // ANCHOR: sequential
    let x = Tensor::<B, 2>::random([2, 20], Distribution::Uniform(0.0, 1.0), device);

    let net = Sequential::<B>::new()
        .add(LinearConfig::new(20, 256).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(256, 10).init(device));
    println!("{net}");
    let y = net.forward(x.clone())?;
    println!("net(X).shape = {:?}", y.dims());
    assert_eq!(y.dims(), [2, 10]);
    // ANCHOR_END: sequential

    // 5.1.1 A custom block.
    d2l::cell("mlp"); // ANCHOR: mlp
    let mlp = Sequential::<B>::new().add(Mlp::new(device));
    println!("{}", &mlp[0]);
    let y = mlp.forward(x.clone())?;
    println!("MLP()(X).shape = {:?}", y.dims());
    assert_eq!(y.dims(), [2, 10]);
    // ANCHOR_END: mlp

    // 5.1.2 The sequential block, by hand.
    d2l::cell("my_sequential"); // ANCHOR: my_sequential
    let mine = MySequential::<B>::new()
        .add(LinearConfig::new(20, 256).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(256, 10).init(device));
    let y = mine.forward(x.clone())?;
    println!("MySequential(X).shape = {:?}", y.shape());
    assert_eq!(y.shape(), [2, 10]);
    // ANCHOR_END: my_sequential

    // 5.1.3 Executing code in the forward propagation method: a scalar comes out.
    d2l::cell("fixed_hidden"); // ANCHOR: fixed_hidden
    let fixed = Sequential::<B>::new().add(FixedHiddenMlp::new(device));
    let y = fixed.forward_tensor::<2, 1>(x.clone())?;
    println!("FixedHiddenMLP()(X) = {}", torch_repr(&y));
    assert_eq!(y.dims(), [1]);
    // ANCHOR_END: fixed_hidden

    // Mixing and nesting blocks.
    d2l::cell("chimera"); // ANCHOR: chimera
    let chimera = chimera::<B>(device);
    println!("{chimera}");
    let y = chimera.forward_tensor::<2, 1>(x.clone())?;
    println!("chimera(X) = {}", torch_repr(&y));
    // ANCHOR_END: chimera

    // A width mismatch is an error that names the layer, never a panic.
    d2l::cell("width_error"); // ANCHOR: width_error
    let err = chimera
        .forward_tensor::<2, 1>(x.slice([0..2, 0..16]))
        .expect_err("16 features into Linear(20, 64)");
    println!("chimera(X[:, :16]) -> error: {err}");
    assert_eq!(
        err,
        BlockError::Width {
            path: "0.net.0".into(),
            expected: 20,
            actual: vec![2, 16]
        }
    );
    // ANCHOR_END: width_error
    Ok(())
}
