//! Bad input into the CNN blocks: typed errors naming the layer path and the shapes, or
//! PyTorch's result — never a panic.

use burn::backend::Autodiff;
use burn::nn::EmbeddingConfig;
use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::MaxPool2dConfig;
use burn::tensor::{Tensor, TensorData};
use d2l_blocks::layers::BatchNorm;
use d2l_blocks::{BlockError, Sequential};
use d2l_device::backend_test;
use d2l_layers::models::{lenet, resnet};

backend_test! {
    fn bad_images_are_typed_errors_with_paths_and_shapes<B>(device) {
        let net = Sequential::<B>::new()
            .add(Sequential::new().add(Conv2dConfig::new([3, 4], [5, 5]).init(device)))
            .add(MaxPool2dConfig::new([3, 3]).init());
        // A wrong channel count, nested one level down.
        let err = net.forward(Tensor::<B, 4>::zeros([2, 1, 8, 8], device)).unwrap_err();
        assert_eq!(err.to_string(), "layer `0.0`: expected 3 input channels, got shape [2, 1, 8, 8]");
        // A kernel larger than the input.
        let err = net.forward(Tensor::<B, 4>::zeros([1, 3, 4, 9], device)).unwrap_err();
        assert!(matches!(&err, BlockError::TooSmall { path, kernel, .. } if path == "0.0" && kernel == &vec![5, 5]), "{err}");
        assert_eq!(
            err.to_string(),
            "layer `0.0`: input shape [1, 3, 4, 9] is too small: with padding [0, 0], the spatial \
             sizes must be at least the kernel's extent [5, 5]"
        );
        // The pool after it: 5×5 → 1×1 cannot take a 3×3 window.
        let err = net.forward(Tensor::<B, 4>::zeros([1, 3, 5, 5], device)).unwrap_err();
        assert!(matches!(&err, BlockError::TooSmall { path, .. } if path == "1"), "{err}");
        // A rank-3 image is one unbatched sample, as in PyTorch; rank 2 is an error.
        let x = Tensor::<B, 4>::ones([1, 3, 9, 9], device);
        let batched = net.forward(x.clone()).expect("batched");
        let unbatched = net.forward(x.reshape([3, 9, 9])).expect("unbatched");
        assert_eq!(unbatched.dims(), [4, 1, 1]);
        assert_eq!(unbatched.into_data(), batched.reshape([4, 1, 1]).into_data());
        let err = net.forward(Tensor::<B, 2>::ones([3, 9], device)).unwrap_err();
        assert!(matches!(err, BlockError::Rank { expected: 4, .. }), "{err}");
        // NaN propagates as in PyTorch, through the convolution and the max pool.
        let mut values = vec![1.0f32; 3 * 9 * 9];
        values[0] = f32::NAN;
        let y = net.forward(Tensor::<B, 4>::from_data(TensorData::new(values, [1, 3, 9, 9]), device)).expect("nan");
        assert!(y.into_data().to_vec::<f32>().expect("f32").iter().any(|v| v.is_nan()));
    }
}

backend_test! {
    fn a_zero_size_batch_runs_through_lenet_and_resnet<B>(device) {
        let net = lenet::<B>(10);
        let y = net.forward_tensor::<4, 2>(Tensor::zeros([0, 1, 28, 28], device)).expect("lenet");
        assert_eq!(y.dims(), [0, 10]);
        let net = resnet::<B>(&[(1, 64)], 3);
        let y = net.forward_tensor::<4, 2>(Tensor::zeros([0, 1, 16, 16], device));
        // The lazy linear layer infers its width from a zero-size batch too.
        assert_eq!(y.expect("resnet").dims(), [0, 3]);
    }
}

backend_test! {
    fn lazy_layers_name_the_path_when_a_later_input_differs<B>(device) {
        let net = resnet::<Autodiff<B>>(&[(1, 64)], 3);
        net.forward_tensor::<4, 2>(Tensor::zeros([2, 1, 16, 16], device)).expect("first");
        let err = net.forward_tensor::<4, 2>(Tensor::zeros([2, 3, 16, 16], device)).unwrap_err();
        assert_eq!(err.to_string(), "layer `0.0`: expected 1 input channels, got shape [2, 3, 16, 16]");
    }
}

backend_test! {
    fn batch_statistics_of_one_value_and_bad_indices_are_errors<B>(device) {
        let mut net = Sequential::<B>::new().add(BatchNorm::new_1d(4, device));
        net.train();
        let err = net.forward(Tensor::<B, 2>::ones([1, 4], device)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer `0`: expected more than 1 value per channel when training, got input shape [1, 4]"
        );
        net.eval();
        assert!(net.forward(Tensor::<B, 2>::ones([1, 4], device)).is_ok());
        let err = net.forward(Tensor::<B, 2>::ones([2, 5], device)).unwrap_err();
        assert_eq!(err.to_string(), "layer `0`: expected 4 input channels, got shape [2, 5]");

        let net = Sequential::<B>::new().add(EmbeddingConfig::new(10, 4).init(device));
        let y = net.forward_tensor::<2, 3>(Tensor::from_floats([[1.0, 9.0]], device)).expect("lookup");
        assert_eq!(y.dims(), [1, 2, 4]);
        let err = net.forward_tensor::<2, 3>(Tensor::from_floats([[1.0, 10.0]], device)).unwrap_err();
        assert_eq!(err.to_string(), "layer `0`: index 10 is not an integer in 0..10");
        let err = net.forward_tensor::<2, 3>(Tensor::from_floats([[0.5]], device)).unwrap_err();
        assert!(matches!(err, BlockError::BadIndex { .. }), "{err}");
    }
}
