//! The §5.5 exercises that use stored parameters: resuming training bit for bit, and reusing
//! the first layers of a trained network in another architecture.

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn::nn::{LinearConfig, Relu};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::{Distribution, Tensor};
use d2l_blocks::Sequential;
use d2l_device::backend_test;
use d2l_io::{
    load_optimizer, load_state, load_tensors, rename_prefix, save_optimizer, save_state,
    state_tensors,
};
use d2l_params::{Parameters, Strict, load_state_dict};

use crate::scratch;

fn net<B: burn::tensor::backend::Backend>(device: &B::Device) -> Sequential<B> {
    Sequential::new()
        .add(LinearConfig::new(4, 8).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(8, 8).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(8, 1).init(device))
}

backend_test! {
    fn training_resumes_bit_for_bit_from_parameters_and_adam_state<B>(device) {
        type Ad<B> = Autodiff<B>;
        let dir = scratch(&format!("resume-{}", B::KIND));
        B::seed(device, 3);
        let x = Tensor::<Ad<B>, 2>::random([16, 4], Distribution::Normal(0.0, 1.0), device);
        let y = Tensor::<Ad<B>, 2>::random([16, 1], Distribution::Normal(0.0, 1.0), device);
        let step = |net: Sequential<Ad<B>>, optim: &mut dyn FnMut(Sequential<Ad<B>>, GradientsParams) -> Sequential<Ad<B>>| {
            let loss = (net.forward(x.clone()).expect("forward") - y.clone()).powi_scalar(2).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            optim(net, grads)
        };
        let start = net::<Ad<B>>(device);
        save_state(dir.join("start.safetensors"), &start).expect("save");

        // Warm-up: the GPU backends autotune their kernels at first use (and keep the choice in
        // `target/autotune`); a step taken while tuning may use another kernel than the tuned
        // one, so a fresh checkout's first run would compare two kernels, not two runs.
        let mut adam = AdamConfig::new().init();
        let mut warm = start.clone();
        for _ in 0..2 {
            warm = step(warm, &mut |n, g| adam.step(1e-2, n, g));
        }
        drop((warm, adam));

        // Uninterrupted: six Adam steps.
        let mut adam = AdamConfig::new().init();
        let mut straight = start.clone();
        for _ in 0..6 {
            straight = step(straight, &mut |n, g| adam.step(1e-2, n, g));
        }

        // Interrupted: three steps, save parameters and Adam's moments, "crash".
        let mut adam = AdamConfig::new().init();
        let mut first = start;
        for _ in 0..3 {
            first = step(first, &mut |n, g| adam.step(1e-2, n, g));
        }
        save_state(dir.join("mid.safetensors"), &first).expect("save");
        save_optimizer(dir.join("mid.adam"), adam.to_record(), &first).expect("save optimizer");
        drop((first, adam));

        // A fresh process: new parameter ids, new optimizer; load both, three more steps.
        let mut resumed = net::<Ad<B>>(device);
        load_state(dir.join("mid.safetensors"), &mut resumed, true).expect("load");
        let mut adam = AdamConfig::new().init().load_record(load_optimizer(dir.join("mid.adam"), &resumed, device).expect("load optimizer"));
        for _ in 0..3 {
            resumed = step(resumed, &mut |n, g| adam.step(1e-2, n, g));
        }
        assert_eq!(state_tensors(&resumed.valid()), state_tensors(&straight.valid()), "bit-identical parameters");

        // Without the optimizer state the run diverges: the moments matter.
        let mut cold = net::<Ad<B>>(device);
        load_state(dir.join("mid.safetensors"), &mut cold, true).expect("load");
        let mut adam = AdamConfig::new().init();
        for _ in 0..3 {
            cold = step(cold, &mut |n, g| adam.step(1e-2, n, g));
        }
        assert_ne!(state_tensors(&cold.valid()), state_tensors(&straight.valid()));
        // A corrupted optimizer file is a typed error.
        std::fs::write(dir.join("bad.adam"), b"\x92\x01\x02 not a record").expect("write");
        let adam = AdamConfig::new().init::<Ad<B>, Sequential<Ad<B>>>();
        let err = load_optimizer(dir.join("bad.adam"), &cold, device).map(|r| drop(adam.load_record(r))).expect_err("bad file");
        assert!(err.to_string().contains("bad.adam"), "{err}");
    }
}

