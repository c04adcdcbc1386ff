//! Both directions against real PyTorch: files PyTorch wrote load here with PyTorch's outputs,
//! and a file written here loads in PyTorch (`tests/fixtures/make_fixtures.py`).

use crate::fixture;

use burn::nn::{LinearConfig, Relu};
use burn::tensor::{Tensor, TensorData};
use d2l_blocks::Sequential;
use d2l_device::backend_test;
use d2l_io::{IoError, TensorMap, load_list, load_state, load_tensor, load_tensors, save_state};
use d2l_params::{Strict, load_state_dict};

/// The §5.2 network, PyTorch's `nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1))`.
fn net<B: burn::tensor::backend::Backend>(device: &B::Device) -> Sequential<B> {
    Sequential::new()
        .add(LinearConfig::new(4, 8).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(8, 1).init(device))
}

fn matrix(value: &serde_json::Value) -> Vec<Vec<f32>> {
    let rows = value.as_array().expect("rows");
    rows.iter()
        .map(|r| {
            r.as_array()
                .expect("row")
                .iter()
                .map(|v| v.as_f64().expect("number") as f32)
                .collect()
        })
        .collect()
}

backend_test! {
    fn pytorch_files_load_with_outputs_equal_to_pytorch<B>(device) {
        let expected: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("net.json")).expect("net.json")).expect("json");
        let (x, y) = (matrix(&expected["x"]), matrix(&expected["y"]));
        let x = Tensor::<B, 2>::from_data(TensorData::new(x.concat(), [2, 4]), device);
        for file in ["net.pt", "legacy.pt", "net.safetensors"] {
            let mut model = net::<B>(device);
            let report = load_state(fixture(file), &mut model, true).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(report.loaded, ["0.weight", "0.bias", "2.weight", "2.bias"], "{file}");
            let out = model.forward(x.clone()).expect("forward");
            let tol = d2l_device::numerics::Tolerance::absolute(1e-5).for_backend(B::KIND, 2);
            assert_eq!(tol.check_data(&out.into_data(), &TensorData::new(y.concat(), [2, 1])), Ok(()), "{file}");
        }
    }
}

#[test]
fn the_books_dict_loads_from_a_pytorch_file() {
    let dict = load_tensors(fixture("mydict.pt")).expect("mydict.pt");
    assert_eq!(dict["x"].iter::<i64>().collect::<Vec<_>>(), [0, 1, 2, 3]);
    assert_eq!(dict["y"].iter::<f32>().collect::<Vec<_>>(), [0.0; 4]);
    assert_eq!(dict["y"].dtype, burn::tensor::DType::F32);
}

backend_test! {
    fn a_file_written_here_loads_in_pytorch<B>(device) {
        // w[o, i] = 0.01·(4o + i), b[o] = 0.1·o; layer 2 all 0.5 with bias 1 (PyTorch orientation).
        let mut values = TensorMap::new();
        values.insert("0.weight".into(), TensorData::new((0..32).map(|k| 0.01 * k as f32).collect::<Vec<_>>(), [8, 4]));
        values.insert("0.bias".into(), TensorData::new((0..8).map(|o| 0.1 * o as f32).collect::<Vec<_>>(), [8]));
        values.insert("2.weight".into(), TensorData::new(vec![0.5f32; 8], [1, 8]));
        values.insert("2.bias".into(), TensorData::new(vec![1.0f32], [1]));
        let mut model = net::<B>(device);
        load_state_dict(&mut model, &values, Strict::Yes).expect("load_state_dict");
        // The output make_fixtures.py checks in PyTorch: 0.5·Σ_o relu(Σ_i w[o, i] + b[o]) + 1.
        let expected: f32 = 0.5 * (0..8).map(|o| (0..4).map(|i| 0.01 * (4 * o + i) as f32).sum::<f32>() + 0.1 * o as f32).sum::<f32>() + 1.0;
        let out = model.forward(Tensor::<B, 2>::ones([1, 4], device)).expect("forward");
        let tol = d2l_device::numerics::Tolerance::absolute(1e-5).for_backend(B::KIND, 2);
        assert_eq!(tol.check(&out.into_data().to_vec::<f32>().expect("f32"), &[expected]), Ok(()));
        let dir = crate::scratch(&format!("from-rust-{}", B::KIND));
        save_state(dir.join("from_rust.safetensors"), &model).expect("save");
        let written = std::fs::read(dir.join("from_rust.safetensors")).expect("read");
        if std::env::var_os("D2L_IO_WRITE_FIXTURES").is_some() {
            std::fs::write(fixture("from_rust.safetensors"), &written).expect("write fixture");
        }
        // The committed file, which PyTorch loaded strictly, is exactly what d2l-io writes.
        assert_eq!(written, std::fs::read(fixture("from_rust.safetensors")).expect("fixture"));
    }
}

#[test]
fn the_books_tensor_and_list_files_written_by_pytorch_load() {
    // x = torch.arange(4); torch.save(x, 'x-file'); x2 = torch.load('x-file')
    let x = load_tensor(fixture("x-file")).expect("x-file");
    assert_eq!(x.dtype, burn::tensor::DType::I64);
    assert_eq!(x.iter::<i64>().collect::<Vec<_>>(), [0, 1, 2, 3]);
    // y = torch.zeros(4); torch.save([x, y], 'x-files'); x2, y2 = torch.load('x-files')
    for file in ["x-files", "list.pt"] {
        let list = load_list(fixture(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(list.len(), 2, "{file}");
        assert_eq!(list[0].iter::<i64>().collect::<Vec<_>>(), [0, 1, 2, 3]);
        assert_eq!(list[1].iter::<f32>().collect::<Vec<_>>(), [0.0; 4]);
    }
    // A tuple holding a dict: keys by position, then by name.
    let nested = load_tensors(fixture("tuple.pt")).expect("tuple.pt");
    assert_eq!(nested.keys().collect::<Vec<_>>(), ["0", "1.w"]);
    // One tensor is not a list of two, and a list is not one tensor.
    let err = load_tensor(fixture("x-files")).expect_err("two tensors");
    assert!(matches!(err, IoError::Layout { .. }), "{err}");
}

#[test]
fn pytorch_files_that_are_not_tensors_are_typed_errors_that_say_what_they_hold() {
    let err = load_tensors(fixture("module.pt")).expect_err("a pickled module");
    let text = err.to_string();
    assert!(text.contains("module.pt"), "{text}");
    assert!(text.contains("state_dict()"), "{text}");
    let err = load_tensors(fixture("truncated.pt")).expect_err("half an archive");
    let text = err.to_string();
    assert!(
        text.contains("truncated.pt") && text.contains("truncated or corrupted"),
        "{text}"
    );
    assert!(
        matches!(
            err,
            IoError::Format {
                format: "PyTorch",
                ..
            }
        ),
        "{text}"
    );
}
