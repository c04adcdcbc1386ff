//! Every example's body runs on the backend `D2L_BACKEND` selects.

use d2l::device::backend_test;

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
#[path = "../../../../examples/sec5_5_file_io/main.rs"]
mod sec5_5_file_io;
#[path = "../../../../examples/sec5_6_gpus/main.rs"]
mod sec5_6_gpus;

backend_test! {
    fn sec5_2_parameters_runs<B>(device) {
        sec5_2_parameters::Section.run::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_2_exercises_runs<B>(device) {
        sec5_2_exercises::Exercises.run::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_1_layers_and_blocks_runs<B>(device) {
        sec5_1_layers_and_blocks::Section.run::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_1_exercises_runs<B>(device) {
        sec5_1_exercises::Exercises.run::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_5_file_io_runs<B>(device) {
        sec5_5_file_io::Section.run::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_6_gpus_runs<B>(device) {
        sec5_6_gpus::Section.run::<B>(device).expect("the example runs and its assertions hold");
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
        sec5_3_deferred_init::Section.run::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_3_exercises_runs<B>(device) {
        sec5_3_exercises::Exercises.run::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_4_custom_layers_runs<B>(device) {
        sec5_4_custom_layers::Section.run::<B>(device).expect("the example runs and its assertions hold");
    }
}

backend_test! {
    fn sec5_4_exercises_runs<B>(device) {
        sec5_4_exercises::Exercises.run::<B>(device).expect("the example runs and its assertions hold");
    }
}
