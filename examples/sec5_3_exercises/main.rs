//! D2L §5.3 exercises: only the first width given, mismatched widths, varying inputs.
//!
//! Run: `cargo run --example sec5_3_exercises`.

use burn::nn::{LinearConfig, Relu};
use burn::tensor::Tensor;
use d2l::blocks::Sequential;
use d2l::device::backend::{BackendTask, DeviceBackend, run_selected};
use d2l::layers::{LazyLinear, parameter_shapes};

/// The §5.3 exercises, generic over the backend.
pub struct Exercises;

impl BackendTask for Exercises {
    type Output = ();

    fn run<B: DeviceBackend>(self, device: &B::Device) {
        println!("## 5.3 exercises — backend: {}", B::KIND);
        // 1. Only the first layer's input width is given: the rest is inferred from it.
        let net = Sequential::<B>::new().add(LinearConfig::new(20, 256).init(device)).add(Relu::new()).add(LazyLinear::new(10));
        println!("1. before: {:?}", parameter_shapes(&net));
        let _ = net.forward(Tensor::<B, 2>::ones([2, 20], device));
        println!("   after:  {:?}", parameter_shapes(&net));

        // 2. Mismatched widths between eager layers: a typed error at the second layer.
        let bad = Sequential::<B>::new().add(LinearConfig::new(20, 256).init(device)).add(LinearConfig::new(128, 10).init(device));
        match bad.forward(Tensor::<B, 2>::ones([2, 20], device)) {
            Ok(_) => println!("2. unexpectedly ran"),
            Err(err) => println!("2. {err}"),
        }

        // 3. Varying input widths: the first call fixes the width; a later one is an error.
        let lazy = Sequential::<B>::new().add(LazyLinear::new(4));
        for width in [3, 3, 5] {
            match lazy.forward(Tensor::<B, 2>::ones([1, width], device)) {
                Ok(y) => println!("3. input width {width}: output {:?}", y.shape()),
                Err(err) => println!("3. input width {width}: {err}"),
            }
        }
        println!("   (PyTorch would only say `mat1 and mat2 shapes cannot be multiplied`.)");
    }
}

#[allow(dead_code)]
fn main() {
    if let Err(err) = run_selected(Exercises) {
        eprintln!("sec5_3_exercises: {err}");
        std::process::exit(1);
    }
}
