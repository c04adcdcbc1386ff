//! `Sequential`: building, indexing, printing, errors (D2L §5.1.2).

use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::Tensor;
use d2l_blocks::{Activation, BlockError, Sequential, book};
use d2l_device::backend_test;

use crate::{check, constant_linear};

const NET_REPR: &str = "Sequential(
  (0): Linear(in_features=20, out_features=256, bias=True)
  (1): ReLU()
  (2): Linear(in_features=256, out_features=10, bias=True)
)";

backend_test! {
    fn prints_like_pytorch<B>(device) {
        let net = Sequential::<B>::new()
            .add(LinearConfig::new(20, 256).init(device))
            .add(Relu::new())
            .add(LinearConfig::new(256, 10).init(device));
        assert_eq!(format!("{net}"), NET_REPR);
        assert_eq!(format!("{}", &net[1]), "ReLU()");
        assert_eq!(Sequential::<B>::new().to_string(), "Sequential()");
    }
}

/// The book's `rgnet` (§5.2.2), printed as PyTorch prints it.
const RGNET_REPR: &str = "Sequential(
  (0): Sequential(
    (block 0): Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=4, bias=True)
      (3): ReLU()
    )
    (block 1): Sequential(
      (0): Linear(in_features=4, out_features=8, bias=True)
      (1): ReLU()
      (2): Linear(in_features=8, out_features=4, bias=True)
      (3): ReLU()
    )
  )
  (1): Linear(in_features=4, out_features=1, bias=True)
)";

backend_test! {
    fn nests_to_any_depth<B>(device) {
        let net = book::rgnet::<B>(2, device);
        assert_eq!(net.to_string(), RGNET_REPR);
        // rgnet[0][1][0] is the first Linear of "block 1".
        let inner = &net[0][1][0];
        assert_eq!(inner.to_string(), "Linear(in_features=4, out_features=8, bias=True)");
        assert!(inner.downcast_ref::<Linear<B>>().is_some());
        assert!(net[0].as_sequential().and_then(|s| s.get_named("block 1")).is_some());
        let names: Vec<&str> = net[0].as_sequential().expect("nested").iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["block 0", "block 1"]);
        let y = net.forward_tensor::<2, 2>(Tensor::ones([2, 4], device)).expect("runs");
        assert_eq!(y.dims(), [2, 1]);
    }
}

backend_test! {
    fn index_and_typed_access<B>(device) {
        let mut net = Sequential::<B>::new()
            .add(constant_linear(2, 3, 1.0, device))
            .add(Relu::new());
        assert_eq!(net.len(), 2);
        assert!(!net.is_empty());
        assert!(net.get(2).is_none());
        assert_eq!(net.try_get(5).err(), Some(BlockError::Index { index: 5, len: 2 }));
        assert!(net.child::<Relu>(0).is_none(), "wrong type is None");
        let linear = net.child_mut::<Linear<B>>(0).expect("a Linear at 0");
        linear.bias = None;
        assert_eq!(net[0].to_string(), "Linear(in_features=2, out_features=3, bias=False)");
        // x = [1, 2] through W = ones(2, 3), no bias: [3, 3, 3].
        let y = net.forward_tensor::<1, 1>(Tensor::from_floats([1.0, 2.0], device)).expect("runs");
        check(y, [3.0f32, 3.0, 3.0]);
    }
}

backend_test! {
    fn an_empty_sequential_is_the_identity<B>(device) {
        let net = Sequential::<B>::new();
        let y = net.forward_tensor::<2, 2>(Tensor::from_floats([[1.0, -2.0]], device)).expect("identity");
        check(y, [[1.0f32, -2.0]]);
    }
}

backend_test! {
    fn duplicate_and_bad_names_are_errors<B>(device) {
        let net = Sequential::<B>::new().add_named("block 0", Relu::new()).expect("fresh");
        let err = net.add_named("block 0", Relu::new()).expect_err("duplicate");
        assert_eq!(err, BlockError::DuplicateName { name: "block 0".into() });
        assert!(Sequential::<B>::new().add_named("a.b", Relu::new()).is_err());
        assert!(Sequential::<B>::new().add_named("", Relu::new()).is_err());
        // A positional add never collides with an explicit numeric name.
        let net = Sequential::<B>::new().add_named("0", Relu::new()).expect("fresh").add(Relu::new());
        let names: Vec<&str> = net.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["0", "1"]);
    }
}

