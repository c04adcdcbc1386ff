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

use std::path::{Path, PathBuf};

use burn::tensor::TensorData;
use d2l_io::TensorMap;

/// The fixture folder.
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cnn")
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

/// Asserts equal shapes and values within `tol` (absolute + relative), naming `what`.
#[track_caller]
fn assert_close(actual: &TensorData, expected: &TensorData, tol: f32, what: &str) {
    assert_eq!(actual.shape, expected.shape, "{what}: shape");
    let a = actual
        .clone()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("f32");
    let e = expected
        .clone()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("f32");
    let worst = a
        .iter()
        .zip(&e)
        .map(|(a, e)| (a - e).abs() / (1.0 + e.abs()))
        .fold(0.0f32, f32::max);
    assert!(
        worst <= tol,
        "{what}: differs from PyTorch by {worst} (tolerance {tol})"
    );
}
