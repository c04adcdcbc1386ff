//! Parity with PyTorch: names, shapes, forward, gradients and SGD steps of the book's networks,
//! against `tests/fixtures/pytorch_params.json` (made by `tests/fixtures/make_fixtures.py`).

use burn::backend::Autodiff;
use burn::module::Module;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use d2l_blocks::Sequential;
use d2l_device::backend_test;
use d2l_params::{Parameters, replace_params};
use serde_json::Value;

use crate::{check_like_pytorch, rgnet, tied};

fn fixture() -> Value {
    let text = include_str!("../fixtures/pytorch_params.json");
    serde_json::from_str(text).expect("valid fixture JSON")
}

fn names_and_shapes(value: &Value) -> Vec<(String, Vec<usize>)> {
    serde_json::from_value(value.clone()).expect("[[name, shape], …]")
}

fn ours<B: Backend>(views: Vec<d2l_params::ParamView<B>>) -> Vec<(String, Vec<usize>)> {
    views
        .iter()
        .map(|p| (p.key().to_owned(), p.shape()))
        .collect()
}

/// The fixture's closed-form values: `0.5·sin(k + len(key))` over the flattened PyTorch tensor.
fn pattern(key: &str, n: usize) -> Vec<f32> {
    (0..n)
        .map(|k| (0.5 * ((k + key.len()) as f64).sin()) as f32)
        .collect()
}

fn set_pattern<B: Backend>(net: &mut Sequential<B>, device: &B::Device) {
    replace_params(net, |info, _| {
        let n = info.shape.iter().product();
        let data = TensorData::new(pattern(&info.key, n), info.shape.clone());
        let value = if info.container == "Linear" && info.name == "weight" {
            Tensor::<B, 2>::from_data(data, device)
                .transpose()
                .into_primitive()
        } else {
            Tensor::<B, 1>::from_data(data, device).into_primitive()
        };
        Ok(Some(value))
    })
    .expect("shapes match");
}

fn floats(value: &Value) -> Vec<f32> {
    fn flatten(v: &Value, out: &mut Vec<f32>) {
        match v {
            Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
            Value::Number(n) => out.push(n.as_f64().expect("number") as f32),
            other => panic!("not a number: {other}"),
        }
    }
    let mut out = Vec::new();
    flatten(value, &mut out);
    out
}

backend_test! {
    fn rgnet_names_and_shapes_match_pytorch<B>(device) {
        let f = fixture();
        let net = rgnet::<B>(device);
        assert_eq!(ours(net.named_parameters()), names_and_shapes(&f["rgnet_named_parameters"]));
        assert_eq!(ours(net.state_dict().iter().cloned().collect()), names_and_shapes(&f["rgnet_state_dict"]));
    }
}

backend_test! {
    fn tied_names_shapes_and_count_match_pytorch<B>(device) {
        let f = fixture();
        let (net, _) = tied::<B>(device);
        assert_eq!(ours(net.named_parameters()), names_and_shapes(&f["tied_named_parameters"]));
        assert_eq!(ours(net.state_dict().iter().cloned().collect()), names_and_shapes(&f["tied_state_dict"]));
        assert_eq!(net.num_params() as u64, f["tied_num_params"].as_u64().expect("count"));
    }
}

backend_test! {
    fn tied_forward_gradients_and_sgd_match_pytorch<B>(device) {
        type Ad<B> = Autodiff<B>;
        let f = fixture();
        let (mut net, _) = tied::<Ad<B>>(device);
        set_pattern(&mut net, device);
        let x = Tensor::<Ad<B>, 2>::from_data(TensorData::new(floats(&f["x"]), [2, 4]), device);
        let y = net.forward_tensor::<2, 2>(x.clone()).expect("forward");
        // Four linear layers on the way out (the shared one twice); the backward, four more.
        check_like_pytorch::<B>(y.clone().into_data(), TensorData::new(floats(&f["y"]), [2, 1]), 4);
        let grads = y.powi_scalar(2).sum().backward();
        for p in net.named_parameters() {
            let expected = &f["grads"][p.key()];
            let grad = p.grad(&grads).unwrap_or_else(|| panic!("{} has a gradient", p.key()));
            check_like_pytorch::<B>(grad, TensorData::new(floats(expected), p.shape()), 8);
        }
        let lr = f["sgd_lr"].as_f64().expect("lr");
        let mut optim = SgdConfig::new().init();
        for _ in 0..f["sgd_steps"].as_u64().expect("steps") {
            let loss = net.forward_tensor::<2, 2>(x.clone()).expect("forward").powi_scalar(2).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(lr, net, grads);
        }
        for p in net.state_dict().iter() {
            let expected = &f["after_sgd"][p.key()];
            check_like_pytorch::<B>(p.data(), TensorData::new(floats(expected), p.shape()), 8);
        }
    }
}
