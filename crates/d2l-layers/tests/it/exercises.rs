//! The §5.4 exercise layers, checked against explicit loops.

use burn::backend::Autodiff;
use burn::tensor::{Tensor, TensorData};
use d2l_blocks::{BlockError, Sequential};
use d2l_device::backend_test;
use d2l_layers::{FourierHalf, TensorReduction};

use crate::check;

backend_test! {
    fn tensor_reduction_matches_the_double_sum<B>(device) {
        let (n, m) = (3, 2);
        let w: Vec<f32> = (0..n * n * m).map(|v| (v as f32 - 8.0) / 4.0).collect();
        let layer = TensorReduction::from_weight(Tensor::<B, 3>::from_data(TensorData::new(w.clone(), [n, n, m]), device));
        let xs = [[1.0f32, -2.0, 0.5], [3.0, 0.0, 1.0]];
        let mut expected = vec![0.0f32; 2 * m];
        for (b, x) in xs.iter().enumerate() {
            for k in 0..m {
                for i in 0..n {
                    for j in 0..n {
                        expected[b * m + k] += w[(i * n + j) * m + k] * x[i] * x[j];
                    }
                }
            }
        }
        let net = Sequential::<B>::new().add(layer);
        let y = net.forward_tensor::<2, 2>(Tensor::from_floats(xs, device)).expect("forward");
        check(y.into_data(), TensorData::new(expected.clone(), [2, m]), 1e-4);
        let y1 = net.forward_tensor::<1, 1>(Tensor::from_floats(xs[0], device)).expect("rank 1");
        check(y1.into_data(), TensorData::new(expected[..m].to_vec(), [m]), 1e-4);
        assert!(matches!(net.forward(Tensor::<B, 2>::ones([1, 4], device)), Err(BlockError::Width { .. })));
    }
}

fn reference_dft(x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = x.len();
    let m = n.div_ceil(2);
    let (mut re, mut im) = (vec![0.0; m], vec![0.0; m]);
    for k in 0..m {
        for (t, v) in x.iter().enumerate() {
            let a = 2.0 * std::f64::consts::PI * (k * t) as f64 / n as f64;
            re[k] += v * a.cos();
            im[k] -= v * a.sin();
        }
    }
    (re, im)
}

backend_test! {
    fn fourier_half_matches_a_reference_dft<B>(device) {
        for n in [5usize, 8] {
            let x: Vec<f64> = (0..n).map(|t| ((t * t) as f64 * 0.3).sin() + t as f64 * 0.1).collect();
            let (re, im) = reference_dft(&x);
            let expected: Vec<f32> = re.iter().chain(im.iter()).map(|v| *v as f32).collect();
            let net = Sequential::<B>::new().add(FourierHalf::new(n, device));
            let input = Tensor::<B, 1>::from_data(TensorData::new(x.iter().map(|v| *v as f32).collect::<Vec<_>>(), [n]), device);
            let y = net.forward_tensor::<1, 1>(input).expect("forward");
            check(y.into_data(), TensorData::new(expected, [2 * n.div_ceil(2)]), 1e-4);
        }
        // A constant signal has only a DC term: X_0 = n·c.
        let net = Sequential::<B>::new().add(FourierHalf::new(4, device));
        let y = net.forward_tensor::<2, 2>(Tensor::full([1, 4], 2.0, device)).expect("forward");
        check(y.into_data(), [[8.0f32, 0.0, 0.0, 0.0]], 1e-5);
    }
}

backend_test! {
    fn fourier_half_is_differentiable_and_nan_propagates<B>(device) {
        type Ad<B> = Autodiff<B>;
        let n = 4;
        let x = Tensor::<Ad<B>, 2>::from_floats([[1.0, 0.0, -1.0, 2.0]], device).require_grad();
        let net = Sequential::<Ad<B>>::new().add(FourierHalf::new(n, device));
        let y = net.forward_tensor::<2, 2>(x.clone()).expect("forward");
        // d(Σ_k Re X_k)/dx_t = Σ_k cos(2πkt/4) over k = 0, 1: [2, 1, 0, 1]; Im terms: −Σ_k sin: [0, -1, 0, 1].
        let grads = y.sum().backward();
        check(x.grad(&grads).expect("grad").into_data(), [[2.0f32, 0.0, 0.0, 2.0]], 1e-5);
        let nan = Tensor::<B, 2>::from_floats([[f32::NAN, 0.0, 0.0, 0.0]], device);
        let out = Sequential::<B>::new().add(FourierHalf::new(n, device)).forward_tensor::<2, 2>(nan).expect("IEEE");
        assert!(out.into_data().to_vec::<f32>().expect("f32").iter().any(|v| v.is_nan()));
    }
}

backend_test! {
    fn exercise_layers_take_empty_batches<B>(device) {
        // Burn's matmul divides by zero-size dimensions; the layers answer with empty outputs.
        let reduce = Sequential::<B>::new().add(TensorReduction::from_weight(Tensor::ones([3, 3, 2], device)));
        assert_eq!(reduce.forward(Tensor::<B, 2>::zeros([0, 3], device)).expect("empty batch").dims(), [0, 2]);
        let fourier = Sequential::<B>::new().add(FourierHalf::new(4, device));
        assert_eq!(fourier.forward(Tensor::<B, 2>::zeros([0, 4], device)).expect("empty batch").dims(), [0, 4]);
        let mine = Sequential::<B>::new().add(d2l_layers::MyLinear::new(3, 2, device));
        assert_eq!(mine.forward(Tensor::<B, 3>::zeros([2, 0, 3], device)).expect("empty").dims(), [2, 0, 2]);
    }
}
