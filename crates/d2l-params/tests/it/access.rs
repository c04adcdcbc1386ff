//! Access by name, gradients, tying bookkeeping, freezing (D2L §5.2.1, §5.2.3).

use burn::backend::Autodiff;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::{Tensor, TensorData};
use d2l_blocks::{Sequential, Shared};
use d2l_device::backend_test;
use d2l_params::{
    Init, ParamError, Parameters, edit_param, freeze, init_params, set_requires_grad,
};

use crate::{check, constant_linear, rgnet, tied};

backend_test! {
    fn per_layer_state_dict_and_values<B>(device) {
        let net = Sequential::<B>::new()
            .add(constant_linear(4, 8, 0.5, device))
            .add(burn::nn::Relu::new())
            .add(constant_linear(8, 1, 0.25, device));
        let layer = net[2].state_dict();
        assert_eq!(layer.keys(), ["weight", "bias"]);
        assert_eq!(layer["weight"].shape(), vec![1, 8], "PyTorch's [out, in]");
        check(net.state_dict()["2.bias"].data(), [0.25f32]);
        assert_eq!(net.state_dict()["0.weight"].shape(), vec![8, 4]);
        assert_eq!(net.state_dict()["0.weight"].tensor::<2>().expect("rank 2").dims(), [4, 8], "Burn's [in, out]");
        assert!(matches!(net.state_dict()["0.bias"].tensor::<2>(), Err(ParamError::Rank { expected: 2, actual: 1, .. })));
        let shown = net.state_dict()["2.bias"].to_string();
        assert_eq!(shown, "Parameter containing:\ntensor([0.2500], requires_grad=False)");
    }
}

backend_test! {
    fn unknown_keys_name_the_closest<B>(device) {
        let net = rgnet::<B>(device);
        let err = net.param("0.block 0.0.wieght").expect_err("typo");
        let ParamError::UnknownKey { key, closest } = &err else { panic!("{err:?}") };
        assert_eq!(key, "0.block 0.0.wieght");
        assert_eq!(closest[0], "0.block 0.0.weight");
        assert!(err.to_string().starts_with("no parameter `0.block 0.0.wieght`; closest: [\"0.block 0.0.weight\""));
    }
}

backend_test! {
    fn gradients_are_absent_before_backward_and_present_after<B>(device) {
        type Ad<B> = Autodiff<B>;
        let net = Sequential::<Ad<B>>::new().add(constant_linear(2, 1, 0.5, device));
        let x = Tensor::<Ad<B>, 2>::from_floats([[1.0, 2.0]], device);
        let unrelated = Tensor::<Ad<B>, 1>::ones([1], device).require_grad();
        let before = (unrelated * 2.0).sum().backward();
        assert!(net.state_dict()["0.weight"].grad(&before).is_none(), "no gradient before backward");
        let grads = net.forward_tensor::<2, 2>(x).expect("forward").sum().backward();
        // y = w·x + b: dy/dw = x (PyTorch [out, in] = [[1, 2]]), dy/db = 1.
        check(net.state_dict()["0.weight"].grad(&grads).expect("dw"), [[1.0f32, 2.0]]);
        check(net.state_dict()["0.bias"].grad(&grads).expect("db"), [1.0f32]);
    }
}

backend_test! {
    fn a_tied_parameter_is_named_once_and_stored_twice<B>(device) {
        let (net, shared) = tied::<B>(device);
        let named: Vec<String> = net.named_parameters().iter().map(|p| p.key().to_owned()).collect();
        assert_eq!(named, ["0.weight", "0.bias", "2.weight", "2.bias", "6.weight", "6.bias"]);
        let state = net.state_dict();
        assert_eq!(state.keys(), ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "6.weight", "6.bias"]);
        assert_eq!(net.num_params(), 4 * 8 + 8 + 8 * 8 + 8 + 8 + 1);
        // The book's check: set net[2].weight[0, 0] = 100, read it through net[4].
        shared.with_mut(|l: &mut Linear<B>| {
            edit_param(l, "weight", |w: Tensor<B, 2>| w.slice_assign([0..1, 0..1], Tensor::full([1, 1], 100.0, device)))
        }).expect("linear").expect("same shape");
        assert_eq!(net.state_dict()["4.weight"].data().to_vec::<f32>().expect("f32")[0], 100.0);
        assert_eq!(net.state_dict()["2.weight"].data(), net.state_dict()["4.weight"].data());
    }
}

