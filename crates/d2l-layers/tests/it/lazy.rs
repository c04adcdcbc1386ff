//! Deferred initialization (D2L §5.3).

use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Module};
use burn::nn::{LinearConfig, Relu};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::Tensor;
use d2l_blocks::{BlockError, Sequential};
use d2l_device::backend_test;
use d2l_layers::{LazyLinear, parameter_shapes};
use d2l_params::{Init, ParamError, Parameters};

use crate::check;

fn lazy_net<B: burn::tensor::backend::Backend>() -> Sequential<B> {
    Sequential::new()
        .add(LazyLinear::new(256))
        .add(Relu::new())
        .add(LazyLinear::new(10))
}

backend_test! {
    fn before_the_first_forward_shapes_are_pending<B>(device) {
        let net = lazy_net::<B>();
        assert_eq!(net.num_params(), 0);
        assert!(net.named_parameters().is_empty());
        assert_eq!(parameter_shapes(&net), [
            ("0.weight".to_string(), vec![256, -1]), ("0.bias".to_string(), vec![256]),
            ("2.weight".to_string(), vec![10, -1]), ("2.bias".to_string(), vec![10]),
        ]);
        assert_eq!(net.to_string(), "Sequential(
  (0): LazyLinear(in_features=0, out_features=256, bias=True)
  (1): ReLU()
  (2): LazyLinear(in_features=0, out_features=10, bias=True)
)");
        let y = net.forward_tensor::<2, 2>(Tensor::ones([2, 20], device)).expect("materializes");
        assert_eq!(y.dims(), [2, 10]);
        assert_eq!(parameter_shapes(&net), [
            ("0.weight".to_string(), vec![256, 20]), ("0.bias".to_string(), vec![256]),
            ("2.weight".to_string(), vec![10, 256]), ("2.bias".to_string(), vec![10]),
        ]);
        assert_eq!(net.num_params(), 20 * 256 + 256 + 256 * 10 + 10);
        assert!(net.to_string().contains("(0): Linear(in_features=20, out_features=256, bias=True)"));
    }
}

backend_test! {
    fn an_initializer_chosen_early_is_applied_at_materialization<B>(device) {
        let lazy = LazyLinear::<B>::new(3).with_init(Some(Init::Constant(0.5)), Some(Init::Zeros)).expect("valid");
        let net = Sequential::<B>::new().add(lazy);
        let y = net.forward_tensor::<2, 2>(Tensor::from_floats([[1.0, 2.0]], device)).expect("forward");
        // 0.5·(1 + 2) + 0 = 1.5
        check(y.into_data(), [[1.5f32, 1.5, 1.5]], 1e-6);
        assert!(matches!(LazyLinear::<B>::new(3).with_init(None, Some(Init::XavierUniform { gain: 1.0 })), Err(ParamError::InitRank { .. })));
        assert!(matches!(LazyLinear::<B>::new(3).with_init(Some(Init::Normal { mean: 0.0, std: f64::NAN }), None), Err(ParamError::InvalidInit { .. })));
    }
}

backend_test! {
    fn a_later_width_is_an_error_naming_the_path<B>(device) {
        let net = Sequential::<B>::new().add(Sequential::new().add_named("body", lazy_net::<B>()).expect("fresh"));
        net.forward(Tensor::<B, 2>::ones([2, 20], device)).expect("first call");
        let err = net.forward(Tensor::<B, 2>::ones([2, 8], device)).expect_err("width 8 after 20");
        assert_eq!(err, BlockError::Width { path: "0.body.0".into(), expected: 20, actual: vec![2, 8] });
        assert!(err.to_string().contains("expected input width 20"));
        let empty = Sequential::<B>::new().add(LazyLinear::new(4));
        let err = empty.forward(Tensor::<B, 2>::zeros([2, 0], device)).expect_err("width 0");
        assert_eq!(err, BlockError::InferWidth { path: "0".into(), actual: vec![2, 0] });
        assert!(empty.named_parameters().is_empty(), "a failed first call materializes nothing");
    }
}

