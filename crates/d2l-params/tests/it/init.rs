//! Initialization (D2L §5.2.2).

use burn::backend::Autodiff;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::Tensor;
use d2l_blocks::Sequential;
use d2l_device::backend_test;
use d2l_params::{Init, ParamError, Parameters, edit_param, init_params};

use crate::{check, rgnet};

fn values<B: burn::tensor::backend::Backend>(net: &Sequential<B>, key: &str) -> Vec<f32> {
    net.state_dict()[key].data().to_vec::<f32>().expect("f32")
}

fn book_net<B: burn::tensor::backend::Backend>(device: &B::Device) -> Sequential<B> {
    Sequential::new()
        .add(LinearConfig::new(20, 256).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(256, 10).init(device))
}

backend_test! {
    fn init_normal_and_zeros_for_every_linear<B>(device) {
        let mut net = book_net::<B>(device);
        let count = init_params(&mut net, |p| match (p.container.as_str(), p.name.as_str()) {
            ("Linear", "weight") => Some(Init::Normal { mean: 0.0, std: 0.01 }),
            ("Linear", "bias") => Some(Init::Zeros),
            _ => None,
        }).expect("valid");
        assert_eq!(count, 4);
        let w = values(&net, "0.weight");
        let mean = w.iter().sum::<f32>() / w.len() as f32;
        let std = (w.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / w.len() as f32).sqrt();
        assert!(mean.abs() < 1e-3, "mean {mean}");
        assert!((std - 0.01).abs() < 1e-3, "std {std}");
        assert_eq!(values(&net, "0.bias"), vec![0.0; 256]);
        assert_eq!(values(&net, "2.bias"), vec![0.0; 10]);
    }
}

backend_test! {
    fn per_layer_xavier_and_forty_two<B>(device) {
        let mut net = book_net::<B>(device);
        init_params(net.child_mut::<Linear<B>>(0).expect("linear"), |p| {
            (p.name == "weight").then_some(Init::XavierUniform { gain: 1.0 })
        }).expect("valid");
        init_params(net.child_mut::<Linear<B>>(2).expect("linear"), |_| Some(Init::Constant(42.0))).expect("valid");
        let bound = (6.0f32 / (20.0 + 256.0)).sqrt();
        let w = values(&net, "0.weight");
        assert!(w.iter().all(|v| v.abs() <= bound), "Xavier bound {bound}");
        assert!(w.iter().any(|v| v.abs() > bound / 2.0), "spread over the range");
        assert_eq!(values(&net, "2.weight"), vec![42.0; 2560]);
        assert_eq!(values(&net, "2.bias"), vec![42.0; 10]);
    }
}

backend_test! {
    fn torch_linear_default_and_kaiming_bounds<B>(device) {
        let mut net = book_net::<B>(device);
        init_params(&mut net, |p| (p.key.starts_with("0.")).then_some(Init::TorchLinearDefault)).expect("valid");
        let bound = 1.0 / 20f32.sqrt();
        assert!(values(&net, "0.weight").iter().all(|v| v.abs() <= bound));
        assert!(values(&net, "0.bias").iter().all(|v| v.abs() <= bound), "bias uses the layer's fan_in");
        init_params(&mut net, |p| (p.key == "2.weight").then_some(Init::KaimingUniform { gain: 2f64.sqrt() })).expect("valid");
        let bound = 2f32.sqrt() * (3.0 / 256.0f32).sqrt();
        assert!(values(&net, "2.weight").iter().all(|v| v.abs() <= bound));
    }
}

backend_test! {
    fn the_books_custom_initializer<B>(device) {
        let mut net = Sequential::<B>::new()
            .add(LinearConfig::new(4, 8).init(device))
            .add(Relu::new())
            .add(LinearConfig::new(8, 1).init(device));
        let mut printed = Vec::new();
        init_params(&mut net, |p| {
            if p.container == "Linear" && p.name == "weight" {
                printed.push(format!("Init {} {:?}", p.name, p.shape));
                Some(Init::Uniform { low: -10.0, high: 10.0 })
            } else {
                None
            }
        }).expect("valid");
        net.apply(|_, block| {
            if let Some(linear) = block.downcast_mut::<Linear<B>>() {
                edit_param(linear, "weight", |w: Tensor<B, 2>| {
                    let keep = w.clone().abs().greater_equal_elem(5.0).float();
                    w * keep
                }).expect("same shape");
            }
        });
        assert_eq!(printed, ["Init weight [8, 4]", "Init weight [1, 8]"]);
        let w = values(&net, "0.weight");
        assert!(w.iter().all(|v| *v == 0.0 || (5.0..=10.0).contains(&v.abs())), "{w:?}");
        // The book's direct edits: w[:] += 1; w[0, 0] = 42.
        edit_param(&mut net, "0.weight", |w: Tensor<B, 2>| w + 1.0).expect("same shape");
        edit_param(&mut net, "0.weight", |w: Tensor<B, 2>| w.slice_assign([0..1, 0..1], Tensor::full([1, 1], 42.0, device))).expect("same shape");
        let edited = values(&net, "0.weight");
        assert_eq!(edited[0], 42.0);
        assert_eq!(&edited[1..], &w.iter().map(|v| v + 1.0).collect::<Vec<_>>()[1..]);
    }
}

