//! `GroupNorm`'s block (affine on `[N, C, 1]` operands) against Burn's `GroupNorm::forward`
//! on every backend: outputs and the gradients of the input, `gamma` and `beta`, to 1e-6 of
//! their scale.

use burn::backend::Autodiff;
use burn::module::Param;
use burn::nn::GroupNormConfig;
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use d2l_blocks::TypedForward;
use d2l_device::backend_test;

use crate::reference::{assert_close, tensor};

fn check_shape<B: Backend, const D: usize>(shape: [usize; D], groups: usize, device: &B::Device) {
    type Ad<B> = Autodiff<B>;
    let c = shape[1];
    let mut norm = GroupNormConfig::new(groups, c).init::<Ad<B>>(device);
    norm.gamma = Some(Param::from_tensor(tensor::<Ad<B>, 1>(
        [c],
        1,
        0.5,
        1.0,
        device,
    )));
    norm.beta = Some(Param::from_tensor(tensor::<Ad<B>, 1>(
        [c],
        2,
        0.5,
        0.0,
        device,
    )));
    let x = tensor::<Ad<B>, D>(shape, 3, 2.0, 3.0, device);
    let upstream = tensor::<Ad<B>, D>(shape, 4, 1.0, 0.0, device);
    let run = |ours: bool| {
        let x = x.clone().require_grad();
        let y: Tensor<Ad<B>, D> = if ours {
            norm.forward_tensor::<D, D>(x.clone()).expect("forward")
        } else {
            norm.forward(x.clone())
        };
        let grads = (y.clone() * upstream.clone()).sum().backward();
        let param = |p: &Option<Param<Tensor<Ad<B>, 1>>>| {
            p.as_ref()
                .and_then(|p| p.grad(&grads))
                .expect("parameter gradient")
        };
        (
            y.inner(),
            x.grad(&grads).expect("input gradient"),
            param(&norm.gamma),
            param(&norm.beta),
        )
    };
    let (ours, burn) = (run(true), run(false));
    assert_close(ours.0, burn.0, "output");
    assert_close(ours.1, burn.1, "input gradient");
    assert_close(ours.2, burn.2, "gamma gradient");
    assert_close(ours.3, burn.3, "beta gradient");
}

backend_test! {
    fn group_norm_block_equals_burns<B>(device) {
        check_shape::<B, 3>([4, 6, 7], 3, device);
        check_shape::<B, 4>([3, 8, 5, 6], 2, device);
        check_shape::<B, 4>([2, 4, 3, 3], 4, device);
    }
}
