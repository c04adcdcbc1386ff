//! The book's blocks and the section's exercises (D2L §5.1).

use burn::backend::Autodiff;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::Tensor;
use d2l_blocks::book::{FixedHiddenMlp, Mlp, MySequential, NestMlp, ParallelBlock, chimera, stack};
use d2l_blocks::{BlockError, Sequential};
use d2l_device::backend_test;

use crate::{check, constant_linear};

backend_test! {
    fn mlp_maps_20_to_10<B>(device) {
        let net = Sequential::<B>::new().add(Mlp::new(device));
        let y = net.forward_tensor::<2, 2>(Tensor::ones([2, 20], device)).expect("forward");
        assert_eq!(y.dims(), [2, 10]);
        assert_eq!(net.num_params(), 20 * 256 + 256 + 256 * 10 + 10);
        assert_eq!(
            net[0].to_string(),
            "MLP(\n  (hidden): Linear(in_features=20, out_features=256, bias=True)\n  \
             (output): Linear(in_features=256, out_features=10, bias=True)\n)"
        );
        let err = net.forward(Tensor::<B, 2>::ones([2, 8], device)).expect_err("width");
        assert_eq!(err.path(), "0.hidden");
    }
}

backend_test! {
    fn my_sequential_runs_but_hides_its_parameters<B>(device) {
        let mine = MySequential::<B>::new().add(constant_linear(2, 2, 1.0, device)).add(Relu::new());
        let y = mine.forward(Tensor::<B, 2>::from_floats([[1.0, 1.0]], device)).expect("forward");
        check(y.into_tensor::<2>().expect("rank 2"), [[3.0f32, 3.0]]);
        assert_eq!(mine.held_params(), 6);
        let net = Sequential::<B>::new().add(constant_linear(2, 2, 1.0, device)).add(Relu::new());
        assert_eq!(net.num_params(), 6, "Sequential registers what MySequential hides");
    }
}

backend_test! {
    fn fixed_hidden_mlp_keeps_its_constant_and_returns_a_scalar<B>(device) {
        type Ad<B> = Autodiff<B>;
        B::seed(device, 7);
        let block = FixedHiddenMlp::<Ad<B>>::new(device);
        assert_eq!(block.num_params(), 20 * 20 + 20, "rand_weight is not a parameter");
        let before_w = block.rand_weight.clone().into_data();
        let before_l = block.linear.weight.val().into_data();
        let net = Sequential::<Ad<B>>::new().add(block);
        let x = Tensor::<Ad<B>, 2>::random([2, 20], burn::tensor::Distribution::Default, device);
        let y = net.forward_tensor::<2, 1>(x).expect("forward");
        assert_eq!(y.dims(), [1], "a scalar");
        // The while loop halves until |x|₁ ≤ 1, so |y| ≤ 1.
        let value: f32 = y.clone().into_data().to_vec::<f32>().expect("f32")[0];
        assert!(value.abs() <= 1.0, "{value}");
        let grads = GradientsParams::from_grads(y.backward(), &net);
        let net = SgdConfig::new().init().step(0.5, net, grads);
        let block = net.child::<FixedHiddenMlp<Ad<B>>>(0).expect("block");
        assert_eq!(block.rand_weight.clone().into_data(), before_w, "the constant is unchanged");
        assert_ne!(block.linear.weight.val().into_data(), before_l, "the Linear was trained");
    }
}

backend_test! {
    fn chimera_composes_all_blocks<B>(device) {
        let net = chimera::<B>(device);
        let y = net.forward_tensor::<2, 1>(Tensor::ones([2, 20], device)).expect("forward");
        assert_eq!(y.dims(), [1]);
        assert!(net[0].downcast_ref::<NestMlp<B>>().is_some());
        assert!(net[1].downcast_ref::<Linear<B>>().is_some());
        assert_eq!(
            net.to_string(),
            "Sequential(
  (0): NestMLP(
    (net): Sequential(
      (0): Linear(in_features=20, out_features=64, bias=True)
      (1): ReLU()
      (2): Linear(in_features=64, out_features=32, bias=True)
      (3): ReLU()
    )
    (linear): Linear(in_features=32, out_features=16, bias=True)
  )
  (1): Linear(in_features=16, out_features=20, bias=True)
  (2): FixedHiddenMLP(
    (linear): Linear(in_features=20, out_features=20, bias=True)
  )
)"
        );
        let err = net.forward(Tensor::<B, 2>::ones([2, 16], device)).expect_err("width");
        assert_eq!(err, BlockError::Width { path: "0.net.0".into(), expected: 20, actual: vec![2, 16] });
    }
}

