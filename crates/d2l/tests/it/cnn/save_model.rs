//! `save_model` / `load_model` for every block of the library: the CNN blocks (Burn's own
//! serde configs), the lazy layers (before and after their first input), the book's
//! `Residual` and ResNet, torchvision's `ResNet18` — the rebuilt model prints, holds and
//! computes exactly what the saved one did, buffers included.

use burn::nn::conv::{Conv1dConfig, Conv2dConfig, ConvTranspose2dConfig};
use burn::nn::pool::{
    AdaptiveAvgPool1dConfig, AdaptiveAvgPool2dConfig, AvgPool1dConfig, AvgPool2dConfig,
    MaxPool1dConfig, MaxPool2dConfig,
};
use burn::nn::{
    EmbeddingConfig, GroupNormConfig, LayerNormConfig, LeakyReluConfig, PaddingConfig1d,
    PaddingConfig2d,
};
use burn::tensor::{Distribution, Tensor, TensorData};
use d2l::io::{load_model, save_model};
use d2l_blocks::Sequential;
use d2l_blocks::layers::{BatchNorm, Flatten, Softmax};
use d2l_device::{DeviceBackend, backend_test};
use d2l_layers::models::{ResNet18, lenet, resnet};
use d2l_params::Parameters;

/// Saves `net`, loads it back, and checks printout, state and (eval-mode) output on `x`.
fn round_trip<B: DeviceBackend, const I: usize, const O: usize>(
    name: &str,
    net: &mut Sequential<B>,
    x: Tensor<B, I>,
    device: &B::Device,
) -> Sequential<B> {
    let dir =
        std::env::temp_dir().join(format!("d2l-save-model-{}-{}", B::KIND, std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join(format!("{name}.safetensors"));
    let registry = d2l::chapter_registry::<B>();
    net.eval();
    save_model(&file, net, &registry).unwrap_or_else(|e| panic!("{name}: save: {e}"));
    let mut back =
        load_model(&file, &registry, device).unwrap_or_else(|e| panic!("{name}: load: {e}"));
    back.eval();
    assert_eq!(back.to_string(), net.to_string(), "{name}: printout");
    let state = |n: &Sequential<B>| -> Vec<(String, TensorData)> {
        n.state_dict()
            .iter()
            .map(|v| (v.key().to_owned(), v.data()))
            .collect()
    };
    assert_eq!(state(&back), state(net), "{name}: state dict");
    let ours = net.forward_tensor::<I, O>(x.clone()).expect("forward");
    let theirs = back.forward_tensor::<I, O>(x).expect("forward");
    let rerun = d2l_device::numerics::Tolerance::between_runs(B::KIND, 21);
    assert_eq!(
        rerun.check_data(&theirs.into_data(), &ours.into_data()),
        Ok(()),
        "{name}: output"
    );
    let _ = std::fs::remove_file(&file);
    back
}

backend_test! {
    fn every_cnn_block_saves_with_its_architecture<B>(device) {
        let rand = |shape: Vec<usize>| Tensor::<B, 4>::random(
            [shape[0], shape[1], shape[2], shape[3]], Distribution::Normal(0.0, 1.0), device);
        // 1-d: convolution with asymmetric padding, batch norm with its statistics moved by a
        // training pass, pools, flatten, layer norm, leaky ReLU, softmax.
        let mut net = Sequential::<B>::new()
            .add(Conv1dConfig::new(2, 4, 3).with_padding(PaddingConfig1d::Explicit(1, 2)).init(device))
            .add(BatchNorm::new_1d(4, device).with_eps(1e-3).with_momentum(0.3))
            .add(MaxPool1dConfig::new(2).with_stride(1).init())
            .add(AvgPool1dConfig::new(2).with_count_include_pad(false).init())
            .add(AdaptiveAvgPool1dConfig::new(3).init())
            .add(Flatten::new())
            .add(LayerNormConfig::new(12).with_epsilon(1e-3).init(device))
            .add(LeakyReluConfig::new().with_negative_slope(0.2).init())
            .add(Softmax::new(-1));
        let x = rand(vec![2, 2, 10, 1]).squeeze_dim::<3>(3);
        net.train();
        net.forward_tensor::<3, 2>(x.clone()).expect("a training pass");
        round_trip::<B, 3, 2>("blocks1d", &mut net, x, device);

        // 2-d: grouped convolution with asymmetric padding, group norm, pools, transposed
        // convolution, adaptive pool.
        let mut net = Sequential::<B>::new()
            .add(Conv2dConfig::new([2, 4], [3, 3]).with_groups(2).with_padding(PaddingConfig2d::Explicit(1, 0, 1, 2)).init(device))
            .add(GroupNormConfig::new(2, 4).init(device))
            .add(MaxPool2dConfig::new([2, 2]).init())
            .add(ConvTranspose2dConfig::new([4, 3], [2, 2]).with_stride([2, 2]).init(device))
            .add(AvgPool2dConfig::new([2, 2]).init())
            .add(AdaptiveAvgPool2dConfig::new([1, 1]).init())
            .add(Flatten::new());
        round_trip::<B, 4, 2>("blocks2d", &mut net, rand(vec![1, 2, 6, 6]), device);

        // An embedding (indices travel as floats).
        let mut net = Sequential::<B>::new().add(EmbeddingConfig::new(5, 3).init(device));
        let ids = Tensor::<B, 2>::from_data(TensorData::new(vec![0.0f32, 4.0, 2.0], [1, 3]), device);
        round_trip::<B, 2, 3>("embedding", &mut net, ids, device);
    }
}

backend_test! {
    fn the_books_cnns_and_resnet18_save_with_their_architecture<B>(device) {
        // LeNet: lazy layers saved before their first input stay lazy; after it, they come
        // back built from the file.
        let x = Tensor::<B, 4>::random([2, 1, 28, 28], Distribution::Normal(0.0, 1.0), device);
        let mut net = lenet::<B>(10);
        let registry = d2l::chapter_registry::<B>();
        let dir = std::env::temp_dir().join(format!("d2l-save-lazy-{}-{}", B::KIND, std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        save_model(dir.join("lazy.safetensors"), &net, &registry).expect("save a lazy LeNet");
        let back = load_model(dir.join("lazy.safetensors"), &registry, device).expect("load");
        assert_eq!(back.to_string(), net.to_string());
        assert!(back.to_string().contains("LazyConv2d(0, 6, kernel_size=(5, 5)"));
        let _ = std::fs::remove_dir_all(&dir);
        net.forward_tensor::<4, 2>(x.clone()).expect("materialize");
        round_trip::<B, 4, 2>("lenet", &mut net, x, device);

        // The book's ResNet (Residual blocks, lazy batch norms), statistics moved by training.
        let x = Tensor::<B, 4>::random([2, 1, 16, 16], Distribution::Normal(0.0, 1.0), device);
        let mut net = resnet::<B>(&[(1, 64), (1, 16)], 10);
        net.train();
        net.forward_tensor::<4, 2>(x.clone()).expect("a training pass");
        round_trip::<B, 4, 2>("resnet", &mut net, x, device);

        // torchvision's ResNet18, a derived model, as a child (a small input: wgpu runs on
        // the CPU in CI).
        let mut net = Sequential::<B>::new().add(ResNet18::<B>::new(7, device));
        let x = Tensor::<B, 4>::random([1, 3, 32, 32], Distribution::Normal(0.0, 1.0), device);
        let back = round_trip::<B, 4, 2>("resnet18", &mut net, x, device);
        assert_eq!(
            burn::module::Module::num_params(&back),
            burn::module::Module::num_params(&net)
        );
    }
}
