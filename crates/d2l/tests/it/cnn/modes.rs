//! Train and eval modes through every block, hooks and capture by module path, buffers apart
//! from parameters, and initialization of a lazy CNN.

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn::nn::DropoutConfig;
use burn::tensor::Tensor;
use d2l_blocks::layers::BatchNorm;
use d2l_blocks::{Sequential, trace};
use d2l_device::backend_test;
use d2l_layers::LazyConv2d;
use d2l_layers::models::{init_cnn, lenet, resnet};
use d2l_params::{Init, Parameters};

backend_test! {
    fn dropout_and_batch_norm_follow_train_and_eval_on_every_backend<B>(device) {
        let x = Tensor::<Autodiff<B>, 2>::ones([64, 64], device);
        let mut net = Sequential::<Autodiff<B>>::new().add(DropoutConfig::new(0.5).init());
        // Burn's rule by default: training under Autodiff — values dropped or doubled.
        let y = net.forward(x.clone()).expect("forward").into_data().to_vec::<f32>().expect("f32");
        let dropped = y.iter().filter(|&&v| v == 0.0).count();
        assert!(y.iter().all(|&v| v == 0.0 || v == 2.0));
        assert!((1000..3100).contains(&dropped), "{dropped} of 4096 dropped");
        // eval(): the identity, even under Autodiff.
        net.eval();
        assert_eq!(net.forward(x.clone()).expect("forward").into_data(), x.clone().into_data());
        // train() on a backend without autodiff (valid()) drops again.
        net.train();
        let inner = net.valid();
        assert_eq!(inner.training(), Some(true));
        let y = inner.forward(x.inner()).expect("forward").into_data().to_vec::<f32>().expect("f32");
        assert!(y.iter().any(|&v| v == 0.0));

        // Batch norm nested in a custom block inside a Sequential: running statistics move in
        // training only, and valid() of an untouched network evaluates.
        let mut net = resnet::<Autodiff<B>>(&[(1, 64)], 3).expect("resnet");
        let x = Tensor::<Autodiff<B>, 4>::ones([2, 1, 8, 8], device);
        net.forward_tensor::<4, 2>(x.clone()).expect("train");
        let count = |net: &Sequential<Autodiff<B>>| net.state_dict()["b2.0.bn1.num_batches_tracked"].data().to_vec::<i64>().expect("i64")[0];
        assert_eq!(count(&net), 1);
        net.eval();
        net.forward_tensor::<4, 2>(x.clone()).expect("eval");
        assert_eq!(count(&net), 1);
        net.train();
        net.forward_tensor::<4, 2>(x.clone()).expect("train");
        assert_eq!(count(&net), 2);

        let bn = BatchNorm::<Autodiff<B>>::new_2d(3, device);
        let plain = Sequential::new().add(bn);
        let y = plain.valid().forward(Tensor::<B, 4>::ones([2, 3, 2, 2], device).mul_scalar(5.0)).expect("valid");
        // Running mean 0 and variance 1: (5 - 0) / sqrt(1 + 1e-5).
        let v = y.into_data().to_vec::<f32>().expect("f32")[0];
        assert!((v - 5.0 / (1.0f32 + 1e-5).sqrt()).abs() < 1e-5, "{v}");
    }
}

backend_test! {
    fn hooks_see_every_module_by_its_pytorch_path<B>(device) {
        let net = resnet::<B>(&[(1, 64), (1, 16)], 3).expect("resnet");
        let x = Tensor::<B, 4>::ones([2, 1, 16, 16], device);
        let (y, seen) = trace::capture::<B, _>(&["b2.0.conv1", "b3.0.conv3", "last.1", "0"], || net.forward_tensor::<4, 2>(x.clone()));
        assert_eq!(y.expect("forward").dims(), [2, 3]);
        assert_eq!(seen.paths(), ["0", "b2.0.conv1", "b3.0.conv3", "last.1"]);
        assert_eq!(seen.get("b2.0.conv1").map(|a| a.shape()), Some(vec![2, 64, 4, 4]));
        assert_eq!(seen.get("b3.0.conv3").map(|a| a.shape()), Some(vec![2, 16, 2, 2]));
        assert_eq!(seen.get("last.1").map(|a| a.shape()), Some(vec![2, 16]));
        // Every module, as named_modules() lists them, reports once per forward.
        let (_, all) = trace::capture::<B, _>(&[], || net.forward_tensor::<4, 2>(x.clone()));
        let modules: Vec<String> = trace::named_modules(&net).into_iter().map(|(p, _)| p).filter(|p| !p.is_empty()).collect();
        let mut reported: Vec<String> = all.paths().into_iter().map(str::to_owned).collect();
        reported.sort();
        let mut expected = modules.clone();
        expected.sort();
        assert_eq!(reported, expected);
        assert_eq!(trace::named_modules(&net)[..3].iter().map(|(p, c)| format!("{p}:{c}")).collect::<Vec<_>>(), [":Sequential", "0:Sequential", "0.0:Conv2d"]);
    }
}

backend_test! {
    fn buffers_stay_out_of_parameters_and_init_cnn_is_xavier_on_conv_and_linear<B>(device) {
        let mut net = resnet::<B>(&[(1, 64)], 3).expect("resnet");
        net.forward_tensor::<4, 2>(Tensor::zeros([2, 1, 16, 16], device)).expect("materialize");
        let params = net.named_parameters();
        assert!(params.iter().all(|p| !p.key().contains("running") && !p.key().ends_with("num_batches_tracked")));
        let buffers: Vec<String> = net.named_buffers().iter().map(|b| b.key().to_owned()).collect();
        assert_eq!(&buffers[..3], ["0.1.running_mean", "0.1.running_var", "0.1.num_batches_tracked"]);
        assert_eq!(net.state_dict().len(), params.len() + buffers.len());
        let before = net.state_dict();
        let count = init_cnn(&mut net).expect("init");
        assert_eq!(count, 4); // 0.0, b2.0.conv1, b2.0.conv2 and last.2 weights; no buffer
        for view in net.state_dict().iter() {
            let old = before[view.key()].data();
            if view.key().ends_with("weight") && view.shape().len() >= 2 {
                let shape = view.shape();
                let receptive: usize = shape[2..].iter().product();
                let bound = (6.0 / ((shape[0] + shape[1]) * receptive) as f32).sqrt();
                let values = view.data().to_vec::<f32>().expect("f32");
                assert!(values.iter().all(|v| v.abs() <= bound + 1e-6), "{}", view.key());
                assert_ne!(view.data(), old, "{}", view.key());
            } else {
                assert_eq!(view.data(), old, "{} must not change", view.key());
            }
        }
        // An initializer chosen before the first forward is applied when the shapes arrive.
        let net = Sequential::<B>::new().add(
            LazyConv2d::new(2, [3, 3]).with_init(Some(Init::Constant(0.5)), Some(Init::Zeros)).expect("init"),
        );
        net.forward(Tensor::<B, 4>::ones([1, 3, 5, 5], device)).expect("forward");
        assert_eq!(net.param("0.weight").expect("weight").data().to_vec::<f32>().expect("f32"), vec![0.5; 2 * 3 * 9]);
        let _ = lenet::<B>(10);
    }
}
