//! One small case per block: printout, keys, train-mode output and buffers, eval output.

use burn::nn::conv::{Conv1dConfig, Conv2dConfig, ConvTranspose2dConfig};
use burn::nn::pool::{
    AdaptiveAvgPool1dConfig, AdaptiveAvgPool2dConfig, AvgPool1dConfig, AvgPool2dConfig,
    MaxPool1dConfig, MaxPool2dConfig,
};
use burn::nn::{
    EmbeddingConfig, GroupNormConfig, LayerNormConfig, LeakyReluConfig, PaddingConfig1d,
    PaddingConfig2d,
};
use burn::tensor::{Tensor, TensorData};
use d2l_blocks::layers::{BatchNorm, Flatten, Softmax};
use d2l_blocks::{Block, Sequential};
use d2l_device::{DeviceBackend, backend_test};
use d2l_params::{Parameters, Strict, load_state_dict};

use super::{assert_close, meta, strings, tensors, tolerance, under};

/// Every case of `blocks.json`, built here as its PyTorch twin was there.
fn case<B: DeviceBackend>(name: &str, device: &B::Device) -> Box<dyn Block<B>> {
    let p1 = PaddingConfig1d::Explicit(1, 1);
    let p2 = |h, w| PaddingConfig2d::Explicit(h, w, h, w);
    match name {
        "conv1d" => Box::new(
            Conv1dConfig::new(2, 4, 3)
                .with_stride(2)
                .with_padding(p1)
                .init::<B>(device),
        ),
        "conv2d" => Box::new(
            Conv2dConfig::new([4, 6], [3, 3])
                .with_stride([2, 1])
                .with_padding(p2(1, 2))
                .with_dilation([1, 2])
                .with_groups(2)
                .init::<B>(device),
        ),
        "conv2d_nobias" => Box::new(
            Conv2dConfig::new([3, 2], [2, 3])
                .with_bias(false)
                .init::<B>(device),
        ),
        "conv_transpose2d" => Box::new(
            ConvTranspose2dConfig::new([4, 6], [3, 3])
                .with_stride([2, 2])
                .with_padding([1, 1])
                .with_padding_out([1, 1])
                .with_groups(2)
                .init::<B>(device),
        ),
        "max_pool1d" => Box::new(
            MaxPool1dConfig::new(3)
                .with_stride(2)
                .with_padding(p1)
                .init(),
        ),
        "max_pool2d" => Box::new(
            MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(p2(1, 1))
                .init(),
        ),
        "max_pool2d_k2" => Box::new(MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init()),
        "avg_pool1d" => Box::new(
            AvgPool1dConfig::new(3)
                .with_stride(2)
                .with_padding(p1)
                .init(),
        ),
        "avg_pool2d" => Box::new(AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init()),
        "avg_pool2d_pad" => Box::new(
            AvgPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(p2(1, 1))
                .init(),
        ),
        "adaptive_avg_pool1d" => Box::new(AdaptiveAvgPool1dConfig::new(4).init()),
        "adaptive_avg_pool2d" => Box::new(AdaptiveAvgPool2dConfig::new([3, 2]).init()),
        "adaptive_avg_pool2d_1" => Box::new(AdaptiveAvgPool2dConfig::new([1, 1]).init()),
        "batch_norm1d" => Box::new(BatchNorm::<B>::new_1d(5, device)),
        "batch_norm2d" => Box::new(BatchNorm::<B>::new_2d(3, device).with_momentum(0.2)),
        "batch_norm1d_3d" => Box::new(BatchNorm::<B>::new_1d(3, device)),
        "layer_norm" => Box::new(LayerNormConfig::new(6).init::<B>(device)),
        "group_norm" => Box::new(GroupNormConfig::new(2, 6).init::<B>(device)),
        "embedding" => Box::new(EmbeddingConfig::new(10, 4).init::<B>(device)),
        "flatten" => Box::new(Flatten::new()),
        "leaky_relu" => Box::new(LeakyReluConfig::new().with_negative_slope(0.2).init()),
        "softmax" => Box::new(Softmax::new(1)),
        other => panic!("no Rust twin for fixture case `{other}`"),
    }
}

