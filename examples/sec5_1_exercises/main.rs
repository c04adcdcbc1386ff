//! D2L §5.1 exercises: children in a plain list, a parallel block, a factory of independent copies.
//!
//! Run: `cargo run --example sec5_1_exercises`.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Distribution, Tensor};
use d2l::blocks::Sequential;
use d2l::blocks::book::{MySequential, ParallelBlock, stack};
use d2l::device::backend::{BackendTask, DeviceBackend, run_selected};

/// The three exercises of §5.1, generic over the backend.
pub struct Exercises;

impl BackendTask for Exercises {
    type Output = ();

    fn run<B: DeviceBackend>(self, device: &B::Device) {
        println!("## 5.1 exercises — backend: {}", B::KIND);
        B::seed(device, 0);
        let x = Tensor::<B, 2>::random([2, 20], Distribution::Uniform(0.0, 1.0), device);

        // 1. Children kept in a plain list.
        let make = || {
            (LinearConfig::new(20, 256).init::<B>(device), Relu::new(), LinearConfig::new(256, 10).init::<B>(device))
        };
        let (a, r, b) = make();
        let plain = MySequential::<B>::new().add(a).add(r).add(b);
        let (a, r, b) = make();
        let registered = Sequential::<B>::new().add(a).add(r).add(b);
        println!("1. parameters held by a plain Vec<Box<dyn Block>>: {}", plain.held_params());
        println!("   parameters Burn (optimizers, num_params, save) can see: {}", plain.visible_params());
        println!("   the same layers in a Sequential: num_params() = {}", registered.num_params());
        println!("   → a plain list runs forward, but its parameters are never trained or saved.");

        // 2. A parallel block: two networks on the same input, outputs concatenated.
        let par = Sequential::<B>::new().add(ParallelBlock::new(
            Sequential::<B>::new().add(LinearConfig::new(20, 8).init(device)).add(Relu::new()),
            LinearConfig::new(20, 4).init(device),
        ));
        println!("2. {par}");
        match par.forward(x.clone()) {
            Ok(y) => println!("   ParallelBlock(X).shape = {:?} (8 + 4 features)", y.shape()),
            Err(err) => println!("   error: {err}"),
        }

        // 3. A factory of independent instances.
        let deep = stack::<B, _>(3, |i| {
            let width = if i == 0 { 20 } else { 16 };
            Sequential::new().add(LinearConfig::new(width, 16).init(device)).add(Relu::new())
        });
        println!("3. {deep}");
        let first = |i: usize| -> Option<Linear<B>> {
            deep.get(i)?.as_sequential()?.child::<Linear<B>>(0).cloned()
        };
        if let (Some(l1), Some(l2)) = (first(1), first(2)) {
            println!("   blocks 1 and 2 share weights: {}", l1.weight.val().into_data() == l2.weight.val().into_data());
            println!("   blocks 1 and 2 share parameter ids: {}", l1.weight.id == l2.weight.id);
        }
        match deep.forward(x) {
            Ok(y) => println!("   deep(X).shape = {:?}", y.shape()),
            Err(err) => println!("   error: {err}"),
        }
    }
}

#[allow(dead_code)]
fn main() {
    if let Err(err) = run_selected(Exercises) {
        eprintln!("sec5_1_exercises: {err}");
        std::process::exit(1);
    }
}
