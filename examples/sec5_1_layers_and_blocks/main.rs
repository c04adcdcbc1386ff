//! D2L §5.1 "Layers and Modules": Sequential, a custom MLP, MySequential, FixedHiddenMLP, chimera.
//!
//! Run: `cargo run --example sec5_1_layers_and_blocks` (see `examples/README.md` for backends).

use burn::nn::{LinearConfig, Relu};
use burn::tensor::{Distribution, Tensor};
use d2l::blocks::Sequential;
use d2l::blocks::book::{FixedHiddenMlp, Mlp, MySequential, chimera};
use d2l::device::backend::{BackendTask, DeviceBackend, run_selected};
use d2l::print::torch_repr;

/// Every cell of §5.1, generic over the backend.
pub struct Section;

fn report<T, E: std::fmt::Display>(what: &str, result: Result<T, E>, show: impl Fn(T) -> String) {
    match result {
        Ok(value) => println!("{what}{}", show(value)),
        Err(err) => println!("{what}error: {err}"),
    }
}

impl BackendTask for Section {
    type Output = ();

    fn run<B: DeviceBackend>(self, device: &B::Device) {
        println!("## 5.1 Layers and Modules — backend: {}", B::KIND);
        B::seed(device, 0);
        let x = Tensor::<B, 2>::random([2, 20], Distribution::Uniform(0.0, 1.0), device);

        // 5.1: a Sequential of Linear(20, 256), ReLU, Linear(256, 10).
        let net = Sequential::<B>::new()
            .add(LinearConfig::new(20, 256).init(device))
            .add(Relu::new())
            .add(LinearConfig::new(256, 10).init(device));
        println!("{net}");
        report("net(X).shape = ", net.forward(x.clone()), |y| format!("{:?}", y.shape()));

        // 5.1.1 A custom block.
        let mlp = Sequential::<B>::new().add(Mlp::new(device));
        println!("{}", &mlp[0]);
        report("MLP()(X).shape = ", mlp.forward(x.clone()), |y| format!("{:?}", y.shape()));

        // 5.1.2 The sequential block, by hand.
        let mine = MySequential::<B>::new()
            .add(LinearConfig::new(20, 256).init(device))
            .add(Relu::new())
            .add(LinearConfig::new(256, 10).init(device));
        report("MySequential(X).shape = ", mine.forward(x.clone()), |y| format!("{:?}", y.shape()));

        // 5.1.3 Executing code in the forward propagation method.
        let fixed = Sequential::<B>::new().add(FixedHiddenMlp::new(device));
        report("FixedHiddenMLP()(X) = ", fixed.forward_tensor::<2, 1>(x.clone()), |y| torch_repr(&y));

        // Mixing and nesting blocks.
        let chimera = chimera::<B>(device);
        println!("{chimera}");
        report("chimera(X) = ", chimera.forward_tensor::<2, 1>(x.clone()), |y| torch_repr(&y));

        // A width mismatch is an error that names the layer, never a panic.
        report(
            "chimera(X[:, :16]) = ",
            chimera.forward(x.slice([0..2, 0..16])),
            |y| format!("{:?}", y.shape()),
        );
    }
}

#[allow(dead_code)]
fn main() {
    if let Err(err) = run_selected(Section) {
        eprintln!("sec5_1_layers_and_blocks: {err}");
        std::process::exit(1);
    }
}
