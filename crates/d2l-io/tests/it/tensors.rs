//! §5.5.1: tensors, lists and dicts round-trip exactly.

use burn::tensor::{Bool, Int, Tensor, TensorData, bf16, f16};
use d2l_device::backend_test;
use d2l_io::{
    IoError, load_list, load_tensor, load_tensors, save_list, save_tensor, save_tensors, tensor_on,
};

use crate::scratch;

#[test]
fn every_dtype_and_rank_round_trips_exactly() {
    let dir = scratch("dtypes");
    let cases = [
        (
            "f32",
            TensorData::new(
                vec![0.5f32, -1.25, f32::INFINITY, f32::NAN, 3.0, 4.0],
                [2, 3],
            ),
        ),
        ("f64", TensorData::new(vec![1e-300f64, -2.5, 7.0], [3])),
        (
            "f16",
            TensorData::new(vec![f16::from_f32(0.5), f16::from_f32(-2.0)], [2, 1]),
        ),
        (
            "bf16",
            TensorData::new(vec![bf16::from_f32(1.5), bf16::from_f32(8.0)], [1, 2]),
        ),
        (
            "i64",
            TensorData::new(vec![0i64, 1, i64::MAX, i64::MIN], [4]),
        ),
        ("i32", TensorData::new(vec![-7i32, 9], [1, 1, 2])),
        ("u8", TensorData::new(vec![0u8, 255], [2])),
        ("bool", TensorData::new(vec![true, false, true], [3])),
        ("scalar", TensorData::new(vec![42.0f32], [0usize; 0])),
        ("empty", TensorData::new(Vec::<f32>::new(), [2, 0])),
        (
            "rank6",
            TensorData::new(
                (0..64).map(|v| v as f32).collect::<Vec<_>>(),
                [2, 2, 2, 2, 2, 2],
            ),
        ),
    ];
    save_tensors(dir.join("all.safetensors"), cases.clone()).expect("save");
    let loaded = load_tensors(dir.join("all.safetensors")).expect("load");
    assert_eq!(loaded.len(), cases.len());
    for (key, data) in &cases {
        let back = &loaded[*key];
        assert_eq!(
            (back.dtype, back.shape.to_vec()),
            (data.dtype, data.shape.to_vec()),
            "{key}"
        );
        assert_eq!(back.as_bytes(), data.as_bytes(), "{key}: bytes differ");
    }
}

#[test]
fn lists_dicts_and_single_tensors_keep_their_layout() {
    let dir = scratch("layouts");
    let x = TensorData::new(vec![0i64, 1, 2, 3], [4]);
    let y = TensorData::new(vec![0.0f32; 4], [4]);
    save_tensor(dir.join("x-file"), x.clone()).expect("save");
    assert_eq!(load_tensor(dir.join("x-file")).expect("load"), x);
    save_list(dir.join("x-files"), [x.clone(), y.clone()]).expect("save");
    assert_eq!(
        load_list(dir.join("x-files")).expect("load"),
        [x.clone(), y.clone()]
    );
    save_tensors(dir.join("mydict"), [("x", x.clone()), ("y", y.clone())]).expect("save");
    let dict = load_tensors(dir.join("mydict")).expect("load");
    assert_eq!((dict["x"].clone(), dict["y"].clone()), (x, y));
    // The wrong layout is a typed error naming the file.
    let err = load_tensor(dir.join("x-files")).expect_err("two tensors");
    assert!(matches!(err, IoError::Layout { .. }), "{err}");
    let err = load_list(dir.join("mydict")).expect_err("named keys");
    assert!(
        err.to_string().contains("mydict") && err.to_string().contains("[\"x\", \"y\"]"),
        "{err}"
    );
}

backend_test! {
    fn loaded_tensors_go_to_the_device_asked_for<B>(device) {
        let dir = scratch(&format!("device-{}", B::KIND));
        let x = Tensor::<B, 2>::from_floats([[1.0, 2.0], [3.0, 4.0]], device);
        let ids = Tensor::<B, 1, Int>::from_ints([3, 1, 2], device);
        let mask = Tensor::<B, 1, Bool>::from_bool(TensorData::from([true, false]), device);
        save_tensors(dir.join("t.safetensors"), [("x", x.to_data()), ("ids", ids.to_data()), ("mask", mask.to_data())]).expect("save");
        let map = load_tensors(dir.join("t.safetensors")).expect("load");
        let x2: Tensor<B, 2> = tensor_on(map["x"].clone(), device, "x").expect("rank 2");
        assert_eq!(x2.device(), *device);
        assert_eq!(x2.into_data().iter::<f32>().collect::<Vec<_>>(), [1.0, 2.0, 3.0, 4.0]);
        let ids2: Tensor<B, 1, Int> = tensor_on(map["ids"].clone(), device, "ids").expect("rank 1");
        assert_eq!(ids2.into_data().iter::<i64>().collect::<Vec<_>>(), [3, 1, 2]);
        let mask2: Tensor<B, 1, Bool> = tensor_on(map["mask"].clone(), device, "mask").expect("rank 1");
        assert_eq!(mask2.into_data().iter::<bool>().collect::<Vec<_>>(), [true, false]);
        let err = tensor_on::<B, 1, burn::tensor::Float>(map["x"].clone(), device, "x").expect_err("rank 2 is not 1");
        assert!(err.to_string().contains("is not of rank 1"), "{err}");
    }
}
