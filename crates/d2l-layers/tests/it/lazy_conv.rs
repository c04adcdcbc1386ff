//! Lazy convolutions from Burn's own configs: asymmetric and `Same` padding, groups, stride,
//! bias and initializer as Burn has them, only the input channels deferred.

use burn::nn::conv::{Conv1dConfig, Conv2dConfig};
use burn::nn::{Initializer, PaddingConfig1d, PaddingConfig2d};
use burn::tensor::{Distribution, Tensor};
use d2l_blocks::{Forward, TypedForward};
use d2l_device::backend_test;
use d2l_layers::{LazyConv1d, LazyConv2d};

backend_test! {
    fn a_lazy_conv2d_from_burns_config_computes_as_the_eager_one<B>(device) {
        // Asymmetric padding (top 1, left 0, bottom 2, right 1), two groups, stride (2, 1),
        // no bias; the config's input channels (999) are ignored: the input gives 6.
        let config = Conv2dConfig::new([999, 4], [3, 2])
            .with_padding(PaddingConfig2d::Explicit(1, 0, 2, 1))
            .with_groups(2)
            .with_stride([2, 1])
            .with_bias(false)
            .with_initializer(Initializer::Constant { value: 0.5 });
        let lazy = LazyConv2d::<B>::from_config(&config);
        assert_eq!(
            lazy.repr(),
            "LazyConv2d(0, 4, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0, 2, 1), groups=2, bias=False)"
        );
        let x = Tensor::<B, 4>::random([2, 6, 5, 5], Distribution::Normal(0.0, 1.0), device);
        let y = lazy.forward_tensor::<4, 4>(x.clone()).expect("forward");
        // Height (5 + 1 + 2 - 3) / 2 + 1 = 3, width 5 + 0 + 1 - 2 + 1 = 5.
        assert_eq!(y.dims(), [2, 4, 3, 5]);
        let eager = Conv2dConfig { channels: [6, 4], ..config }.init::<B>(device);
        assert_eq!(lazy.block().expect("built").weight.val().into_data(), eager.weight.val().into_data());
        let expected = eager.forward_tensor::<4, 4>(x).expect("forward");
        expected.into_data().assert_approx_eq::<f32>(&y.into_data(), burn::tensor::Tolerance::default());
        assert!(Forward::<B>::repr(&lazy).starts_with("Conv2d(6, 4, kernel_size=(3, 2)"));
    }
}

backend_test! {
    fn a_lazy_conv1d_takes_same_and_asymmetric_padding<B>(device) {
        let same = LazyConv1d::<B>::from_config(&Conv1dConfig::new(0, 3, 3).with_padding(PaddingConfig1d::Same));
        assert_eq!(same.repr(), "LazyConv1d(0, 3, kernel_size=(3,), stride=(1,), padding=same)");
        let x = Tensor::<B, 3>::ones([1, 2, 7], device);
        assert_eq!(same.forward_tensor::<3, 3>(x.clone()).expect("forward").dims(), [1, 3, 7]);
        let asym = LazyConv1d::<B>::new(3, 2).with_padding_config(PaddingConfig1d::Explicit(0, 3));
        assert_eq!(asym.forward_tensor::<3, 3>(x).expect("forward").dims(), [1, 3, 9]);
        assert!(Forward::<B>::repr(&asym).contains("padding=(0, 3)"));
    }
}

backend_test! {
    fn groups_that_do_not_divide_the_channels_are_errors_not_panics<B>(device) {
        // Two groups: 3 input channels, or 5 output channels, cannot be split — Burn's own
        // `init` would panic; the lazy layer names its path instead and stays lazy.
        let x = Tensor::<B, 4>::ones([1, 3, 4, 4], device);
        let lazy = LazyConv2d::<B>::new(4, [1, 1]).with_groups(2);
        assert!(lazy.forward_tensor::<4, 4>(x).is_err());
        assert!(lazy.block().is_none());
        let lazy = LazyConv2d::<B>::new(5, [1, 1]).with_groups(2);
        assert!(lazy.forward_tensor::<4, 4>(Tensor::<B, 4>::ones([1, 4, 4, 4], device)).is_err());
        assert!(lazy.block().is_none());
    }
}
