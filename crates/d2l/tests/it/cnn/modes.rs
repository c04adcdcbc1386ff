//! Train and eval modes through every block, hooks and capture by module path, buffers apart
//! from parameters, and initialization of a lazy CNN.

use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use d2l_blocks::layers::{BatchNorm, Dropout};
use d2l_blocks::{
    Activation, Block, BlockError, Forward, Sequential, Train, children, impl_block, trace,
};
use d2l_device::backend_test;
use d2l_layers::LazyConv2d;
use d2l_layers::models::{init_cnn, lenet, resnet};
use d2l_params::{Init, Parameters};

/// A derived model holding a dropout, whose forward calls the dropout's own typed `forward`
/// (case e) — no container in between.
#[derive(burn::module::Module, Debug)]
struct Head<B: Backend> {
    scale: Param<Tensor<B, 1>>,
    dropout: Dropout<B>,
}

impl<B: Backend> Head<B> {
    fn new(device: &B::Device) -> Self {
        Self {
            scale: Param::from_tensor(Tensor::ones([1], device)),
            dropout: Dropout::new(0.5),
        }
    }
}

impl<B: Backend> Forward<B> for Head<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let x = self.dropout.forward(x.into_tensor::<2>()?);
        Ok((x * self.scale.val().unsqueeze()).into())
    }
    fn repr(&self) -> String {
        "Head()".into()
    }
    children!(B; dropout);
}
impl_block!(Head<B>);

/// `Some(true)` if `y` (from an input of ones) was dropped (every value 0 or 2, some 0),
/// `Some(false)` if it is the input unchanged, `None` otherwise.
fn dropped<B: Backend>(y: Tensor<B, 2>) -> Option<bool> {
    let v = y.into_data().to_vec::<f32>().expect("f32");
    if v.iter().all(|&v| v == 1.0) {
        Some(false)
    } else if v.iter().all(|&v| v == 0.0 || v == 2.0) && v.contains(&0.0) {
        Some(true)
    } else {
        None
    }
}

backend_test! {
    fn modes_follow_pytorch_whoever_calls_the_block<B>(device) {
        type A<B> = Autodiff<B>;
        let x = Tensor::<A<B>, 2>::ones([32, 32], device);
        let run = |block: &dyn Block<A<B>>| dropped(block.forward(x.clone().into()).expect("forward").into_tensor::<2>().expect("rank 2"));
        // Unset: the backend decides (Burn's rule) — Autodiff trains.
        let mut net = Sequential::<A<B>>::new().add(Head::new(device)).add(Dropout::new(0.5));
        assert_eq!((run(&net[0]), run(&net[1])), (Some(true), Some(true)));
        // a. net.eval(); net[1](x): the identity (PyTorch), even called directly.
        net.eval();
        assert_eq!(run(&net[1]), Some(false));
        assert_eq!(run(&net), Some(false));
        assert_eq!(net[1].training(), Some(false));
        // e. Head's forward calls its dropout's typed forward, and eval() reached it.
        assert_eq!(run(&net[0]), Some(false));
        // c. net.eval(); net[0].train(): that child trains, its sibling does not.
        Train::train(&mut net[0]);
        assert_eq!(run(&net[0]), Some(true));
        assert_eq!(run(&net[1]), Some(false));
        assert_eq!((net[0].training(), net.training()), (Some(true), Some(false)));
        // b. A derived model on its own: eval() through the trait.
        let mut head = Head::<A<B>>::new(device);
        Train::eval(&mut head);
        assert_eq!(run(&head), Some(false));
        head.set_training(true);
        assert_eq!(run(&head), Some(true));
        // d. net.train(); net.valid(): the validation twin evaluates (Burn's Learner habit)
        // while the autodiff model keeps training.
        net.train();
        let valid = net.valid();
        assert_eq!(valid.training(), None);
        assert_eq!(dropped(valid.forward(x.clone().inner()).expect("valid")), Some(false));
        assert_eq!((run(&net[0]), run(&net[1])), (Some(true), Some(true)));
        // ... and batch norm in the twin uses its running statistics.
        let mut bn = Sequential::<A<B>>::new().add(BatchNorm::new_2d(3, device));
        bn.train();
        let twin = bn.valid();
        let y = twin.forward(Tensor::<B, 4>::ones([2, 3, 2, 2], device).mul_scalar(5.0)).expect("valid");
        // Running mean 0 and variance 1: (5 - 0) / sqrt(1 + 1e-5).
        let v = y.into_data().to_vec::<f32>().expect("f32")[0];
        assert!((v - 5.0 / (1.0f32 + 1e-5).sqrt()).abs() < 1e-5, "{v}");

        // Batch norm nested in a custom block inside a Sequential: running statistics move in
        // training only.
        let mut net = resnet::<A<B>>(&[(1, 64)], 3);
        let x = Tensor::<A<B>, 4>::ones([2, 1, 8, 8], device);
        net.forward_tensor::<4, 2>(x.clone()).expect("train");
        let count = |net: &Sequential<A<B>>| net.state_dict()["b2.0.bn1.num_batches_tracked"].data().to_vec::<i64>().expect("i64")[0];
        assert_eq!(count(&net), 1);
        net.eval();
        net.forward_tensor::<4, 2>(x.clone()).expect("eval");
        assert_eq!(count(&net), 1);
        net.train();
        net.forward_tensor::<4, 2>(x.clone()).expect("train");
        assert_eq!(count(&net), 2);
        // A zero-size training batch counts, as in PyTorch, and moves no statistic.
        let before = net.state_dict()["b2.0.bn1.running_mean"].data();
        net.forward_tensor::<4, 2>(Tensor::zeros([0, 1, 8, 8], device)).expect("empty batch");
        assert_eq!(count(&net), 3);
        assert_eq!(net.state_dict()["b2.0.bn1.running_mean"].data(), before);
    }
}

