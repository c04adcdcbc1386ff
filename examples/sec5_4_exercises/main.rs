//! D2L §5.4 exercises: a tensor-reduction layer and the leading half of the Fourier coefficients.
//!
//! Run: `cargo run --example sec5_4_exercises`.

use burn::tensor::Tensor;
use d2l::blocks::Sequential;
use d2l::device::backend::DeviceBackend;
use d2l::layers::{FourierHalf, TensorReduction};
use d2l::print::torch_repr;

d2l::main!(exercises);

/// The §5.4 exercises, generic over the backend.
pub fn exercises<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    println!("## 5.4 exercises — backend: {}", B::KIND);
    // 1. y_k = Σ_ij W_ijk x_i x_j with W = 1: y_k = (Σ_i x_i)².
    d2l::cell("ex1"); // ANCHOR: ex1
    let reduce = Sequential::<B>::new().add(TensorReduction::from_weight(Tensor::ones(
        [3, 3, 2],
        device,
    )));
    println!("1. {reduce}");
    let y = reduce.forward(Tensor::<B, 2>::from_floats([[1.0, 2.0, 3.0]], device))?;
    println!("   y([1, 2, 3]) = {}  (= (1+2+3)² = 36)", torch_repr(&y));
    assert_eq!(y.to_data().iter::<f32>().collect::<Vec<_>>(), [36.0, 36.0]);
    // ANCHOR_END: ex1

    // 2. The first half of the DFT of a cosine at frequency 1 over 8 samples: X_1 = 4.
    d2l::cell("ex2"); // ANCHOR: ex2
    let n = 8;
    let signal: Vec<f32> = (0..n)
        .map(|t| (2.0 * std::f32::consts::PI * t as f32 / n as f32).cos())
        .collect();
    let fourier = Sequential::<B>::new().add(FourierHalf::new(n, device));
    println!("2. {fourier}");
    let y = fourier.forward(Tensor::<B, 1>::from_floats(signal.as_slice(), device))?;
    println!("   [Re X_0..X_3, Im X_0..X_3] = {}", torch_repr(&y));
    let expected = [0.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
    let got: Vec<f32> = y.to_data().iter::<f32>().collect();
    assert!(
        got.iter().zip(expected).all(|(g, e)| (g - e).abs() < 1e-4),
        "{got:?}"
    );
    // ANCHOR_END: ex2
    Ok(())
}
