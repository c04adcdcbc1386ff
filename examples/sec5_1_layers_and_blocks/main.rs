//! D2L §5.1 "Layers and Modules": Sequential, a custom MLP, MySequential, FixedHiddenMLP, chimera.
//!
//! Run: `cargo run --example sec5_1_layers_and_blocks` (see `examples/README.md` for backends).

use burn::nn::{LinearConfig, Relu};
use burn::tensor::{Distribution, Tensor};
use d2l::blocks::book::{FixedHiddenMlp, Mlp, MySequential, chimera};
use d2l::blocks::{BlockError, Sequential};
use d2l::device::backend::{BackendTask, DeviceBackend};
use d2l::print::torch_repr;

/// Every cell of §5.1, generic over the backend.
pub struct Section;

impl BackendTask for Section {
    type Output = d2l::Result;

    fn run<B: DeviceBackend>(self, device: &B::Device) -> d2l::Result {
        println!("## 5.1 Layers and Modules — backend: {}", B::KIND);
        B::seed(device, 0);
        let x = Tensor::<B, 2>::random([2, 20], Distribution::Uniform(0.0, 1.0), device);

        // net = nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))
        let net = Sequential::<B>::new()
            .add(LinearConfig::new(20, 256).init(device))
            .add(Relu::new())
            .add(LinearConfig::new(256, 10).init(device));
        println!("{net}");
        let y = net.forward(x.clone())?;
        println!("net(X).shape = {:?}", y.dims());
        assert_eq!(y.dims(), [2, 10]);

        // 5.1.1 A custom block.
        let mlp = Sequential::<B>::new().add(Mlp::new(device));
        println!("{}", &mlp[0]);
        let y = mlp.forward(x.clone())?;
        println!("MLP()(X).shape = {:?}", y.dims());
        assert_eq!(y.dims(), [2, 10]);

        // 5.1.2 The sequential block, by hand.
        let mine = MySequential::<B>::new()
            .add(LinearConfig::new(20, 256).init(device))
            .add(Relu::new())
            .add(LinearConfig::new(256, 10).init(device));
        let y = mine.forward(x.clone())?;
        println!("MySequential(X).shape = {:?}", y.shape());
        assert_eq!(y.shape(), [2, 10]);

        // 5.1.3 Executing code in the forward propagation method: a scalar comes out.
        let fixed = Sequential::<B>::new().add(FixedHiddenMlp::new(device));
        let y = fixed.forward_tensor::<2, 1>(x.clone())?;
        println!("FixedHiddenMLP()(X) = {}", torch_repr(&y));
        assert_eq!(y.dims(), [1]);

        // Mixing and nesting blocks.
        let chimera = chimera::<B>(device);
        println!("{chimera}");
        let y = chimera.forward_tensor::<2, 1>(x.clone())?;
        println!("chimera(X) = {}", torch_repr(&y));

        // A width mismatch is an error that names the layer, never a panic.
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
        Ok(())
    }
}

#[allow(dead_code)]
fn main() -> d2l::Result {
    d2l::run(Section)
}
