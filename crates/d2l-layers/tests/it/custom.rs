//! Custom layers (D2L §5.4).

use burn::backend::Autodiff;
use burn::module::Module;
use burn::nn::LinearConfig;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::{Distribution, Tensor, TensorData};
use d2l_blocks::{BlockError, Sequential, Shared};
use d2l_device::backend_test;
use d2l_layers::{CenteredLayer, MyLinear};
use d2l_params::{Init, Parameters, init_params};

use crate::check;

backend_test! {
    fn centered_layer_subtracts_the_mean<B>(device) {
        let net = Sequential::<B>::new().add(CenteredLayer::new());
        let y = net.forward_tensor::<1, 1>(Tensor::from_floats([1.0, 2.0, 3.0, 4.0, 5.0], device)).expect("rank 1");
        check(y.into_data(), [-2.0f32, -1.0, 0.0, 1.0, 2.0], 1e-6);
        assert_eq!(net.num_params(), 0);
        assert_eq!(net.to_string(), "Sequential(\n  (0): CenteredLayer()\n)");
    }
}

backend_test! {
    fn a_centered_network_has_mean_zero<B>(device) {
        let net = Sequential::<B>::new().add(LinearConfig::new(8, 128).init(device)).add(CenteredLayer::new());
        let x = Tensor::<B, 2>::random([4, 8], Distribution::Uniform(0.0, 1.0), device);
        let y = net.forward_tensor::<2, 2>(x).expect("forward");
        let mean: f32 = y.mean().into_data().to_vec::<f32>().expect("f32")[0];
        assert!(mean.abs() < 1e-6, "mean {mean}");
    }
}

backend_test! {
    fn my_linear_has_its_own_parameters<B>(device) {
        let mut net = Sequential::<B>::new().add(MyLinear::new(5, 3, device));
        let keys: Vec<(String, Vec<usize>)> = net.named_parameters().iter().map(|p| (p.key().to_owned(), p.shape())).collect();
        assert_eq!(keys, [("0.weight".to_string(), vec![5, 3]), ("0.bias".to_string(), vec![3])], "the book's [in, units]");
        init_params(&mut net, |p| Some(if p.name == "weight" { Init::Constant(0.5) } else { Init::Constant(-1.0) })).expect("valid");
        // relu(0.5·(1+2+3+4+5) - 1) = 6.5 for each unit; relu(0.5·0 − 1) = 0.
        let y = net.forward_tensor::<2, 2>(Tensor::from_floats([[1.0, 2.0, 3.0, 4.0, 5.0], [0.0; 5]], device)).expect("forward");
        check(y.into_data(), [[6.5f32, 6.5, 6.5], [0.0, 0.0, 0.0]], 1e-5);
        let err = net.forward(Tensor::<B, 2>::ones([1, 4], device)).expect_err("width");
        assert_eq!(err, BlockError::Width { path: "0".into(), expected: 5, actual: vec![1, 4] });
    }
}

backend_test! {
    fn a_sequential_of_my_linears_trains_and_ties<B>(device) {
        type Ad<B> = Autodiff<B>;
        let shared = Shared::new(MyLinear::<Ad<B>>::new(8, 8, device));
        let mut net = Sequential::<Ad<B>>::new()
            .add(MyLinear::new(64, 8, device))
            .add(shared.clone())
            .add(shared)
            .add(MyLinear::new(8, 1, device));
        assert_eq!(net.num_params(), 64 * 8 + 8 + 8 * 8 + 8 + 8 + 1);
        init_params(&mut net, |p| Some(if p.name == "weight" { Init::Constant(0.01) } else { Init::Constant(0.1) })).expect("valid");
        let x = Tensor::<Ad<B>, 2>::ones([2, 64], device);
        let before = net.state_dict()["1.weight"].data();
        let y = net.forward_tensor::<2, 2>(x).expect("forward");
        assert_eq!(y.dims(), [2, 1]);
        let grads = GradientsParams::from_grads(y.sum().backward(), &net);
        let net = SgdConfig::new().init().step(0.1, net, grads);
        let after = net.state_dict();
        assert_ne!(after["1.weight"].data(), before, "trained");
        assert_eq!(after["1.weight"].data(), after["2.weight"].data(), "still tied");
        let _: TensorData = after["3.bias"].data();
    }
}
