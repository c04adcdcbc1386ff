//! d2l-io and d2l-layers together: a load into a lazy network is transactional — a refused
//! file leaves the network lazy; an accepted one materializes it on the model's device.

use burn::module::Module;
use burn::nn::{LinearConfig, Relu};
use burn::tensor::{Tensor, TensorData};
use d2l_blocks::Sequential;
use d2l_device::backend_test;
use d2l_io::{IoError, load_state, save_state, save_tensors, state_tensors};
use d2l_layers::LazyLinear;
use d2l_params::Parameters;

backend_test! {
    fn a_refused_file_leaves_a_lazy_net_lazy_and_a_good_one_materializes_it<B>(device) {
        let dir = std::env::temp_dir().join(format!("d2l-lazy-load-{}-{}", B::KIND, std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let trained = Sequential::<B>::new()
            .add(LinearConfig::new(3, 4).init(device))
            .add(Relu::new())
            .add(LinearConfig::new(4, 2).init(device));
        save_state(dir.join("good.safetensors"), &trained).expect("save");
        // The same state and one key the model does not have; with the lazy layer's weight of
        // an integer dtype; with another output width than the lazy layer's (2). The first two
        // materialize the lazy layer on the clone that is checked, the last does not.
        let mut extra = state_tensors(&trained);
        extra.push(("3.weight".into(), TensorData::new(vec![0.0f32; 8], [2, 4])));
        save_tensors(dir.join("extra.safetensors"), extra).expect("save");
        let mut int = state_tensors(&trained);
        int[2].1 = TensorData::new(vec![0i64; 8], [2, 4]);
        save_tensors(dir.join("int.safetensors"), int).expect("save");
        let mut wide = state_tensors(&trained);
        wide[2].1 = TensorData::new(vec![0.0f32; 12], [3, 4]);
        wide[3].1 = TensorData::new(vec![0.0f32; 3], [3]);
        save_tensors(dir.join("wide.safetensors"), wide).expect("save");

        // Eager first layer on `device`, a lazy last one.
        let mut net = Sequential::<B>::new()
            .add(LinearConfig::new(3, 4).init(device))
            .add(Relu::new())
            .add(LazyLinear::new(2));
        let lazy = "(2): LazyLinear(in_features=0, out_features=2, bias=True)";
        for bad in ["extra.safetensors", "int.safetensors", "wide.safetensors"] {
            let err = load_state(dir.join(bad), &mut net, true).expect_err(bad);
            assert!(matches!(err, IoError::Load { .. }), "{bad}: {err}");
            assert!(net.to_string().contains(lazy), "{bad}: {net}");
            assert_eq!(net.num_params(), 16, "{bad}: only the eager layer's parameters");
        }
        let report = load_state(dir.join("good.safetensors"), &mut net, true).expect("load");
        assert_eq!(report.loaded, ["0.weight", "0.bias", "2.weight", "2.bias"]);
        assert!(net.to_string().contains("(2): Linear(in_features=4, out_features=2, bias=True)"), "{net}");
        let weight = net.param("2.weight").expect("materialized");
        assert_eq!(weight.tensor::<2>().expect("rank 2").device(), *device);
        let x = Tensor::<B, 2>::from_data(TensorData::new(vec![0.5f32, -1.0, 2.0], [1, 3]), device);
        let (ours, theirs) = (net.forward(x.clone()).expect("forward"), trained.forward(x).expect("forward"));
        assert_eq!(d2l_device::numerics::Tolerance::between_runs(B::KIND, 5).check_data(&ours.into_data(), &theirs.into_data()), Ok(()));
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}

/// A `#[derive(Module)]` model holding lazy layers directly and inside a `Sequential`.
#[derive(Module, Debug)]
struct Derived<B: burn::tensor::backend::Backend> {
    conv: d2l_layers::LazyConv2d<B>,
    head: Sequential<B>,
}

fn derived<B: burn::tensor::backend::Backend>() -> Derived<B> {
    Derived {
        conv: d2l_layers::LazyConv2d::new(2, [3, 3]),
        head: Sequential::new()
            .add(d2l_blocks::layers::Flatten::new())
            .add(LazyLinear::new(3)),
    }
}

impl<B: burn::tensor::backend::Backend> d2l_blocks::Forward<B> for Derived<B> {
    fn forward(
        &self,
        x: d2l_blocks::Activation<B>,
    ) -> Result<d2l_blocks::Activation<B>, d2l_blocks::BlockError> {
        let x = d2l_blocks::hooks::call("conv", &self.conv, x)?;
        d2l_blocks::hooks::call("head", &self.head, x)
    }
    fn repr(&self) -> String {
        "Derived".into()
    }
    d2l_blocks::children!(B; conv, head);
}
d2l_blocks::impl_block!(Derived<B>);

backend_test! {
    fn lazy_layers_of_a_derived_model_load_strictly_from_a_file<B>(device) {
        use d2l_blocks::TypedForward;
        let dir = std::env::temp_dir().join(format!("d2l-lazy-derived-{}-{}", B::KIND, std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let trained = derived::<B>();
        let x = Tensor::<B, 4>::from_data(TensorData::new((0..2 * 25).map(|i| i as f32 / 50.0).collect::<Vec<_>>(), [1, 2, 5, 5]), device);
        let y: Tensor<B, 2> = trained.forward_tensor(x.clone()).expect("materialize");
        save_state(dir.join("derived.safetensors"), &trained).expect("save");
        let mut fresh = derived::<B>();
        assert_eq!(fresh.num_params(), 0);
        let report = load_state(dir.join("derived.safetensors"), &mut fresh, true).expect("strict load");
        assert_eq!(report.loaded, ["conv.weight", "conv.bias", "head.1.weight", "head.1.bias"]);
        assert_eq!(fresh.num_params(), 2 * 2 * 9 + 2 + 3 * 18 + 3);
        let again: Tensor<B, 2> = fresh.forward_tensor(x).expect("forward");
        assert_eq!(d2l_device::numerics::Tolerance::between_runs(B::KIND, 5).check_data(&again.into_data(), &y.into_data()), Ok(()));
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