backend_test! {
    fn edits_keep_parameters_trainable<B>(device) {
        type Ad<B> = Autodiff<B>;
        let mut net = Sequential::<Ad<B>>::new().add(constant_linear(2, 1, 1.0, device));
        edit_param(&mut net, "0.weight", |w: Tensor<Ad<B>, 2>| w + 1.0).expect("same shape");
        let err = edit_param(&mut net, "0.weight", |w: Tensor<Ad<B>, 2>| w.reshape([1, 2])).expect_err("reshape");
        assert!(matches!(err, ParamError::Shape { .. }));
        assert!(net.state_dict()["0.weight"].requires_grad());
        check(net.state_dict()["0.weight"].data(), [[2.0f32, 2.0]]);
        let x = Tensor::<Ad<B>, 2>::from_floats([[1.0, 1.0]], device);
        let grads = GradientsParams::from_grads(net.forward_tensor::<2, 2>(x).expect("forward").sum().backward(), &net);
        let net = SgdConfig::new().init().step(0.5, net, grads);
        // w = 2 - 0.5·1 = 1.5: the edited parameter was trained.
        check(net.state_dict()["0.weight"].data(), [[1.5f32, 1.5]]);
    }
}

backend_test! {
    fn frozen_subtrees_get_no_gradient_and_no_update<B>(device) {
        type Ad<B> = Autodiff<B>;
        let mut net = Sequential::<Ad<B>>::new()
            .add(Sequential::new().add(constant_linear(2, 2, 1.0, device)))
            .add(constant_linear(2, 1, 1.0, device));
        let frozen = freeze(&mut net, "0").expect("subtree 0");
        assert_eq!(frozen, ["0.0.weight", "0.0.bias"]);
        assert!(!net.state_dict()["0.0.weight"].requires_grad());
        assert!(net.state_dict()["1.weight"].requires_grad());
        assert!(matches!(freeze(&mut net, "3"), Err(ParamError::UnknownKey { .. })));
        let before = net.state_dict()["0.0.weight"].data();
        let x = Tensor::<Ad<B>, 2>::ones([1, 2], device);
        let grads = net.forward_tensor::<2, 2>(x).expect("forward").sum().backward();
        assert!(net.state_dict()["0.0.weight"].grad(&grads).is_none());
        assert!(net.state_dict()["1.weight"].grad(&grads).is_some());
        let grads = GradientsParams::from_grads(grads, &net);
        let mut net = SgdConfig::new().init().step(0.1, net, grads);
        assert_eq!(net.state_dict()["0.0.weight"].data(), before);
        set_requires_grad(&mut net, "0.0.weight", true).expect("key");
        assert!(net.state_dict()["0.0.weight"].requires_grad());
        let _: TensorData = net.state_dict()["1.bias"].data();
    }
}

backend_test! {
    fn shared_view_through_dyn_block<B>(device) {
        let (net, _) = tied::<B>(device);
        let inner = net[4].state_dict();
        assert_eq!(inner.keys(), ["weight", "bias"]);
        assert!(net.child::<Shared<B>>(4).is_some());
    }
}

backend_test! {
    fn zero_size_parameters_and_batches_are_safe<B>(device) {
        use burn::nn::Initializer;
        // PyTorch's Linear(0, 3): weight [3, 0], bias [3].
        let mut net = Sequential::<B>::new()
            .add(LinearConfig::new(0, 3).with_initializer(Initializer::Constant { value: 0.5 }).init(device))
            .add(burn::nn::Relu::new());
        let w = net.param("0.weight").expect("weight");
        assert_eq!((w.shape(), w.numel()), (vec![3, 0], 0));
        assert_eq!(w.to_string(), "Parameter containing:\ntensor([], size=(3, 0), requires_grad=False)");
        assert_eq!(init_params(&mut net, |p| (p.name == "weight").then_some(Init::XavierUniform { gain: 1.0 })), Ok(1));
        // No input features: the output is relu(bias).
        let y = net.forward(Tensor::<B, 2>::zeros([2, 0], device)).expect("zero width");
        check(y.into_data(), [[0.5f32, 0.5, 0.5], [0.5, 0.5, 0.5]]);
        // An empty batch gives an empty output of the right shape.
        let y = net.forward(Tensor::<B, 2>::zeros([0, 0], device)).expect("empty batch");
        assert_eq!(y.dims(), [0, 3]);
        edit_param(&mut net, "0.bias", |b: Tensor<B, 1>| b * 2.0).expect("edit");
        check(net.param("0.bias").expect("bias").data(), [1.0f32, 1.0, 1.0]);
    }
}
