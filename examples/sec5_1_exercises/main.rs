//! D2L §5.1 exercises: children in a plain list, a parallel block, a factory of independent copies.
//!
//! Run: `cargo run --example sec5_1_exercises`.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Distribution, Tensor};
use d2l::blocks::Sequential;
use d2l::blocks::book::{MySequential, ParallelBlock, stack};
use d2l::device::backend::DeviceBackend;

d2l::main!(exercises);

/// The three exercises of §5.1, generic over the backend.
pub fn exercises<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    println!("## 5.1 exercises — backend: {}", B::KIND);
    B::seed(device, 0);
    let x = Tensor::<B, 2>::random([2, 20], Distribution::Uniform(0.0, 1.0), device);

    // 1. Children kept in a plain list.
    d2l::cell("ex1"); // ANCHOR: ex1
    let make = || {
        (
            LinearConfig::new(20, 256).init::<B>(device),
            Relu::new(),
            LinearConfig::new(256, 10).init::<B>(device),
        )
    };
    let (a, r, b) = make();
    let plain = MySequential::<B>::new().add(a).add(r).add(b);
    let (a, r, b) = make();
    let registered = Sequential::<B>::new().add(a).add(r).add(b);
    println!(
        "1. parameters held by a plain Vec<Box<dyn Block>>: {}",
        plain.held_params()
    );
    println!(
        "   the same layers in a Sequential: num_params() = {}",
        registered.num_params()
    );
    println!("   → MySequential runs forward, but it is no Burn Module: no optimizer, no save.");
    assert_eq!(plain.held_params(), registered.num_params());
    assert_eq!(plain.forward(x.clone())?.shape(), [2, 10]);
    // ANCHOR_END: ex1

    // 2. A parallel block: two networks on the same input, outputs concatenated.
    d2l::cell("ex2"); // ANCHOR: ex2
    let par = Sequential::<B>::new().add(ParallelBlock::new(
        Sequential::<B>::new()
            .add(LinearConfig::new(20, 8).init(device))
            .add(Relu::new()),
        LinearConfig::new(20, 4).init(device),
    ));
    println!("2. {par}");
    let y = par.forward(x.clone())?;
    println!(
        "   ParallelBlock(X).shape = {:?} (8 + 4 features)",
        y.dims()
    );
    assert_eq!(y.dims(), [2, 12]);
    // ANCHOR_END: ex2

    // 3. A factory of independent instances.
    d2l::cell("ex3"); // ANCHOR: ex3
    let deep = stack::<B, _>(3, |i| {
        let width = if i == 0 { 20 } else { 16 };
        Sequential::new()
            .add(LinearConfig::new(width, 16).init(device))
            .add(Relu::new())
    });
    println!("3. {deep}");
    let first = |i: usize| {
        deep.get(i)
            .and_then(|b| b.as_sequential())
            .and_then(|s| s.child::<Linear<B>>(0))
    };
    let (l1, l2) = first(1)
        .zip(first(2))
        .ok_or("blocks 1 and 2 start with a Linear")?;
    let same_values = l1.weight.val().into_data() == l2.weight.val().into_data();
    println!(
        "   blocks 1 and 2 share weights: {same_values}; parameter ids: {}",
        l1.weight.id == l2.weight.id
    );
    assert!(
        !same_values && l1.weight.id != l2.weight.id,
        "the copies must be independent"
    );
    let y = deep.forward(x)?;
    println!("   deep(X).shape = {:?}", y.dims());
    assert_eq!(y.dims(), [2, 16]);
    // ANCHOR_END: ex3
    Ok(())
}