backend_test! {
    fn width_mismatches_name_the_child_path<B>(device) {
        let net = book::rgnet::<B>(2, device);
        let err = net.forward(Tensor::<B, 2>::ones([2, 5], device)).expect_err("width 5 into 4");
        assert_eq!(
            err,
            BlockError::Width { path: "0.block 0.0".into(), expected: 4, actual: vec![2, 5] }
        );
        assert_eq!(err.to_string(), "layer `0.block 0.0`: expected input width 4, got shape [2, 5]");
        // A mismatch between consecutive children is caught at the second one.
        let bad = Sequential::<B>::new()
            .add(LinearConfig::new(4, 8).init(device))
            .add(LinearConfig::new(6, 2).init(device));
        let err = bad.forward(Tensor::<B, 2>::ones([3, 4], device)).expect_err("8 into 6");
        assert_eq!(err, BlockError::Width { path: "1".into(), expected: 6, actual: vec![3, 8] });
    }
}

backend_test! {
    fn rank_one_and_rank_two_inputs_both_run<B>(device) {
        let net = Sequential::<B>::new().add(constant_linear(3, 2, 0.5, device)).add(Relu::new());
        // 0.5·(1+2+3) + 0.5 = 3.5 on each output.
        let y1 = net.forward_tensor::<1, 1>(Tensor::from_floats([1.0, 2.0, 3.0], device)).expect("rank 1");
        check(y1, [3.5f32, 3.5]);
        let y2 = net.forward_tensor::<2, 2>(Tensor::from_floats([[1.0, 2.0, 3.0], [-4.0, 0.0, 0.0]], device)).expect("rank 2");
        check(y2, [[3.5f32, 3.5], [0.0, 0.0]]);
        // Asking for the wrong output rank is an error, not a panic.
        let err = net.forward_tensor::<1, 2>(Tensor::from_floats([1.0, 2.0, 3.0], device)).expect_err("rank");
        assert_eq!(err, BlockError::Rank { path: String::new(), expected: 2, actual: vec![2] });
        let act = Activation::from(Tensor::<B, 3>::ones([1, 2, 3], device));
        assert_eq!(net.forward_activation(act).expect("rank 3").shape(), vec![1, 2, 2]);
    }
}

backend_test! {
    fn device_mismatch_is_a_typed_error<B>(device) {
        let net = Sequential::<B>::new().add(constant_linear(2, 1, 1.0, device));
        // On the parameters' own device the check passes: 1·1 + 1·1 + 1 = 3.
        check(net.forward(Tensor::<B, 2>::ones([1, 2], device)).expect("same device"), [[3.0f32]]);
        let devices = d2l_device::list_devices::<B>();
        match devices.into_iter().chain([B::Device::default()]).find(|d| d != device) {
            Some(other) => {
                let err = net.forward(Tensor::<B, 2>::ones([1, 2], &other)).expect_err("devices differ");
                assert!(matches!(err, BlockError::Device { ref path, .. } if path == "0"), "{err:?}");
            }
            // ndarray, flex and tch without a GPU have one device (cuda here one GPU): no second
            // one to mismatch.
            None => assert!(matches!(B::KIND, d2l_device::BackendKind::NdArray | d2l_device::BackendKind::Flex | d2l_device::BackendKind::Cuda | d2l_device::BackendKind::Tch), "{:?}", B::KIND),
        }
    }
}

/// A user block with a rank-7 parameter: Burn has no rank limit, a `dyn Block` boundary does.
#[derive(burn::module::Module, Debug)]
struct Rank7<B: burn::tensor::backend::Backend> {
    weight: burn::module::Param<Tensor<B, 7>>,
}

