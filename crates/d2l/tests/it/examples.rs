//! Every example's body runs on the backend `D2L_BACKEND` selects.

use d2l::device::backend_test;

#[path = "../../../../examples/sec13_5_multiple_gpus/main.rs"]
mod sec13_5_multiple_gpus;
#[path = "../../../../examples/sec13_6_multiple_gpus_concise/main.rs"]
mod sec13_6_multiple_gpus_concise;
#[path = "../../../../examples/sec5_1_exercises/main.rs"]
mod sec5_1_exercises;
#[path = "../../../../examples/sec5_1_layers_and_blocks/main.rs"]
mod sec5_1_layers_and_blocks;
#[path = "../../../../examples/sec5_2_exercises/main.rs"]
mod sec5_2_exercises;
#[path = "../../../../examples/sec5_2_parameters/main.rs"]
mod sec5_2_parameters;
#[path = "../../../../examples/sec5_3_deferred_init/main.rs"]
mod sec5_3_deferred_init;
#[path = "../../../../examples/sec5_3_exercises/main.rs"]
mod sec5_3_exercises;
#[path = "../../../../examples/sec5_4_custom_layers/main.rs"]
mod sec5_4_custom_layers;
#[path = "../../../../examples/sec5_4_exercises/main.rs"]
mod sec5_4_exercises;
#[path = "../../../../examples/sec5_5_exercises/main.rs"]
mod sec5_5_exercises;
#[path = "../../../../examples/sec5_5_file_io/main.rs"]
mod sec5_5_file_io;
#[path = "../../../../examples/sec5_6_gpus/main.rs"]
mod sec5_6_gpus;
#[path = "../../../../examples/sec7_6_and_8_6_cnns/main.rs"]
mod sec7_6_and_8_6_cnns;

