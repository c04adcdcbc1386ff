//! LeNet (§7.6) and the book's ResNet (§8.6) against PyTorch: printouts before and after the
//! lazy layers infer their shapes, keys with buffers, eval and train outputs, the gradients of
//! a cross-entropy loss, and parameters and running statistics after three SGD steps.

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::{Int, Tensor, TensorData};
use d2l_blocks::Sequential;
use d2l_device::{DeviceBackend, backend_test};
use d2l_layers::models::{lenet, resnet};
use d2l_params::{Parameters, Strict, load_state_dict};

use super::{assert_close, meta, strings, tensors, tolerance, under};

/// Runs the whole comparison for the fixture `name` on `net` (lazy, as PyTorch's was built).
fn matches_pytorch<B: DeviceBackend>(
    name: &str,
    mut net: Sequential<Autodiff<B>>,
    device: &B::Device,
) {
    let meta = meta(name);
    let all = tensors(name);
    assert_eq!(
        net.to_string(),
        meta["lazy_repr"].as_str().expect("repr"),
        "lazy printout"
    );

    // The initial state materializes the lazy layers (strictly: every key, buffers too).
    let init = under(&all, "init/", "");
    load_state_dict(&mut net, &init, Strict::Yes).expect("strict load");
    assert_eq!(
        net.to_string(),
        meta["repr"].as_str().expect("repr"),
        "printout"
    );
    let keys: Vec<String> = net
        .state_dict()
        .keys()
        .iter()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(keys, strings(&meta["keys"]));
    let params: Vec<String> = net
        .named_parameters()
        .iter()
        .map(|p| p.key().to_owned())
        .collect();
    assert_eq!(params, strings(&meta["params"]));
    // Matmuls and convolutions on the way to the output (weights of rank ≥ 2); the backward
    // goes through them again.
    let depth = net
        .named_parameters()
        .iter()
        .filter(|p| p.key().ends_with("weight") && p.shape().len() >= 2)
        .count();
    let forward = |tol| tolerance::<B>(tol, depth);
    let backward = |tol| tolerance::<B>(tol, 2 * depth);

    let x = Tensor::<Autodiff<B>, 4>::from_data(all["x"].clone(), device);
    // The book's layer_summary, on a copy (a train-mode pass updates running statistics).
    let summary = net.clone().layer_summary(x.clone()).expect("summary");
    let expected: Vec<(String, Vec<usize>)> = meta["layer_summary"]
        .as_array()
        .expect("summary")
        .iter()
        .map(|row| {
            let class = row[0].as_str().expect("class").to_owned();
            let shape = row[1]
                .as_array()
                .expect("shape")
                .iter()
                .map(|d| d.as_u64().expect("dim") as usize)
                .collect();
            (class, shape)
        })
        .collect();
    let ours: Vec<(String, Vec<usize>)> = summary.into_iter().map(|l| (l.class, l.shape)).collect();
    assert_eq!(ours, expected, "layer_summary");

    net.eval();
    let y = net.forward_tensor::<4, 2>(x.clone()).expect("eval forward");
    assert_close(&y.into_data(), &all["y_eval"], forward(1e-4), "eval output");

    net.train();
    let labels: Vec<i64> = all["labels"]
        .clone()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("labels")
        .iter()
        .map(|&l| l as i64)
        .collect();
    let n = labels.len();
    let labels = Tensor::<Autodiff<B>, 1, Int>::from_data(TensorData::new(labels, [n]), device);
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut optim = SgdConfig::new().init();
    for step in 0..3 {
        let y = net
            .forward_tensor::<4, 2>(x.clone())
            .expect("train forward");
        if step == 0 {
            assert_close(
                &y.clone().into_data(),
                &all["y_train"],
                forward(1e-4),
                "train output",
            );
        }
        let loss = loss_fn.forward(y, labels.clone());
        if step == 0 {
            assert_close(
                &loss.clone().reshape([1]).into_data(),
                &all["loss"],
                forward(1e-5),
                "loss",
            );
        }
        let grads = loss.backward();
        if step == 0 {
            for p in net.named_parameters() {
                let grad = p.grad(&grads).expect("every parameter has a gradient");
                assert_close(
                    &grad,
                    &all[&format!("grad/{}", p.key())],
                    backward(1e-4),
                    &format!("grad of {}", p.key()),
                );
            }
        }
        let grads = GradientsParams::from_grads(grads, &net);
        net = optim.step(0.1, net, grads);
    }
    for view in net.state_dict().iter() {
        let theirs = &all[&format!("trained/{}", view.key())];
        assert_eq!(view.dtype(), theirs.dtype, "{}", view.key());
        assert_close(
            &view.data(),
            theirs,
            backward(2e-4),
            &format!("{} after 3 SGD steps", view.key()),
        );
    }
    // Evaluation after training, here and on the inner backend (`valid()`), both PyTorch's.
    net.eval();
    let y = net.forward_tensor::<4, 2>(x.clone()).expect("eval forward");
    assert_close(
        &y.into_data(),
        &all["y_eval_trained"],
        backward(2e-4),
        "eval output after training",
    );
    let valid = net.valid();
    let x = Tensor::<B, 4>::from_data(all["x"].clone(), device);
    let y = valid.forward_tensor::<4, 2>(x).expect("valid forward");
    assert_close(
        &y.into_data(),
        &all["y_eval_trained"],
        backward(2e-4),
        "valid() output after training",
    );
}

backend_test! {
    fn lenet_matches_pytorch_from_lazy_printout_to_sgd_steps<B>(device) {
        matches_pytorch::<B>("lenet", lenet(10), device);
    }
}

backend_test! {
    fn the_books_resnet_matches_pytorch_with_batch_norm_buffers_and_steps<B>(device) {
        let net = resnet(&[(1, 64), (1, 16)], 10);
        matches_pytorch::<B>("resnet", net, device);
    }
}
