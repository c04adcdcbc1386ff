//! NaN and ±inf through the book's LeNet and ResNet-18, as PyTorch propagates them: the
//! pattern of NaN / ±inf / finite logits per sample, and a NaN loss, in eval and train mode
//! (fixture: `tests/fixtures/nonfinite/make_fixtures.py`, which checks that the pattern does
//! not depend on the weights).

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::{Int, Tensor, TensorData};
use d2l_blocks::{Sequential, Train};
use d2l_device::{DeviceBackend, backend_test};
use d2l_layers::models::{lenet, resnet};

/// The fixture's cases for `model`.
fn cases(model: &str) -> (Vec<usize>, serde_json::Map<String, serde_json::Value>) {
    let path = crate::manifest_dir().join("tests/fixtures/nonfinite/nonfinite.json");
    let text = std::fs::read_to_string(path).expect("fixture");
    let meta: serde_json::Value = serde_json::from_str(&text).expect("json");
    let shape = meta[model]["input_shape"]
        .as_array()
        .expect("shape")
        .iter()
        .map(|v| v.as_u64().expect("dim") as usize)
        .collect();
    (
        shape,
        meta[model]["cases"].as_object().expect("cases").clone(),
    )
}

/// PyTorch's `sum(p.numel() for p in net.parameters())` for `model`.
fn num_params(model: &str) -> u64 {
    let path = crate::manifest_dir().join("tests/fixtures/nonfinite/nonfinite.json");
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json");
    meta[model]["num_params"].as_u64().expect("num_params")
}

/// The script's inputs: a seeded batch with the case's non-finite values put in.
fn input(case: &str, shape: &[usize]) -> TensorData {
    let [n, c, h, w] = [shape[0], shape[1], shape[2], shape[3]];
    let mut v: Vec<f32> = (0..n * c * h * w)
        .map(|i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
        .collect();
    let at = |s: usize, y: usize, x: usize| ((s * c) * h + y) * w + x;
    match case {
        "nan_pixel" => v[at(0, 5, 7)] = f32::NAN,
        "pos_inf_pixel" => v[at(0, 5, 7)] = f32::INFINITY,
        "neg_inf_pixel" => v[at(0, 5, 7)] = f32::NEG_INFINITY,
        "pos_inf_sample" => v[c * h * w..].fill(f32::INFINITY),
        "nan_and_neg_inf" => {
            v[at(0, 3, 3)] = f32::NAN;
            v[at(1, 9, 2)] = f32::NEG_INFINITY;
        }
        other => panic!("unknown case {other}"),
    }
    TensorData::new(v, shape.to_vec())
}

/// One letter per value: `n` NaN, `+`/`-` infinite, `f` finite (the script's `pattern`).
fn pattern(y: TensorData, classes: usize) -> Vec<String> {
    let v = y.to_vec::<f32>().expect("f32");
    v.chunks(classes)
        .map(|row| {
            row.iter()
                .map(|v| match v {
                    v if v.is_nan() => 'n',
                    v if *v == f32::INFINITY => '+',
                    v if *v == f32::NEG_INFINITY => '-',
                    _ => 'f',
                })
                .collect()
        })
        .collect()
}

fn check<B: DeviceBackend>(model: &str, net: Sequential<B>, device: &B::Device) {
    let (shape, cases) = cases(model);
    // Shapes inferred on a finite batch, as PyTorch's script does.
    net.forward_tensor::<4, 2>(Tensor::zeros(shape.clone(), device))
        .expect("infer shapes");
    // PyTorch's parameter count: buffers (running statistics) are not parameters.
    assert_eq!(
        net.num_params() as u64,
        num_params(model),
        "{model} num_params"
    );
    for (key, expected) in cases {
        let (mode, case) = key.split_once('/').expect("mode/case");
        let mut net = net.clone();
        match mode {
            "eval" => net.eval(),
            // `Module::train` (Burn's, imported here) would win over `Sequential::train`.
            _ => Train::train(&mut net),
        };
        let x = Tensor::<B, 4>::from_data(input(case, &shape), device);
        let y = net.forward_tensor::<4, 2>(x).expect("forward");
        let targets = Tensor::<B, 1, Int>::from_data(TensorData::from([1i64, 2]), device);
        let loss = CrossEntropyLossConfig::new()
            .init(device)
            .forward(y.clone(), targets);
        let loss = loss.into_data().to_vec::<f32>().expect("f32")[0];
        let want: Vec<String> = expected["pattern"]
            .as_array()
            .expect("pattern")
            .iter()
            .map(|s| s.as_str().expect("str").to_owned())
            .collect();
        assert_eq!(
            pattern(y.into_data(), 10),
            want,
            "{model} {key} on {}",
            B::KIND
        );
        assert_eq!(
            loss.is_nan(),
            expected["loss_nan"].as_bool().expect("bool"),
            "{model} {key} loss {loss}"
        );
    }
}

backend_test! {
    fn nan_and_inf_reach_lenet_logits_as_in_pytorch<B>(device) {
        check::<B>("lenet", lenet(10), device);
    }
}

backend_test! {
    fn nan_and_inf_reach_resnet18_logits_as_in_pytorch<B>(device) {
        let arch = [(2, 64), (2, 128), (2, 256), (2, 512)];
        check::<B>("resnet18", resnet(&arch, 10), device);
    }
}