backend_test! {
    fn parallel_block_concatenates_features<B>(device) {
        let par = ParallelBlock::new(constant_linear(2, 1, 1.0, device), constant_linear(2, 2, -1.0, device));
        let net = Sequential::<B>::new().add(par);
        // x = [1, 2]: branch 1 → 1 + 2 + 1 = 4; branch 2 → -(1 + 2) - 1 = -4 twice.
        let y = net.forward_tensor::<2, 2>(Tensor::from_floats([[1.0, 2.0]], device)).expect("forward");
        check(y, [[4.0f32, -4.0, -4.0]]);
        let y = net.forward_tensor::<1, 1>(Tensor::from_floats([1.0, 2.0], device)).expect("rank 1");
        check(y, [4.0f32, -4.0, -4.0]);
        assert_eq!(net.num_params(), 3 + 6);
    }
}

backend_test! {
    fn stack_builds_independent_instances<B>(device) {
        let net = stack::<B, _>(3, |_| LinearConfig::new(4, 4).init(device));
        assert_eq!(net.len(), 3);
        let w = |i: usize| net.child::<Linear<B>>(i).expect("linear").weight.val().into_data();
        assert_ne!(w(0), w(1), "independent draws");
        assert_ne!(w(1), w(2));
        let ids: Vec<_> = (0..3).map(|i| net.child::<Linear<B>>(i).expect("linear").weight.id).collect();
        assert!(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2], "distinct parameter ids");
        let with_relu = stack::<B, _>(2, |i| Sequential::new().add(constant_linear(2, 2, i as f64, device)).add(Relu::new()));
        // Layer 0 zeroes everything; layer 1 then gives 0 + 0 + 1 = 1.
        check(with_relu.forward_tensor::<2, 2>(Tensor::ones([1, 2], device)).expect("forward"), [[1.0f32, 1.0]]);
    }
}

backend_test! {
    fn fixed_hidden_mlp_stops_on_non_finite_input<B>(device) {
        // All-positive weights carry an infinite input through to the loop (PyTorch's version
        // would halve forever there).
        let fixed = FixedHiddenMlp { rand_weight: Tensor::ones([20, 20], device), linear: constant_linear(20, 20, 1.0, device) };
        let net = Sequential::<B>::new().add(fixed);
        let x = Tensor::<B, 2>::full([2, 20], f32::INFINITY, device);
        let err = net.forward_tensor::<2, 1>(x).expect_err("an infinite norm never halves below 1");
        assert!(matches!(err, BlockError::NonFinite { ref path, .. } if path == "0"), "{err:?}");
        // A finite input ends with |y| ≤ 1 even when huge.
        let y = net.forward_tensor::<2, 1>(Tensor::full([2, 20], 1.0e30, device)).expect("finite");
        assert!(y.into_data().iter::<f32>().all(|v| v.abs() <= 1.0));
    }
}

backend_test! {
    fn the_book_blocks_take_an_empty_batch<B>(device) {
        let x = Tensor::<B, 2>::zeros([0, 20], device);
        let net = Sequential::<B>::new().add(Mlp::new(device));
        assert_eq!(net.forward(x.clone()).expect("empty batch").dims(), [0, 10]);
        let y = chimera::<B>(device).forward_tensor::<2, 1>(x).expect("empty batch");
        check(y, [0.0f32]);
    }
}

/// A derived model that names its children once (`children!`) and writes no `repr`.
#[derive(Module, Debug)]
struct TwoLayers<B: burn::tensor::backend::Backend> {
    first: Linear<B>,
    act: Relu,
    second: Option<Linear<B>>,
}

impl<B: burn::tensor::backend::Backend> d2l_blocks::Forward<B> for TwoLayers<B> {
    fn forward(
        &self,
        x: d2l_blocks::Activation<B>,
    ) -> Result<d2l_blocks::Activation<B>, BlockError> {
        let x = d2l_blocks::hooks::call("first", &self.first, x)?;
        let x = d2l_blocks::hooks::call("act", &self.act, x)?;
        match &self.second {
            Some(second) => d2l_blocks::hooks::call("second", second, x),
            None => Ok(x),
        }
    }

    d2l_blocks::children!(B; first, act, second: option);
}
d2l_blocks::impl_block!(TwoLayers<B>);

backend_test! {
    fn a_derived_model_prints_its_children_as_pytorch_by_default<B>(device) {
        let net = TwoLayers::<B> {
            first: LinearConfig::new(3, 4).init(device),
            act: Relu::new(),
            second: Some(LinearConfig::new(4, 2).init(device)),
        };
        assert_eq!(
            d2l_blocks::Forward::<B>::repr(&net),
            "TwoLayers(\n  (first): Linear(in_features=3, out_features=4, bias=True)\n  \
             (act): ReLU()\n  (second): Linear(in_features=4, out_features=2, bias=True)\n)"
        );
        let seq = Sequential::<B>::new().add(TwoLayers::<B> { first: LinearConfig::new(3, 4).init(device), act: Relu::new(), second: None });
        assert_eq!(
            seq.to_string(),
            "Sequential(\n  (0): TwoLayers(\n    (first): Linear(in_features=3, out_features=4, bias=True)\n    \
             (act): ReLU()\n  )\n)"
        );
    }
}
