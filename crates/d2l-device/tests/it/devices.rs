//! §5.6 behaviour on whichever backend `D2L_BACKEND` selects.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Tensor, TensorData, Tolerance};
use d2l_device::backend::DeviceBackend;
use d2l_device::device as named;
use d2l_device::{
    DeviceError, DeviceSpec, TensorDeviceExt, Transfer, backend_test, checked_binary, device_name,
    list_devices, module_device, move_module, num_gpus, try_all_gpus, try_gpu,
};

/// Two devices the backend treats as distinct, if it has them (wgpu: default adapter and CPU
/// adapter; cuda: two GPUs). CPU backends have one device.
fn two_devices<B: DeviceBackend>() -> Option<(B::Device, B::Device)> {
    let mut candidates = vec![B::Device::default()];
    candidates.extend(list_devices::<B>());
    let first = candidates[0].clone();
    candidates
        .into_iter()
        .find(|d| *d != first)
        .map(|second| (first, second))
}

#[track_caller]
fn check_values<B: DeviceBackend, const D: usize>(tensor: Tensor<B, D>, expected: TensorData) {
    tensor
        .into_data()
        .assert_approx_eq::<f32>(&expected, Tolerance::absolute(1e-6));
}

backend_test! {
    fn try_gpu_returns_gpu_i_or_the_cpu<B>(device) {
        let gpus = B::gpu_devices();
        assert_eq!(num_gpus::<B>(), gpus.len());
        let fallback = B::cpu_device().unwrap_or_default();
        for i in [0, 1, 10] {
            let expected = gpus.get(i).cloned().unwrap_or_else(|| fallback.clone());
            assert_eq!(try_gpu::<B>(i), expected, "try_gpu({i})");
        }
        let all = try_all_gpus::<B>();
        if gpus.is_empty() {
            assert_eq!(all, vec![fallback]);
            assert_eq!(device_name::<B>(&try_gpu::<B>(10)), DeviceSpec::Cpu);
        } else {
            assert_eq!(all, gpus);
        }
    }
}

backend_test! {
    fn cpu_backends_have_exactly_one_device<B>(device) {
        if B::cpu_device().is_some() && B::gpu_devices().is_empty() {
            assert_eq!(list_devices::<B>().len(), 1);
            assert_eq!(device_name::<B>(&list_devices::<B>()[0]), DeviceSpec::Cpu);
        }
        for dev in list_devices::<B>() {
            // Every listed device round-trips through its name.
            let name = device_name::<B>(&dev).to_string();
            assert_eq!(named::<B>(&name), Ok(dev), "{name}");
        }
    }
}

backend_test! {
    fn tensors_are_created_where_asked<B>(device) {
        let dev = try_gpu::<B>(0);
        let x = Tensor::<B, 2>::ones([2, 3], &dev);
        assert_eq!(x.device(), dev);
        check_values(x, TensorData::from([[1.0f32; 3]; 2]));
    }
}

backend_test! {
    fn as_in_ctx_does_not_copy_when_already_there<B>(device) {
        let x = Tensor::<B, 1>::from_floats([1.0, 2.0, 3.0], device);
        let moved = x.clone().move_to(device);
        assert_eq!(moved.transfer, Transfer::None);
        assert_eq!(moved.value.device(), *device);
        let copy = x.copy_to(device);
        check_values(copy, TensorData::from([1.0f32, 2.0, 3.0]));
        check_values(x.as_in_ctx(device), TensorData::from([1.0f32, 2.0, 3.0]));
    }
}

backend_test! {
    fn copies_between_two_devices_keep_values<B>(device) {
        let Some((a, b)) = two_devices::<B>() else {
            // One device only: a move is always a no-op.
            assert_eq!(list_devices::<B>().len(), 1);
            return;
        };
        let x = Tensor::<B, 2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &a);
        let z = x.copy_to(&b);
        assert_eq!(x.device(), a, "the original stays");
        assert_eq!(z.device(), b);
        let moved = z.clone().move_to(&b);
        assert_eq!(moved.transfer, Transfer::None, "Z.cuda(1) is Z");
        let back = z.move_to(&a);
        assert_eq!(back.transfer, Transfer::Copied);
        check_values(back.value + x, TensorData::from([[2.0f32, 4.0], [6.0, 8.0]]));
    }
}