backend_test! {
    fn hooks_see_every_module_by_its_pytorch_path<B>(device) {
        let net = resnet::<B>(&[(1, 64), (1, 16)], 3);
        let x = Tensor::<B, 4>::ones([2, 1, 16, 16], device);
        let (y, seen) = trace::capture::<B, _>(&["b2.0.conv1", "b3.0.conv3", "last.1", "0"], || net.forward_tensor::<4, 2>(x.clone()));
        assert_eq!(y.expect("forward").dims(), [2, 3]);
        assert_eq!(seen.paths(), ["0", "b2.0.conv1", "b3.0.conv3", "last.1"]);
        assert_eq!(seen.get("b2.0.conv1").map(|a| a.shape()), Some(vec![2, 64, 4, 4]));
        assert_eq!(seen.get("b3.0.conv3").map(|a| a.shape()), Some(vec![2, 16, 2, 2]));
        assert_eq!(seen.get("last.1").map(|a| a.shape()), Some(vec![2, 16]));
        // Every module, as named_modules() lists them, reports once per forward.
        let (_, all) = trace::capture::<B, _>(&[], || net.forward_tensor::<4, 2>(x.clone()));
        let modules: Vec<String> = trace::named_modules(&net).into_iter().map(|(p, _)| p).filter(|p| !p.is_empty()).collect();
        let mut reported: Vec<String> = all.paths().into_iter().map(str::to_owned).collect();
        reported.sort();
        let mut expected = modules.clone();
        expected.sort();
        assert_eq!(reported, expected);
        assert_eq!(trace::named_modules(&net)[..3].iter().map(|(p, c)| format!("{p}:{}", trace::class_name(*c))).collect::<Vec<_>>(), [":Sequential", "0:Sequential", "0.0:Conv2d"]);
    }
}

backend_test! {
    fn buffers_stay_out_of_parameters_and_init_cnn_is_xavier_on_conv_and_linear<B>(device) {
        let mut net = resnet::<B>(&[(1, 64)], 3);
        net.forward_tensor::<4, 2>(Tensor::zeros([2, 1, 16, 16], device)).expect("materialize");
        let params = net.named_parameters();
        assert!(params.iter().all(|p| !p.key().contains("running") && !p.key().ends_with("num_batches_tracked")));
        let buffers: Vec<String> = net.named_buffers().iter().map(|b| b.key().to_owned()).collect();
        assert_eq!(&buffers[..3], ["0.1.running_mean", "0.1.running_var", "0.1.num_batches_tracked"]);
        assert_eq!(net.state_dict().len(), params.len() + buffers.len());
        let before = net.state_dict();
        let count = init_cnn(&mut net).expect("init");
        assert_eq!(count, 4); // 0.0, b2.0.conv1, b2.0.conv2 and last.2 weights; no buffer
        for view in net.state_dict().iter() {
            let old = before[view.key()].data();
            if view.key().ends_with("weight") && view.shape().len() >= 2 {
                let shape = view.shape();
                let receptive: usize = shape[2..].iter().product();
                let bound = (6.0 / ((shape[0] + shape[1]) * receptive) as f32).sqrt();
                let values = view.data().to_vec::<f32>().expect("f32");
                assert!(values.iter().all(|v| v.abs() <= bound + 1e-6), "{}", view.key());
                assert_ne!(view.data(), old, "{}", view.key());
            } else {
                assert_eq!(view.data(), old, "{} must not change", view.key());
            }
        }
        // An initializer chosen before the first forward is applied when the shapes arrive.
        let net = Sequential::<B>::new().add(
            LazyConv2d::new(2, [3, 3]).with_init(Some(Init::Constant(0.5)), Some(Init::Zeros)).expect("init"),
        );
        net.forward(Tensor::<B, 4>::ones([1, 3, 5, 5], device)).expect("forward");
        assert_eq!(net.param("0.weight").expect("weight").data().to_vec::<f32>().expect("f32"), vec![0.5; 2 * 3 * 9]);
        let _ = lenet::<B>(10);
    }
}
