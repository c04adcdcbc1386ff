//! `Sequential` is a real Burn `Module`: optimizers, counts, devices, autodiff, records, store.

use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Module};
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::Tensor;
use burn_store::ModuleSnapshot;
use d2l_blocks::Sequential;
use d2l_device::backend_test;

use crate::{check, constant_linear};

backend_test! {
    fn burns_sgd_steps_a_nested_sequential<B>(device) {
        type Ad<B> = Autodiff<B>;
        let inner = Sequential::<Ad<B>>::new().add(constant_linear(2, 1, 0.5, device));
        let net = Sequential::<Ad<B>>::new().add(inner).add(Relu::new());
        // y = 0.5·1 + 0.5·2 + 0.5 = 2; dL/dW = x = [1, 2], dL/db = 1.
        let x = Tensor::<Ad<B>, 2>::from_floats([[1.0, 2.0]], device);
        let y = net.forward_tensor::<2, 2>(x.clone()).expect("forward");
        let grads = GradientsParams::from_grads(y.sum().backward(), &net);
        assert_eq!(grads.len(), 2, "both parameters have gradients");
        let mut optim = SgdConfig::new().init();
        let net = optim.step(0.1, net, grads);
        let linear = net[0][0].downcast_ref::<Linear<Ad<B>>>().expect("Linear at 0.0");
        check(linear.weight.val(), [[0.4f32], [0.3]]);
        check(linear.bias.as_ref().expect("bias").val(), [0.4f32]);
        // 0.4·1 + 0.3·2 + 0.4 = 1.4
        check(net.forward_tensor::<2, 2>(x).expect("forward"), [[1.4f32]]);
    }
}

backend_test! {
    fn num_params_counts_every_child<B>(device) {
        let net = Sequential::<B>::new()
            .add(LinearConfig::new(20, 256).init(device))
            .add(Relu::new())
            .add(Sequential::new().add(LinearConfig::new(256, 10).init(device)));
        assert_eq!(net.num_params(), 20 * 256 + 256 + 256 * 10 + 10);
        assert_eq!(Sequential::<B>::new().num_params(), 0);
    }
}

backend_test! {
    fn fork_and_to_device_move_every_parameter<B>(device) {
        let net = Sequential::<B>::new()
            .add(constant_linear(2, 2, 1.0, device))
            .add(Sequential::new().add(constant_linear(2, 1, 1.0, device)));
        let target = d2l_device::try_gpu::<B>(0);
        let moved = net.clone().to_device(&target);
        assert_eq!(moved.devices(), vec![target.clone()]);
        let forked = net.fork(&target);
        assert_eq!(forked.devices(), vec![target.clone()]);
        // x = [1, 1]: first layer gives [3, 3], second 3 + 3 + 1 = 7.
        let y = forked.forward_tensor::<2, 2>(Tensor::ones([1, 2], &target)).expect("forward");
        check(y, [[7.0f32]]);
    }
}

backend_test! {
    fn valid_and_from_inner_change_the_backend<B>(device) {
        type Ad<B> = Autodiff<B>;
        let net = Sequential::<Ad<B>>::new()
            .add(constant_linear(3, 2, 0.25, device))
            .add(Relu::new())
            .add(Sequential::new().add(constant_linear(2, 1, 1.0, device)));
        let valid: Sequential<B> = net.valid();
        assert_eq!(valid.to_string(), net.to_string());
        // [1, 1, 1] → 0.25·3 + 0.25 = 1 twice → 1 + 1 + 1 = 3.
        let y = valid.forward_tensor::<2, 2>(Tensor::ones([1, 3], device)).expect("inner forward");
        check(y, [[3.0f32]]);
        let back: Sequential<Ad<B>> = Sequential::from_inner(valid);
        let x = Tensor::<Ad<B>, 2>::ones([1, 3], device).require_grad();
        let y = back.forward_tensor::<2, 2>(x.clone()).expect("autodiff forward");
        let grads = y.sum().backward();
        // dy/dx_i = Σ_j 0.25 · 1 = 0.5 for each input.
        check(x.grad(&grads).expect("input grad"), [[0.5f32, 0.5, 0.5]]);
    }
}

backend_test! {
    fn burn_store_sees_pytorch_style_paths<B>(device) {
        let block = Sequential::<B>::new().add(constant_linear(4, 8, 1.0, device)).add(Relu::new());
        let net = Sequential::<B>::new()
            .add(Sequential::new().add_named("block 0", block).expect("fresh"))
            .add(constant_linear(8, 1, 2.0, device));
        let snapshots = net.collect(None, None, false);
        let paths: Vec<String> = snapshots.iter().map(|s| s.full_path()).collect();
        assert_eq!(paths, ["0.block 0.0.weight", "0.block 0.0.bias", "1.weight", "1.bias"]);
        // Apply the snapshots to a differently initialized twin: it now computes the same.
        let mut twin = Sequential::<B>::new()
            .add(Sequential::new().add_named("block 0", Sequential::new().add(constant_linear(4, 8, 0.0, device)).add(Relu::new())).expect("fresh"))
            .add(constant_linear(8, 1, 0.0, device));
        // `Sequential::apply` is PyTorch's `apply(fn)`; burn-store's is reached by its trait.
        let result = ModuleSnapshot::apply(&mut twin, snapshots, None, None, false);
        assert_eq!(result.applied.len(), 4, "{result:?}");
        assert!(result.errors.is_empty() && result.missing.is_empty(), "{result:?}");
        let x = Tensor::<B, 2>::ones([1, 4], device);
        // 8 hidden units of 4 + 1 = 5, then 2·(8·5) + 2 = 82.
        check(twin.forward_tensor::<2, 2>(x).expect("forward"), [[82.0f32]]);
    }
}

backend_test! {
    fn records_round_trip_through_burns_recorder<B>(device) {
        use burn::record::{BinBytesRecorder, FullPrecisionSettings, Recorder};
        let net = Sequential::<B>::new().add(constant_linear(2, 2, 1.5, device)).add(Relu::new());
        let recorder = BinBytesRecorder::<FullPrecisionSettings>::default();
        let bytes = recorder.record(net.clone().into_record(), ()).expect("record");
        let record = recorder.load(bytes, device).expect("load");
        let fresh = Sequential::<B>::new().add(constant_linear(2, 2, 0.0, device)).add(Relu::new());
        let loaded = fresh.load_record(record);
        // [1, 1] → 1.5·2 + 1.5 = 4.5 on both outputs.
        let y = loaded.forward_tensor::<2, 2>(Tensor::ones([1, 2], device)).expect("forward");
        check(y, [[4.5f32, 4.5]]);
    }
}

backend_test! {
    fn a_clone_before_first_use_computes_what_the_original_does<B>(device) {
        // Burn draws a Linear's values on first use; a clone taken before must not draw its own.
        let net = Sequential::<B>::new().add(LinearConfig::new(4, 3).init(device)).add(Relu::new());
        let copy = net.clone();
        let x = Tensor::<B, 2>::ones([2, 4], device);
        let (copied, original) = (copy.forward(x.clone()).expect("copy"), net.forward(x).expect("original"));
        assert_eq!(d2l_device::numerics::Tolerance::between_runs(B::KIND, 3).check_data(&copied.into_data(), &original.into_data()), Ok(()));
    }
}