/// A fixture tensor on `device`, as an activation of its own rank.
fn input<B: DeviceBackend>(data: &TensorData, device: &B::Device) -> d2l_blocks::Activation<B> {
    d2l_blocks::Activation::from_primitive(d2l_blocks::tensor::from_data(
        data.clone().convert::<f32>(),
        device,
    ))
}

backend_test! {
    fn every_block_prints_keys_and_computes_as_pytorch_in_both_modes<B>(device) {
        let meta = meta("blocks");
        let all = tensors("blocks");
        let cases = meta.as_object().expect("cases");
        let mut seen = 0;
        for (name, case_meta) in cases.iter().filter(|(k, _)| *k != "torch") {
            let mut net = Sequential::<B>::new();
            net.push_boxed(case::<B>(name, device));
            assert_eq!(net[0].to_string(), case_meta["repr"].as_str().expect("repr"), "{name}: printout");
            let keys: Vec<String> = net[0].state_dict().keys().iter().map(|k| k.to_string()).collect();
            assert_eq!(keys, strings(&case_meta["keys"]), "{name}: state_dict keys");
            let params: Vec<String> = net[0].named_parameters().iter().map(|p| p.key().to_owned()).collect();
            assert_eq!(params, strings(&case_meta["params"]), "{name}: named_parameters");
            let state = under(&all, &format!("{name}/p/"), "0.");
            let report = load_state_dict(&mut net, &state, Strict::Yes).expect("strict load");
            assert_eq!(report.loaded.len(), keys.len(), "{name}");

            let x = &all[&format!("{name}/x")];
            net.train();
            let y = net.forward_activation(input::<B>(x, device)).expect("train forward");
            let y = d2l_blocks::tensor::to_data(&y.into_primitive());
            // Each block has at most 3 convolutions on a path (the residual block's two and its 1×1).
            let tol = tolerance::<B>(1e-4, 3);
            assert_close(&y, &all[&format!("{name}/y")], tol, &format!("{name}: train output"));
            for key in &keys {
                let ours = net.state_dict()[format!("0.{key}").as_str()].data();
                let theirs = &all[&format!("{name}/after/{key}")];
                assert_eq!(ours.dtype, theirs.dtype, "{name}: {key} dtype");
                assert_close(&ours, theirs, tolerance::<B>(1e-4, 6), &format!("{name}: {key} after a train step"));
            }
            net.eval();
            let y = net.forward_activation(input::<B>(x, device)).expect("eval forward");
            let y = d2l_blocks::tensor::to_data(&y.into_primitive());
            assert_close(&y, &all[&format!("{name}/y_eval")], tol, &format!("{name}: eval output"));
            seen += 1;
        }
        assert_eq!(seen, 22);
    }
}

backend_test! {
    fn batch_norm_gradients_are_exact_with_many_channels<B>(device) {
        // Eval mode: y = (x - μ) / √(σ² + ε) · γ + β, so ∂Σy/∂x = γ / √(σ² + ε) per channel.
        // 64 channels: ndarray's SIMD reciprocal (the CPU's approximate `rcpps`, ≥ 32 values)
        // must not reach the gradient.
        use burn::backend::Autodiff;
        use d2l_blocks::{Train, TypedForward};
        let c = 64;
        let var: Vec<f32> = (0..c).map(|i| 0.5 + 0.0137 * i as f32).collect();
        let mut bn = BatchNorm::<Autodiff<B>>::new_1d(c, device);
        bn.running_var.set(Tensor::from_data(TensorData::new(var.clone(), [c]), device));
        Train::eval(&mut bn);
        let x = Tensor::<Autodiff<B>, 3>::ones([2, c, 3], device).require_grad();
        let y = bn.forward_tensor::<3, 3>(x.clone()).expect("forward");
        let grads = y.sum().backward();
        let dx = x.grad(&grads).expect("grad").into_data().to_vec::<f32>().expect("f32");
        let worst = dx
            .iter()
            .enumerate()
            .map(|(k, g)| {
                let exact = 1.0 / (f64::from(var[(k / 3) % c]) + 1e-5).sqrt();
                (f64::from(*g) / exact - 1.0).abs()
            })
            .fold(0.0, f64::max);
        assert!(worst < 2e-6, "BatchNorm's input gradient is off by {worst:e} (relative)");
    }
}