backend_test! {
    fn the_first_layers_of_a_trained_net_move_into_another_architecture<B>(device) {
        let dir = scratch(&format!("reuse-{}", B::KIND));
        let trained = net::<B>(device);
        save_state(dir.join("trained.safetensors"), &trained).expect("save");
        // A new architecture: the first two Linears as a named body, a new 3-way head.
        let body = Sequential::new()
            .add(LinearConfig::new(4, 8).init(device))
            .add(Relu::new())
            .add(LinearConfig::new(8, 8).init(device));
        let mut other = Sequential::<B>::new().add_named("body", body).expect("name").add(LinearConfig::new(8, 3).init(device));
        let file = load_tensors(dir.join("trained.safetensors")).expect("read");
        let mut taken = rename_prefix(&file, "0", "body.0");
        taken.extend(rename_prefix(&file, "2", "body.2"));
        let report = load_state_dict(&mut other, &taken, Strict::No).expect("partial load");
        assert_eq!(report.loaded, ["body.0.weight", "body.0.bias", "body.2.weight", "body.2.bias"]);
        assert_eq!(report.missing, ["1.weight", "1.bias"]);
        assert!(report.unexpected.is_empty());
        let x = Tensor::<B, 2>::ones([1, 4], device);
        let hidden_trained = {
            let mut first3 = Sequential::<B>::new();
            for i in 0..3 {
                first3.push_boxed(trained.get(i).expect("layer").clone_box());
            }
            first3.forward(x.clone()).expect("forward")
        };
        let hidden_other = other[0].as_sequential().expect("body").forward(x).expect("forward");
        // The values moved exactly; the outputs agree bit for bit on fixed kernels, to rounding
        // where a GPU backend may pick another matmul kernel while it autotunes (seen on CUDA).
        for (ours, theirs) in [("body.0.weight", "0.weight"), ("body.2.bias", "2.bias")] {
            assert_eq!(other.param(ours).expect(ours).data(), trained.param(theirs).expect(theirs).data());
        }
        let rerun = d2l_device::numerics::Tolerance::between_runs(B::KIND, 1);
        assert_eq!(rerun.check_data(&hidden_other.into_data(), &hidden_trained.into_data()), Ok(()));
    }
}

backend_test! {
    fn a_background_checkpoint_holds_the_parameters_as_they_were_when_asked_for<B>(device) {
        // flex and ndarray keep a handle to each parameter instead of copying it: the SGD
        // steps after `save` must not reach the file (a backend writes in place only into a
        // buffer nothing else holds).
        use burn::optim::SgdConfig;
        type Ad<B> = Autodiff<B>;
        let dir = scratch(&format!("snapshot-{}", B::KIND));
        let x = Tensor::<Ad<B>, 2>::random([16, 4], Distribution::Normal(0.0, 1.0), device);
        let mut net = net::<Ad<B>>(device);
        let mut sgd = SgdConfig::new().init();
        let mut checkpoints = d2l_io::Checkpointer::new().expect("writer");
        let saved = state_tensors(&net);
        checkpoints.save(dir.join("ckpt.safetensors"), &net).expect("queued");
        for _ in 0..3 {
            let loss = net.forward(x.clone()).expect("forward").powi_scalar(2).mean();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = sgd.step(0.5, net, grads);
        }
        let trained = state_tensors(&net);
        checkpoints.flush().expect("written");
        let file = load_tensors(dir.join("ckpt.safetensors")).expect("read");
        for ((key, at_save), (_, after)) in saved.iter().zip(&trained) {
            assert_eq!(&file[key], at_save, "{key}: the value when save was asked for");
            assert_ne!(at_save, after, "{key}: the steps changed it");
        }
    }
}
