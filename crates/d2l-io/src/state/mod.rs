//! Model parameters in files: PyTorch's `state_dict` / `load_state_dict` (D2L §5.5.2).

mod load;
mod snapshot;
mod source;

use std::collections::HashMap;
use std::path::Path;

use burn::module::Module;
use burn::tensor::TensorData;
use burn::tensor::backend::Backend;
use d2l_blocks::path::Visitable;
use d2l_params::Parameters;

pub(crate) use load::load_from;
pub(crate) use snapshot::snapshot;

use crate::file::writer::{Cores, write};
use crate::file::{Opened, open};
use crate::{IoError, LoadReport, TensorMap};

/// Every parameter position of `module` by its PyTorch key, in PyTorch's orientation (a
/// `Linear` weight `[out, in]`): what `torch.save(net.state_dict(), …)` writes. A tied
/// parameter appears under each of its keys.
pub fn state_tensors<B: Backend, T: Visitable<B> + ?Sized>(
    module: &T,
) -> Vec<(String, TensorData)> {
    module
        .state_dict()
        .iter()
        .map(|p| (p.key().to_owned(), p.data()))
        .collect()
}

/// Saves `module`'s parameters as safetensors with PyTorch's keys and orientation, atomically
/// — the file opens in PyTorch with `safetensors.torch.load_file` and loads with
/// `load_state_dict(strict=True)` into the PyTorch twin.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::LinearConfig;
/// use d2l_blocks::Sequential;
/// use d2l_params::Parameters;
///
/// let device = Default::default();
/// let path = std::env::temp_dir().join(format!("d2l-io-doc-{}.safetensors", std::process::id()));
/// let net = Sequential::<NdArray>::new().add(LinearConfig::new(4, 2).init(&device));
/// d2l_io::save_state(&path, &net).unwrap();
/// let mut clone = Sequential::<NdArray>::new().add(LinearConfig::new(4, 2).init(&device));
/// let report = d2l_io::load_state(&path, &mut clone, true).unwrap();
/// assert_eq!(report.loaded, ["0.weight", "0.bias"]);
/// assert_eq!(clone.param("0.weight").unwrap().data(), net.param("0.weight").unwrap().data());
/// # std::fs::remove_file(&path).unwrap();
/// ```
///
/// # Errors
/// As [`save_tensors`](crate::save_tensors).
pub fn save_state<B: Backend, T: Visitable<B> + ?Sized>(
    path: impl AsRef<Path>,
    module: &T,
) -> Result<(), IoError> {
    write(path.as_ref(), snapshot(module), HashMap::new(), Cores::All)
}

/// Loads parameters from a safetensors or PyTorch state-dict file into `module` by PyTorch
/// key — `clone.load_state_dict(torch.load('mlp.params'), strict=strict)`.
///
/// Loading is transactional: every value is read and checked first, and `module` changes
/// only if the whole load succeeds. With `strict`, any missing or unexpected key fails the
/// load; without it they are reported and skipped. A shape or dtype that does not fit and a
/// tied parameter given two different values fail either way (as PyTorch refuses size
/// mismatches even when not strict). Float values of another precision (f64, f16, bf16) are
/// converted, as PyTorch's `copy_` does. A tied parameter is written once and stays tied.
///
/// The lazy layers that have not seen an input yet — anywhere in the model: a `Sequential`, a
/// `#[derive(Module)]` struct, or both ([`materialize`](d2l_blocks::materialize)) — take their
/// shapes from the file, on the device of the model's other parameters (the default device if
/// it has none) — only if the file fits: a refused file leaves a lazy model lazy.
///
/// # Errors
/// [`IoError::Load`] with the full [`LoadReport`] (the model is unchanged), and whatever
/// [`load_tensors`](crate::load_tensors) returns for an unreadable or invalid file.
pub fn load_state<B: Backend, M: Module<B> + 'static>(
    path: impl AsRef<Path>,
    module: &mut M,
    strict: bool,
) -> Result<LoadReport, IoError> {
    let path = path.as_ref();
    match open(path)? {
        // Straight from the file: each value is read once, into the buffer that becomes the
        // parameter.
        Opened::Safetensors(file) => load::load_from(path, &file, module, strict),
        Opened::Pytorch(file) => {
            let tensors = crate::file::pytorch::read(path, file)?;
            load::load_from(path, &tensors, module, strict)
        }
    }
}

/// The tensors whose keys lie under `from` (`"0"` takes `0.weight` and `0.bias`; `""` takes
/// all), with `from` replaced by `to` — to load part of a trained network into another
/// architecture (D2L §5.5 exercise 2) with
/// [`load_state_dict`](d2l_params::load_state_dict) and [`Strict::No`](d2l_params::Strict),
/// whose report says what was taken.
///
/// ```
/// use burn::tensor::TensorData;
/// use d2l_io::{TensorMap, rename_prefix};
///
/// let mut file = TensorMap::new();
/// file.insert("0.weight".into(), TensorData::new(vec![1.0f32], [1, 1]));
/// file.insert("2.bias".into(), TensorData::new(vec![2.0f32], [1]));
/// let taken = rename_prefix(&file, "0", "body.0");
/// assert_eq!(taken.keys().collect::<Vec<_>>(), ["body.0.weight"]);
/// ```
pub fn rename_prefix(tensors: &TensorMap, from: &str, to: &str) -> TensorMap {
    use d2l_blocks::path::{SEPARATOR, join};
    tensors
        .iter()
        .filter_map(|(key, value)| {
            let rest = if from.is_empty() {
                key.as_str()
            } else if key == from {
                ""
            } else {
                key.strip_prefix(from)?.strip_prefix(SEPARATOR)?
            };
            Some((join(to, rest), value.clone()))
        })
        .collect()
}
