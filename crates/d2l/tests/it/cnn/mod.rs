//! The CNN blocks against PyTorch (fixtures made by `tests/fixtures/cnn/make_fixtures.py`):
//! every block's printout, keys, train and eval outputs and buffers; LeNet and the book's
//! ResNet (printouts, keys, outputs, gradients, SGD steps with running statistics);
//! torchvision's resnet18 loaded strictly both ways; bad input; modes and hooks.

mod blocks;
mod errors;
mod hooks;
mod models;
mod modes;
mod nonfinite;
mod resnet18;
mod save_model;

use std::path::PathBuf;

use burn::tensor::TensorData;
use d2l_device::numerics::Tolerance;
use d2l_io::TensorMap;

/// The fixture folder.
fn fixtures() -> PathBuf {
    crate::manifest_dir().join("tests/fixtures/cnn")
}

/// A fixture's tensors.
fn tensors(name: &str) -> TensorMap {
    d2l_io::load_tensors(fixtures().join(format!("{name}.safetensors"))).expect("fixture tensors")
}

/// A fixture's JSON side.
fn meta(name: &str) -> serde_json::Value {
    let text =
        std::fs::read_to_string(fixtures().join(format!("{name}.json"))).expect("fixture json");
    serde_json::from_str(&text).expect("json")
}

/// The tensors under `prefix`, with `prefix` replaced by `to`.
fn under(map: &TensorMap, prefix: &str, to: &str) -> TensorMap {
    map.iter()
        .filter_map(|(k, v)| Some((format!("{to}{}", k.strip_prefix(prefix)?), v.clone())))
        .collect()
}

/// A JSON array of strings.
fn strings(value: &serde_json::Value) -> Vec<String> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_str().expect("string").to_owned())
        .collect()
}

/// The tolerance of a comparison with PyTorch: `tol` (absolute and relative, as written for
/// f32 kernels) on `B`, for values that went through `depth` matmuls or convolutions — widened
/// by d2l-device's policy where `B` rounds them to TF32 (CUDA).
fn tolerance<B: d2l_device::DeviceBackend>(tol: f64, depth: usize) -> Tolerance {
    Tolerance::new(tol, tol).for_backend(B::KIND, depth)
}

/// Asserts equal shapes and values within `tol`, naming `what`.
#[track_caller]
fn assert_close(actual: &TensorData, expected: &TensorData, tol: Tolerance, what: &str) {
    if let Err(err) = tol.check_data(actual, expected) {
        panic!("{what}: differs from PyTorch: {err}");
    }
}
