//! D2L §5.3 exercises: only the first width given, mismatched widths, varying inputs.
//!
//! Run: `cargo run --example sec5_3_exercises`.

use burn::nn::{LinearConfig, Relu};
use burn::tensor::Tensor;
use d2l::blocks::{BlockError, Sequential};
use d2l::device::backend::DeviceBackend;
use d2l::layers::{LazyLinear, parameter_shapes};

d2l::main!(exercises);

/// The §5.3 exercises, generic over the backend.
pub fn exercises<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    println!("## 5.3 exercises — backend: {}", B::KIND);
    // 1. Only the first layer's input width is given: the rest is inferred from it.
    d2l::cell("ex1"); // ANCHOR: ex1
    let net = Sequential::<B>::new()
        .add(LinearConfig::new(20, 256).init(device))
        .add(Relu::new())
        .add(LazyLinear::new(10));
    println!("1. before: {:?}", parameter_shapes(&net));
    net.forward(Tensor::<B, 2>::ones([2, 20], device))?;
    println!("   after:  {:?}", parameter_shapes(&net));
    assert_eq!(
        parameter_shapes(&net)[2],
        ("2.weight".to_owned(), vec![10, 256])
    );
    // ANCHOR_END: ex1

    // 2. Mismatched widths between eager layers: a typed error at the second layer.
    d2l::cell("ex2"); // ANCHOR: ex2
    let bad = Sequential::<B>::new()
        .add(LinearConfig::new(20, 256).init(device))
        .add(LinearConfig::new(128, 10).init(device));
    let err = bad
        .forward(Tensor::<B, 2>::ones([2, 20], device))
        .expect_err("256 features into Linear(128, 10)");
    println!("2. {err}");
    assert_eq!(
        err,
        BlockError::Width {
            path: "1".into(),
            expected: 128,
            actual: vec![2, 256]
        }
    );
    // ANCHOR_END: ex2

    // 3. Varying input widths: the first call fixes the width; a later one is an error.
    d2l::cell("ex3"); // ANCHOR: ex3
    let lazy = Sequential::<B>::new().add(LazyLinear::new(4));
    for width in [3, 3] {
        let y = lazy.forward(Tensor::<B, 2>::ones([1, width], device))?;
        println!("3. input width {width}: output {:?}", y.dims());
    }
    let err = lazy
        .forward(Tensor::<B, 2>::ones([1, 5], device))
        .expect_err("width 5 after 3");
    println!("3. input width 5: {err}");
    assert_eq!(
        err,
        BlockError::Width {
            path: "0".into(),
            expected: 3,
            actual: vec![1, 5]
        }
    );
    println!("   (PyTorch would only say `mat1 and mat2 shapes cannot be multiplied`.)");
    // ANCHOR_END: ex3
    Ok(())
}