impl<B: burn::tensor::backend::Backend> d2l_blocks::Forward<B> for Rank7<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        Ok(x)
    }
    fn repr(&self) -> String {
        "Rank7()".into()
    }
}
d2l_blocks::impl_block!(Rank7<B>);

backend_test! {
    fn a_parameter_rank_past_the_maximum_is_a_typed_error_never_a_panic<B>(device) {
        use burn::module::{AutodiffModule, Module};
        let rank7 = || Rank7::<B> { weight: burn::module::Param::from_tensor(Tensor::ones([1, 1, 1, 1, 1, 1, 2], device)) };
        let err = Sequential::<B>::new().try_add(rank7()).expect_err("rank 7");
        assert_eq!(err, BlockError::UnsupportedRank { path: "0.weight".into(), rank: 7 });
        assert_eq!(err.to_string(), "layer `0.weight`: rank 7 is not supported (blocks take ranks 1 to 6)");
        let err = Sequential::<B>::new().add_named("deep", rank7()).expect_err("rank 7");
        assert_eq!(err.path(), "deep.weight");
        // `add` keeps it; every walk goes on without it, and forward reports it.
        let net = Sequential::<B>::new().add(constant_linear(2, 2, 1.0, device)).add(rank7());
        assert_eq!(net.num_params(), 6);
        let net = net.clone().fork(device);
        assert_eq!(net.clone().into_record().params.len(), 2);
        let err = net.forward(Tensor::<B, 2>::ones([1, 2], device)).expect_err("unsupported child");
        assert_eq!(err, BlockError::UnsupportedRank { path: "1.weight".into(), rank: 7 });
        let outer = Sequential::<B>::new().add(net);
        let err = outer.forward(Tensor::<B, 2>::ones([1, 2], device)).expect_err("nested");
        assert_eq!(err.path(), "0.1.weight");
        // Under autodiff too.
        let ad = Sequential::<burn::backend::Autodiff<B>>::new().add(Rank7 {
            weight: burn::module::Param::from_tensor(Tensor::ones([1, 1, 1, 1, 1, 1, 1], device)),
        });
        assert_eq!(ad.valid().len(), 1);
        // Activations of rank 7 are the same typed error.
        let x = Tensor::<B, 7>::ones([1, 1, 1, 1, 1, 1, 2], device);
        let relu = Sequential::<B>::new().add(Relu::new());
        assert_eq!(relu.forward(x).expect_err("rank 7"), BlockError::UnsupportedRank { path: "0".into(), rank: 7 });
    }
}

backend_test! {
    fn child_names_are_checked<B>(device) {
        let err = Sequential::<B>::new().add_named("", Relu::new()).expect_err("empty");
        assert!(matches!(err, BlockError::InvalidName { ref name, .. } if name.is_empty()), "{err:?}");
        let err = Sequential::<B>::new().add_named("block.0", Relu::new()).expect_err("dotted");
        assert!(matches!(err, BlockError::InvalidName { ref name, .. } if name == "block.0"), "{err:?}");
        let net = Sequential::<B>::new().add(Relu::new());
        assert_eq!(net.add_named("0", Relu::new()).expect_err("taken"), BlockError::DuplicateName { name: "0".into() });
        // Positional names skip names already taken.
        let net = Sequential::<B>::new().add_named("1", Relu::new()).expect("free").add(constant_linear(2, 2, 1.0, device));
        let names: Vec<&str> = net.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["1", "2"]);
        assert!(net.get_named("2").is_some() && net.get_named("0").is_none());
    }
}

backend_test! {
    fn ten_thousand_parameters_walk_in_linear_time<B>(device) {
        use burn::module::Module;
        // 5 000 Linears: names, records and loads are built with maps, not scans.
        let net = (0..5000).fold(Sequential::<B>::new(), |net, _| net.add(constant_linear(1, 1, 1.0, device)));
        let record = net.clone().into_record();
        assert_eq!(record.params.len(), 10_000);
        assert_eq!(record.params[9_999].path, "4999.bias");
        let loaded = net.load_record(record);
        assert_eq!(loaded.num_params(), 10_000);
    }
}
