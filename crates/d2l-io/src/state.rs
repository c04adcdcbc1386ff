//! Model parameters in files: PyTorch's `state_dict` / `load_state_dict` (D2L §5.5.2).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use burn::module::{Module, ParamId};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, TensorData};
use d2l_blocks::path::Visitable;
use d2l_blocks::tensor;
use d2l_params::{Parameters, closest, replace_params};

use crate::{IoError, LoadReport, Mismatch, TensorMap, file};

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
    file::write(path.as_ref(), &state_tensors(module))
}

/// Loads parameters from a safetensors or PyTorch state-dict file into `module` by PyTorch
/// key — `clone.load_state_dict(torch.load('mlp.params'), strict=strict)`.
///
/// Loading is transactional: every value is read and checked first, and `module` changes
/// only if the whole load succeeds. With `strict`, any missing or unexpected key fails the
/// load; without it they are reported and skipped. A shape or dtype that does not fit and a
/// tied parameter given two different values fail either way (as PyTorch refuses size
/// mismatches even when not strict). Float values of another precision (f64, f16, bf16) are
/// converted, as PyTorch's `copy_` does. A tied parameter is written once and stays tied. The
/// lazy layers of a `Sequential` that have not seen an input yet materialize from the file's
/// shapes first.
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
    let tensors = file::read(path)?;
    apply_state(path, &tensors, module, strict)
}

/// Lets the lazy layers of a `Sequential` create their parameters from the file's shapes
/// (PyTorch's `[out, in]` turned into the Burn `[in, out]` a lazy `Linear` expects), so a fresh
/// lazy network loads like an eager one.
fn materialize<B: Backend, M: Module<B> + 'static>(tensors: &TensorMap, module: &M) {
    let Some(net) = (module as &dyn std::any::Any).downcast_ref::<d2l_blocks::Sequential<B>>()
    else {
        return;
    };
    let shapes: Vec<(String, Vec<usize>)> = tensors
        .iter()
        .map(|(key, data)| {
            let mut shape = data.shape.to_vec();
            if shape.len() == 2 && key.rsplit(d2l_blocks::path::SEPARATOR).next() == Some("weight")
            {
                shape.reverse();
            }
            (key.clone(), shape)
        })
        .collect();
    d2l_blocks::Forward::materialize_for(net, &shapes);
}

/// Whether `dtype` is a float dtype a float parameter can take.
fn is_float(dtype: DType) -> bool {
    matches!(
        dtype,
        DType::F64 | DType::F32 | DType::Flex32 | DType::F16 | DType::BF16
    )
}

/// [`load_state`] from tensors already read (`source` names where they came from).
///
/// # Errors
/// As [`load_state`].
pub fn apply_state<B: Backend, M: Module<B> + 'static>(
    source: &Path,
    tensors: &TensorMap,
    module: &mut M,
    strict: bool,
) -> Result<LoadReport, IoError> {
    materialize(tensors, module);
    let views = module.state_dict();
    let mut report = LoadReport::default();
    // The first key of each parameter (what `replace_params` offers it under) and its value.
    let mut first_key: HashMap<ParamId, &str> = HashMap::new();
    let mut chosen: HashMap<ParamId, (&str, &TensorData)> = HashMap::new();
    let mut plan: HashMap<String, (TensorData, bool)> = HashMap::new();
    for view in views.iter() {
        let key = view.key();
        first_key.entry(view.id()).or_insert(key);
        let Some(data) = tensors.get(key) else {
            report.missing.push(key.to_owned());
            continue;
        };
        let shape = view.shape();
        if !is_float(data.dtype) || data.shape.as_slice() != shape.as_slice() {
            report.mismatched.push(Mismatch {
                key: key.to_owned(),
                expected: format!("shape {shape:?} (float)"),
                actual: format!("shape {:?} ({:?})", data.shape.to_vec(), data.dtype),
            });
            continue;
        }
        match chosen.get(&view.id()) {
            Some((other, value)) if *value != data => {
                report.untied.push(((*other).to_owned(), key.to_owned()))
            }
            Some(_) => {}
            None => {
                chosen.insert(view.id(), (key, data));
                let first = first_key.get(&view.id()).copied().unwrap_or(key);
                plan.insert(first.to_owned(), (data.clone(), view.is_transposed()));
            }
        }
        report.loaded.push(key.to_owned());
    }
    let model_keys: HashSet<&str> = views.iter().map(|v| v.key()).collect();
    for key in tensors.keys().filter(|k| !model_keys.contains(k.as_str())) {
        let near = closest(key, model_keys.iter().copied()).into_iter().next();
        report.unexpected.push((key.clone(), near));
    }
    report.unexpected.sort();
    if !report.is_consistent() || (strict && !report.is_clean()) {
        report.loaded.clear();
        return Err(IoError::Load {
            path: source.to_owned(),
            report,
        });
    }
    replace_params(module, |info, value| {
        let Some((data, transposed)) = plan.remove(&info.key) else {
            return Ok(None);
        };
        // Transposed on the host: the parameter gets Burn's contiguous layout, as when it was
        // saved, so the loaded model computes bit for bit the same.
        let data = if transposed {
            tensor::transpose_data(&data)
        } else {
            data
        };
        Ok(Some(tensor::from_data::<B>(data, &tensor::device(&value))))
    })
    .map_err(|err| IoError::Param {
        path: source.to_owned(),
        source: err,
    })?;
    Ok(report)
}

/// The tensors whose keys lie under `from` (`"0"` takes `0.weight` and `0.bias`; `""` takes
/// all), with `from` replaced by `to` — to load part of a trained network into another
/// architecture (D2L §5.5 exercise 2) with [`apply_state`], non-strict, whose report says what
/// was taken.
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
