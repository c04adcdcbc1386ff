//! Forward hooks and pre-hooks per module, as PyTorch users register them: by
//! `named_modules` path, firing whoever runs the module, replacing outputs and inputs, removed
//! by their handle.

use std::sync::{Arc, Mutex};

use burn::tensor::Tensor;
use d2l_blocks::hooks::{register_forward_hook, register_forward_pre_hook};
use d2l_blocks::{Activation, Block, TypedForward, trace};
use d2l_device::backend_test;
use d2l_layers::models::{ResNet18, resnet};

/// A hook that records the output shapes it sees.
fn recorder<B: burn::tensor::backend::Backend>() -> (
    Arc<Mutex<Vec<Vec<usize>>>>,
    impl FnMut(&dyn Block<B>, &Activation<B>) -> Option<Activation<B>> + Send + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    (seen, move |_: &dyn Block<B>, y: &Activation<B>| {
        sink.lock().expect("lock").push(y.shape());
        None
    })
}

fn count(seen: &Arc<Mutex<Vec<Vec<usize>>>>) -> usize {
    seen.lock().expect("lock").len()
}

backend_test! {
    fn a_hook_on_b3_0_conv3_of_resnet18_fires_and_is_removed<B>(device) {
        let arch = [(2, 64), (2, 128), (2, 256), (2, 512)];
        let net = resnet::<B>(&arch, 10);
        let x = Tensor::<B, 4>::zeros([1, 1, 32, 32], device);
        net.forward_tensor::<4, 2>(x.clone()).expect("infer shapes");
        let (seen, hook) = recorder::<B>();
        let handle = register_forward_hook(&net, "b3.0.conv3", hook).expect("register");
        net.forward_tensor::<4, 2>(x.clone()).expect("forward");
        assert_eq!(*seen.lock().expect("lock"), [vec![1, 128, 4, 4]]);
        // It fires when the module runs outside its Sequential too: the block b3 run directly.
        let b3 = net.iter().find(|(n, _)| *n == "b3").map(|(_, b)| b).expect("b3");
        b3.forward(Tensor::<B, 4>::zeros([1, 64, 8, 8], device).into()).expect("b3");
        assert_eq!(count(&seen), 2);
        // Not for the same path of another model.
        let other = resnet::<B>(&arch, 10);
        other.forward_tensor::<4, 2>(x.clone()).expect("other");
        assert_eq!(count(&seen), 2);
        handle.remove();
        net.forward_tensor::<4, 2>(x.clone()).expect("forward");
        assert_eq!(count(&seen), 2);
        // An unknown path is an error that names it.
        let err = register_forward_hook(&net, "b3.0.conv9", |_, _| None).expect_err("no such module");
        assert!(err.to_string().contains("b3.0.conv9"), "{err}");
    }
}

backend_test! {
    fn hooks_on_a_derived_model_replace_outputs_and_inputs<B>(device) {
        // torchvision's ResNet18, a #[derive(Module)] model: a parameterless child (`maxpool`),
        // a child of an Option field (`layer2.0.downsample.0`), output and input replaced.
        let net = ResNet18::<B>::new(10, device);
        let x = Tensor::<B, 4>::ones([1, 3, 32, 32], device);
        let (seen, hook) = recorder::<B>();
        let h1 = register_forward_hook(&net, "layer2.0.downsample.0", hook).expect("register");
        let (pooled, hook) = recorder::<B>();
        let h2 = register_forward_hook(&net, "maxpool", hook).expect("register");
        // Another ResNet18 has a `maxpool` at the same path: the hook is not its.
        let other = ResNet18::<B>::new(10, device);
        other.forward_tensor::<4, 2>(x.clone()).expect("forward");
        assert_eq!(count(&pooled), 0, "a hook fires for its own model only");
        let y = net.forward_tensor::<4, 2>(x.clone()).expect("forward");
        assert_eq!(*seen.lock().expect("lock"), [vec![1, 128, 4, 4]]);
        assert_eq!(*pooled.lock().expect("lock"), [vec![1, 64, 8, 8]]);
        // A hook that replaces fc's output with zeros, and one that itself runs a forward.
        let inner = net.clone();
        let h3 = register_forward_hook(&net, "fc", move |_, y: &Activation<B>| {
            let again = inner.forward_tensor::<4, 2>(Tensor::<B, 4>::ones([1, 3, 32, 32], &y.device()));
            assert!(again.is_ok());
            Some(Tensor::<B, 2>::zeros([1, 10], &y.device()).into())
        })
        .expect("register");
        let z = net.forward_tensor::<4, 2>(x.clone()).expect("forward");
        assert_eq!(z.into_data().to_vec::<f32>().expect("f32"), vec![0.0; 10]);
        h3.remove();
        // A pre-hook that replaces the input of fc by zeros: the output is fc's bias.
        let h4 = register_forward_pre_hook(&net, "fc", |_, x: &Activation<B>| {
            Some(Tensor::<B, 2>::zeros([1, 512], &x.device()).into())
        })
        .expect("register");
        let b = net.forward_tensor::<4, 2>(x.clone()).expect("forward");
        assert_eq!(b.into_data(), net.fc.bias.as_ref().expect("bias").val().unsqueeze::<2>().into_data());
        h4.remove();
        // With the hooks removed, the output is the hookless one again (to rounding: a GPU
        // backend's autotuner may pick another kernel between the two passes).
        let again = net.forward_tensor::<4, 2>(x).expect("forward");
        again.into_data().assert_approx_eq::<f32>(&y.into_data(), burn::tensor::Tolerance::default());
        h1.remove();
        h2.remove();
        // layer_summary and capture see every module without registering anything.
        let modules: Vec<String> = trace::named_modules(&net).into_iter().map(|(p, _)| p).collect();
        assert!(modules.contains(&"layer2.0.downsample.0".to_owned()));
    }
}

backend_test! {
    fn a_hook_on_a_parameterless_child_fires_for_its_model_only<B>(device) {
        use burn::nn::{LinearConfig, Relu};
        use d2l_blocks::Sequential;
        let make = || Sequential::<B>::new().add(LinearConfig::new(3, 2).init(device)).add(Relu::new());
        let (a, b) = (make(), make());
        let (seen, hook) = recorder::<B>();
        let handle = register_forward_hook(&a, "1", hook).expect("register");
        let x = Tensor::<B, 2>::ones([4, 3], device);
        b.forward(x.clone()).expect("forward");
        assert_eq!(count(&seen), 0, "net b's ReLU is not net a's");
        a.forward(x.clone()).expect("forward");
        assert_eq!(*seen.lock().expect("lock"), [vec![4, 2]]);
        // A hook of a that runs b: b's ReLU still does not fire a's hook, a's own does once.
        let (inner, hook) = recorder::<B>();
        let (b2, dev) = (b.clone(), device.clone());
        let outer = register_forward_hook(&a, "0", move |_, _| {
            b2.forward(Tensor::<B, 2>::ones([1, 3], &dev)).expect("forward");
            None
        })
        .expect("register");
        let relu = register_forward_hook(&b, "1", hook).expect("register");
        a.forward(x).expect("forward");
        assert_eq!(count(&seen), 2);
        assert_eq!(*inner.lock().expect("lock"), [vec![1, 2]]);
        for h in [handle, outer, relu] {
            h.remove();
        }
    }
}