backend_test! {
    fn apply_visits_every_block_children_first<B>(device) {
        let mut net = rgnet::<B>(device);
        let mut seen = Vec::new();
        net.apply(|path, block| {
            seen.push(path.to_owned());
            if let Some(linear) = block.downcast_mut::<Linear<B>>() {
                init_params(linear, |_| Some(Init::Ones)).expect("valid");
            }
        });
        // Every block, children first, the root (path "") last — PyTorch's order.
        assert_eq!(seen.len(), 13);
        assert_eq!(&seen[..5], ["0.block 0.0", "0.block 0.1", "0.block 0.2", "0.block 0.3", "0.block 0"]);
        assert_eq!(&seen[10..], ["0", "1", ""]);
        assert!(net.state_dict().iter().all(|p| p.data().to_vec::<f32>().expect("f32").iter().all(|v| *v == 1.0)));
    }
}

backend_test! {
    fn initialized_parameters_stay_trainable<B>(device) {
        type Ad<B> = Autodiff<B>;
        let mut net = Sequential::<Ad<B>>::new().add(LinearConfig::new(2, 1).init(device));
        init_params(&mut net, |_| Some(Init::Constant(1.0))).expect("valid");
        assert!(net.state_dict()["0.weight"].requires_grad());
        let x = Tensor::<Ad<B>, 2>::from_floats([[1.0, 3.0]], device);
        let grads = GradientsParams::from_grads(net.forward_tensor::<2, 2>(x).expect("forward").sum().backward(), &net);
        let net = SgdConfig::new().init().step(0.1, net, grads);
        check(net.state_dict()["0.weight"].data(), [[0.9f32, 0.7]]);
        check(net.state_dict()["0.bias"].data(), [0.9f32]);
    }
}

backend_test! {
    fn bad_initializers_leave_the_model_unchanged<B>(device) {
        let mut net = book_net::<B>(device);
        let before = values(&net, "0.weight");
        for bad in [Init::Normal { mean: 0.0, std: f64::NAN }, Init::Uniform { low: 1.0, high: -1.0 }, Init::Constant(f64::INFINITY), Init::XavierNormal { gain: 0.0 }] {
            let err = init_params(&mut net, |_| Some(bad)).expect_err("invalid");
            assert!(matches!(err, ParamError::InvalidInit { .. }), "{err:?}");
        }
        let err = init_params(&mut net, |_| Some(Init::XavierUniform { gain: 1.0 })).expect_err("bias is rank 1");
        assert_eq!(err, ParamError::InitRank { path: "0.bias".into(), shape: vec![256], init: "XavierUniform { gain: 1.0 }".into() });
        assert_eq!(values(&net, "0.weight"), before, "nothing was applied");
    }
}

backend_test! {
    fn apply_recurses_into_the_children_of_custom_blocks<B>(device) {
        // NestMLP keeps a Sequential in a field: apply reaches its Linears too.
        let mut net = Sequential::<B>::new().add(d2l_blocks::book::NestMlp::new(device));
        let mut seen = Vec::new();
        let mut linears = 0;
        net.apply(|path, block| {
            seen.push(path.to_owned());
            if let Some(linear) = block.downcast_mut::<Linear<B>>() {
                linears += 1;
                init_params(linear, |_| Some(Init::Constant(0.5))).expect("valid");
            }
        });
        assert_eq!(seen, ["0.net.0", "0.net.1", "0.net.2", "0.net.3", "0.net", "0.linear", "0", ""]);
        assert_eq!(linears, 3);
        assert!(net.state_dict().iter().all(|p| p.data().iter::<f32>().all(|v| v == 0.5)));
        // A failing initializer stops the walk with its error.
        let err = net
            .try_apply(|_, block| match block.downcast_mut::<Linear<B>>() {
                Some(linear) => init_params(linear, |_| Some(Init::Normal { mean: 0.0, std: -1.0 })).map(drop),
                None => Ok(()),
            })
            .expect_err("negative std");
        assert!(matches!(err, ParamError::InvalidInit { .. }), "{err:?}");
    }
}

backend_test! {
    fn edit_errors_name_the_key_in_pytorch_orientation<B>(device) {
        let mut net = Sequential::<B>::new().add(LinearConfig::new(4, 8).init(device));
        // Burn's weight is [4, 8]; PyTorch's key `0.weight` is [8, 4].
        let err = edit_param(&mut net, "0.weight", |w: Tensor<B, 2>| w.slice([0..2, 0..8])).expect_err("shape");
        assert_eq!(err, ParamError::Shape { path: "0.weight".into(), expected: vec![8, 4], actual: vec![8, 2] });
        let err = edit_param(&mut net, "0.weight", |w: Tensor<B, 1>| w).expect_err("rank");
        assert_eq!(err, ParamError::Rank { path: "0.weight".into(), expected: 1, actual: 2 });
        let err = edit_param(&mut net, "0.wieght", |w: Tensor<B, 2>| w).expect_err("typo");
        assert!(matches!(err, ParamError::UnknownKey { ref closest, .. } if closest[0] == "0.weight"), "{err:?}");
    }
}