backend_test! {
    fn sec5_2_parameters_runs<B>(device) {
        sec5_2_parameters::section::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_2_exercises_runs<B>(device) {
        sec5_2_exercises::exercises::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_1_layers_and_blocks_runs<B>(device) {
        sec5_1_layers_and_blocks::section::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_1_exercises_runs<B>(device) {
        sec5_1_exercises::exercises::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_5_file_io_runs<B>(device) {
        sec5_5_file_io::section::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_5_exercises_runs<B>(device) {
        sec5_5_exercises::exercises::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_6_gpus_runs<B>(device) {
        sec5_6_gpus::section::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn torch_repr_names_non_cpu_devices<B>(device) {
        let x = burn::tensor::Tensor::<B, 2>::ones([2, 3], device);
        let shown = d2l::print::torch_repr(&x);
        let name = d2l::device::device_name::<B>(device);
        let body = "tensor([[1., 1., 1.],\n        [1., 1., 1.]]";
        if name == d2l::device::DeviceSpec::Cpu {
            assert_eq!(shown, format!("{body})"));
        } else {
            assert_eq!(shown, format!("{body}, device='{name}')"));
        }
    }
}

backend_test! {
    fn torch_repr_of_zero_size_and_non_finite_tensors<B>(device) {
        let suffix = match d2l::device::device_name::<B>(device) {
            d2l::device::DeviceSpec::Cpu => String::new(),
            name => format!(", device='{name}'"),
        };
        let empty = burn::tensor::Tensor::<B, 2>::zeros([2, 0], device);
        assert_eq!(d2l::print::torch_repr(&empty), format!("tensor([], size=(2, 0){suffix})"));
        let odd = burn::tensor::Tensor::<B, 1>::from_floats([1.0, f32::NAN, f32::INFINITY], device);
        assert_eq!(d2l::print::torch_repr(&odd), format!("tensor([ 1., nan, inf]{suffix})"));
    }
}

backend_test! {
    fn sec5_3_deferred_init_runs<B>(device) {
        sec5_3_deferred_init::section::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_3_exercises_runs<B>(device) {
        sec5_3_exercises::exercises::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_4_custom_layers_runs<B>(device) {
        sec5_4_custom_layers::section::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_4_exercises_runs<B>(device) {
        sec5_4_exercises::exercises::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn a_lazy_network_loads_a_checkpoint_before_its_first_forward<B>(device) {
        use d2l::io::{load_state, save_state};
        use d2l::layers::LazyLinear;
        use d2l::params::Parameters;
        let dir = std::env::temp_dir().join(format!("d2l-lazy-load-{}-{}", B::KIND, std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let lazy = || d2l::blocks::Sequential::<B>::new().add(LazyLinear::new(8)).add(burn::nn::Relu::new()).add(LazyLinear::new(1));
        let trained = lazy();
        let x = burn::tensor::Tensor::<B, 2>::ones([2, 5], device);
        let y = trained.forward(x.clone()).expect("materializes at width 5");
        save_state(dir.join("lazy.safetensors"), &trained).expect("save");
        let mut fresh = lazy();
        assert!(fresh.named_parameters().is_empty());
        let report = load_state(dir.join("lazy.safetensors"), &mut fresh, true).expect("load");
        assert_eq!(report.loaded, ["0.weight", "0.bias", "2.weight", "2.bias"]);
        assert_eq!(fresh.param("0.weight").expect("weight").shape(), [8, 5]);
        let again = fresh.forward(x).expect("forward").into_data();
        assert_eq!(d2l_device::numerics::Tolerance::between_runs(B::KIND, 2).check_data(&again, &y.into_data()), Ok(()));
        let _ = std::fs::remove_dir_all(&dir);
    }
}

backend_test! {
    fn a_model_saves_its_architecture_with_its_parameters<B>(device) {
        use d2l::io::{IoError, load_model, save_model};
        use d2l::layers::{CenteredLayer, FourierHalf, MyLinear};
        let dir = std::env::temp_dir().join(format!("d2l-arch-{}-{}", B::KIND, std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let registry = d2l::chapter_registry::<B>();
        let net = d2l::blocks::Sequential::<B>::new()
            .add(burn::nn::LinearConfig::new(6, 8).init(device))
            .add(burn::nn::Relu::new())
            .add(d2l::blocks::layers::Dropout::new(0.25))
            .add_named("body", d2l::blocks::Sequential::new().add(MyLinear::new(8, 4, device)).add(CenteredLayer::new()))
            .expect("name")
            .add(FourierHalf::new(4, device))
            .add(d2l::blocks::Identity::new());
        let x = burn::tensor::Tensor::<B, 2>::ones([3, 6], device);
        let y = net.forward(x.clone()).expect("forward");
        save_model(dir.join("model.safetensors"), &net, &registry).expect("save");
        let back = load_model(dir.join("model.safetensors"), &registry, device).expect("load");
        assert_eq!(back.to_string(), net.to_string());
        let again = back.forward(x).expect("forward").into_data();
        assert_eq!(d2l_device::numerics::Tolerance::between_runs(B::KIND, 2).check_data(&again, &y.into_data()), Ok(()));
        // A type the registry does not know is named in the error.
        let odd = d2l::blocks::Sequential::<B>::new().add(d2l::blocks::book::FixedHiddenMlp::new(device));
        let err = save_model(dir.join("odd.safetensors"), &odd, &registry).expect_err("unregistered");
        assert!(matches!(err, IoError::Architecture { .. }) && err.to_string().contains("FixedHiddenMlp") && err.to_string().contains("`0`"), "{err}");
        // So is a tie, and a file without an architecture.
        let (tied, _) = d2l::blocks::book::tied::<B>(device);
        assert!(save_model(dir.join("tied.safetensors"), &tied, &registry).expect_err("tied").to_string().contains("tied"));
        d2l::io::save_state(dir.join("plain.safetensors"), &net).expect("save");
        assert!(load_model(dir.join("plain.safetensors"), &registry, device).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}

backend_test! {
    fn sec7_6_and_8_6_cnns_runs<B>(device) {
        sec7_6_and_8_6_cnns::section::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec13_5_multiple_gpus_runs<B>(device) {
        sec13_5_multiple_gpus::section::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec13_6_multiple_gpus_concise_runs<B>(device) {
        sec13_6_multiple_gpus_concise::section::<B>(device).expect("the example runs and its assertions hold");
    }
}