backend_test! {
    fn mixing_devices_is_a_typed_error<B>(device) {
        let x = Tensor::<B, 1>::from_floats([1.0, 2.0], device);
        let y = Tensor::<B, 1>::from_floats([10.0, 20.0], device);
        let sum = checked_binary("add", x.clone(), y, |x, y| x + y).expect("same device");
        check_values(sum, TensorData::from([11.0f32, 22.0]));
        let Some((a, b)) = two_devices::<B>() else { return };
        let x = Tensor::<B, 1>::from_floats([1.0, 2.0], &a);
        let y = Tensor::<B, 1>::from_floats([1.0, 2.0], &b);
        let err = checked_binary("add", x, y, |x, y| x + y).expect_err("different devices");
        let DeviceError::Mismatch { op, lhs, rhs } = &err else { panic!("{err:?}") };
        assert_eq!(op, "add");
        assert!(lhs.starts_with(&device_name::<B>(&a).to_string()), "{lhs}");
        assert!(rhs.starts_with(&device_name::<B>(&b).to_string()), "{rhs}");
        assert_ne!(lhs, rhs);
    }
}

backend_test! {
    fn a_model_reports_and_changes_its_device<B>(device) {
        let net: Linear<B> = LinearConfig::new(3, 1).init(device);
        assert_eq!(module_device::<B, _>(&net), Ok(device.clone()));
        assert_eq!(module_device::<B, _>(&Relu::new()), Err(DeviceError::NoParameters));
        let x = Tensor::<B, 2>::ones([2, 3], device);
        let y = net.forward(x.clone());
        let target = two_devices::<B>().map(|(_, b)| b).unwrap_or_else(|| device.clone());
        let moved = move_module(net, &target);
        assert_eq!(module_device::<B, _>(&moved), Ok(target.clone()));
        assert_eq!(moved.num_params(), 4);
        let y2 = moved.forward(x.copy_to(&target)).copy_to(device);
        // Another device, perhaps another autotuned kernel: within d2l-device's policy.
        let rerun = d2l_device::numerics::Tolerance::between_runs(B::KIND, 1);
        assert_eq!(rerun.check_data(&y2.into_data(), &y.into_data()), Ok(()));
    }
}

backend_test! {
    fn bad_device_names_are_errors<B>(device) {
        for bad in ["tpu", "cuda:x", "gpu:-1"] {
            assert!(matches!(named::<B>(bad), Err(DeviceError::Parse { .. })), "{bad}");
        }
        let available = num_gpus::<B>();
        let err = named::<B>("gpu:99").expect_err("no 100th GPU");
        match err {
            DeviceError::OutOfRange { requested, available: seen, .. } => {
                assert_eq!(requested, "gpu:99");
                assert_eq!(seen, available);
            }
            DeviceError::NoDriver { .. } => assert_eq!(available, 0),
            other => panic!("{other:?}"),
        }
        // A device of another backend (tch serves CUDA names itself: its foreign one is wgpu).
        let foreign = match B::KIND {
            d2l_device::BackendKind::Cuda | d2l_device::BackendKind::Tch => "wgpu:0",
            _ => "cuda:0",
        };
        assert!(
            matches!(named::<B>(foreign), Err(DeviceError::Unsupported { .. })),
            "{foreign} on {}", B::KIND
        );
        if B::cpu_device().is_none() {
            assert!(matches!(named::<B>("cpu"), Err(DeviceError::Unsupported { .. })));
        } else {
            assert_eq!(named::<B>("cpu"), Ok(B::cpu_device().unwrap_or_default()));
        }
    }
}

backend_test! {
    fn autodiff_backends_share_the_device_rules<B>(device) {
        type Ad<B> = burn::backend::Autodiff<B>;
        assert_eq!(num_gpus::<Ad<B>>(), num_gpus::<B>());
        assert_eq!(try_gpu::<Ad<B>>(10), try_gpu::<B>(10));
        let x = Tensor::<Ad<B>, 1>::from_floats([1.0, 2.0], device).require_grad();
        let grads = (x.clone() * x.clone()).sum().backward();
        let grad = x.grad(&grads).expect("gradient");
        assert_eq!(grad.device(), *device);
        check_values(grad, TensorData::from([2.0f32, 4.0]));
    }
}

backend_test! {
    fn a_linear_with_one_output_is_right_on_every_row<B>(device) {
        // Regression: Burn 0.21's *fused* wgpu backend returns [2, 0] here (see ARCHITECTURE.md).
        let net: Linear<B> = LinearConfig::new(3, 1)
            .with_initializer(burn::nn::Initializer::Constant { value: 0.5 })
            .init(device);
        let x = Tensor::<B, 2>::from_floats([[1.0, 1.0, 1.0], [2.0, 0.0, 2.0]], device);
        // 0.5·(1+1+1) + 0.5 = 2.0 and 0.5·(2+0+2) + 0.5 = 2.5
        check_values(net.forward(x), TensorData::from([[2.0f32], [2.5]]));
    }
}
