//! Tying: one `Shared` block at two positions (D2L §5.2.3).

use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Module};
use burn::nn::{Linear, Relu};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use burn_store::ModuleSnapshot;
use d2l_blocks::{Sequential, Shared};
use d2l_device::backend_test;

use crate::{check, constant_linear};

/// `Sequential(shared, shared)` with `shared = Linear(1, 1)`, weight `a`, bias `b`.
fn twice<B: Backend>(a: f64, b: f64, device: &B::Device) -> (Sequential<B>, Shared<B>) {
    let mut linear = constant_linear::<B>(1, 1, a, device);
    linear.bias = linear
        .bias
        .map(|p| p.map(|t| (t.zeros_like() + b).require_grad()));
    let shared = Shared::new(linear);
    (
        Sequential::new().add(shared.clone()).add(shared.clone()),
        shared,
    )
}

fn weight<B: Backend>(net: &Sequential<B>, i: usize) -> Vec<f32> {
    let shared = net.child::<Shared<B>>(i).expect("shared");
    shared
        .with(|l: &Linear<B>| l.weight.val().into_data().to_vec::<f32>().expect("f32"))
        .expect("linear")
}

backend_test! {
    fn gradients_sum_and_sgd_updates_once<B>(device) {
        type Ad<B> = Autodiff<B>;
        let (net, _) = twice::<Ad<B>>(0.5, 0.0, device);
        // y = a(ax + b) + b; at x = 1, a = 0.5, b = 0: dy/da = 2ax + b = 1, dy/db = a + 1 = 1.5.
        let y = net.forward_tensor::<2, 2>(Tensor::ones([1, 1], device)).expect("forward");
        check(y.clone(), [[0.25f32]]);
        let grads = y.sum().backward();
        let shared = net.child::<Shared<Ad<B>>>(0).expect("shared");
        let (gw, gb) = shared
            .with(|l: &Linear<Ad<B>>| {
                (l.weight.grad(&grads).expect("dw"), l.bias.as_ref().expect("bias").grad(&grads).expect("db"))
            })
            .expect("linear");
        check(gw, [[1.0f32]]);
        check(gb, [1.5f32]);
        let grads = GradientsParams::from_grads(grads, &net);
        let net = SgdConfig::new().init().step(0.1, net, grads);
        // Once: a = 0.5 - 0.1·1 = 0.4 (twice would give 0.3); b = -0.15.
        assert_eq!(weight(&net, 0), vec![0.4f32]);
        assert_eq!(weight(&net, 1), vec![0.4f32]);
        let a = net.child::<Shared<Ad<B>>>(0).expect("shared");
        assert!(a.ptr_eq(net.child::<Shared<Ad<B>>>(1).expect("shared")), "still tied after the step");
        let b = a.with(|l: &Linear<Ad<B>>| l.bias.as_ref().expect("bias").val()).expect("linear");
        check(b, [-0.15f32]);
    }
}

backend_test! {
    fn an_edit_at_one_position_is_seen_at_the_other<B>(device) {
        let net = Sequential::<B>::new()
            .add(constant_linear(4, 8, 0.1, device))
            .add(Relu::new());
        let shared = Shared::new(constant_linear::<B>(8, 8, 0.1, device));
        let net = net.add(shared.clone()).add(Relu::new()).add(shared.clone()).add(constant_linear(8, 1, 0.1, device));
        assert_eq!(net.num_params(), 4 * 8 + 8 + 8 * 8 + 8 + 8 + 1, "the tie is counted once");
        net.child::<Shared<B>>(2).expect("shared").with_mut(|l: &mut Linear<B>| {
            l.weight = l.weight.clone().map(|w| w.zeros_like() + 42.0);
        });
        let seen = net.child::<Shared<B>>(4).expect("shared")
            .with(|l: &Linear<B>| l.weight.val().into_data().to_vec::<f32>().expect("f32")[0])
            .expect("linear");
        assert_eq!(seen, 42.0);
        assert_eq!(net.to_string().matches("Linear(in_features=8, out_features=8, bias=True)").count(), 2);
        let paths: Vec<String> = net.collect(None, None, false).iter().map(|s| s.full_path()).collect();
        assert!(paths.contains(&"2.weight".to_string()) && paths.contains(&"4.weight".to_string()), "{paths:?}");
    }
}

backend_test! {
    fn cloning_keeps_the_tie_inside_the_clone_only<B>(device) {
        let (net, original) = twice::<B>(1.0, 0.0, device);
        let copy = net.clone();
        let c0 = copy.child::<Shared<B>>(0).expect("shared");
        assert!(c0.ptr_eq(copy.child::<Shared<B>>(1).expect("shared")), "tied inside the clone");
        assert!(!c0.ptr_eq(&original), "the clone does not alias the original");
        c0.with_mut(|l: &mut Linear<B>| l.weight = l.weight.clone().map(|w| w * 3.0));
        assert_eq!(weight(&copy, 1), vec![3.0f32]);
        assert_eq!(weight(&net, 0), vec![1.0f32], "the original is untouched");
    }
}

backend_test! {
    fn valid_keeps_the_tie<B>(device) {
        type Ad<B> = Autodiff<B>;
        let (net, _) = twice::<Ad<B>>(2.0, 1.0, device);
        let valid: Sequential<B> = net.valid();
        let v0 = valid.child::<Shared<B>>(0).expect("shared");
        assert!(v0.ptr_eq(valid.child::<Shared<B>>(1).expect("shared")));
        assert_eq!(valid.num_params(), 2);
        // 2·(2·1 + 1) + 1 = 7
        check(valid.forward_tensor::<2, 2>(Tensor::ones([1, 1], device)).expect("forward"), [[7.0f32]]);
        let back: Sequential<Ad<B>> = Sequential::from_inner(valid);
        let b0 = back.child::<Shared<Ad<B>>>(0).expect("shared");
        assert!(b0.ptr_eq(back.child::<Shared<Ad<B>>>(1).expect("shared")));
    }
}