backend_test! {
    fn only_the_first_width_given<B>(device) {
        // §5.3 exercise 1: an eager first layer, lazy layers after it.
        let net = Sequential::<B>::new().add(LinearConfig::new(20, 256).init(device)).add(Relu::new()).add(LazyLinear::new(10));
        let y = net.forward_tensor::<2, 2>(Tensor::ones([2, 20], device)).expect("forward");
        assert_eq!(y.dims(), [2, 10]);
        assert_eq!(net.state_dict()["2.weight"].shape(), vec![10, 256]);
    }
}

backend_test! {
    fn after_materialization_it_trains_like_a_linear<B>(device) {
        type Ad<B> = Autodiff<B>;
        let lazy = LazyLinear::<Ad<B>>::new(1).with_init(Some(Init::Constant(1.0)), Some(Init::Zeros)).expect("valid");
        let net = Sequential::<Ad<B>>::new().add(lazy);
        let x = Tensor::<Ad<B>, 2>::from_floats([[1.0, 2.0]], device);
        let y = net.forward_tensor::<2, 2>(x.clone()).expect("forward");
        let grads = y.sum().backward();
        check(net.state_dict()["0.weight"].grad(&grads).expect("dw"), [[1.0f32, 2.0]], 1e-6);
        let grads = GradientsParams::from_grads(grads, &net);
        let net = SgdConfig::new().init().step(0.5, net, grads);
        check(net.state_dict()["0.weight"].data(), [[0.5f32, 0.0]], 1e-6);
        let valid: Sequential<B> = net.valid();
        check(valid.forward_tensor::<2, 2>(Tensor::from_floats([[1.0, 2.0]], device)).expect("forward").into_data(), [[-0.0f32]], 1e-6);
        let back: Sequential<Ad<B>> = Sequential::from_inner(valid);
        assert_eq!(back.num_params(), 3);
        let target = d2l_blocks::d2l_device::try_gpu::<B>(0);
        let moved = back.to_device(&target);
        assert_eq!(moved.devices(), vec![target]);
    }
}

backend_test! {
    fn records_load_into_an_unmaterialized_layer<B>(device) {
        let trained = Sequential::<B>::new().add(LazyLinear::new(2).with_init(Some(Init::Constant(3.0)), Some(Init::Ones)).expect("valid"));
        trained.forward(Tensor::<B, 2>::ones([1, 4], device)).expect("materialize");
        let fresh = Sequential::<B>::new().add(LazyLinear::new(2));
        let loaded = fresh.load_record(trained.clone().into_record());
        // 3·4 + 1 = 13
        check(loaded.forward_tensor::<2, 2>(Tensor::ones([1, 4], device)).expect("forward").into_data(), [[13.0f32, 13.0]], 1e-5);
        // A record of another width leaves a materialized layer as it is.
        let other = Sequential::<B>::new().add(LazyLinear::new(2));
        other.forward(Tensor::<B, 2>::ones([1, 3], device)).expect("materialize at 3");
        let kept = other.load_record(trained.into_record());
        assert_eq!(kept.state_dict()["0.weight"].shape(), vec![2, 3]);
    }
}

backend_test! {
    fn concurrent_first_calls_materialize_once<B>(device) {
        let net = Sequential::<B>::new().add(LazyLinear::new(4));
        let ids: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4).map(|_| s.spawn(|| {
                net.forward(Tensor::<B, 2>::ones([1, 3], device)).expect("forward");
                net.state_dict()["0.weight"].id()
            })).collect();
            handles.into_iter().map(|h| h.join().expect("thread")).collect()
        });
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "one materialization");
    }
}

backend_test! {
    fn a_shared_lazy_layer_materializes_once_for_both_positions<B>(device) {
        let shared = d2l_blocks::Shared::new(LazyLinear::<B>::new(3));
        let net = Sequential::<B>::new().add(LazyLinear::new(3)).add(shared.clone()).add(Relu::new()).add(shared);
        net.forward(Tensor::<B, 2>::ones([2, 5], device)).expect("forward");
        let state = net.state_dict();
        assert_eq!(state["1.weight"].id(), state["3.weight"].id(), "one parameter at two positions");
        assert_eq!(state["1.weight"].shape(), vec![3, 3]);
        assert_eq!(net.num_params(), 5 * 3 + 3 + 3 * 3 + 3);
    }
}
