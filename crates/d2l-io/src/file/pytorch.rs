//! Reading `torch.save` files: a dict of tensors (a state dict), a list or tuple of tensors,
//! or one tensor (D2L §5.5.1's `x-file` and `x-files`), through burn-store's pickle reader.
//!
//! A PyTorch file is a zip archive (PyTorch ≥ 1.6: the pickle in `<name>/data.pkl`, each
//! storage in `<name>/data/<k>`) or a legacy pickle stream. Keys: a dict's keys joined with
//! `.` when nested (as burn-store joins them); a list's items `0`, `1`, …; a lone tensor `0`
//! (the layout [`save_tensor`](crate::save_tensor) and [`save_list`](crate::save_list) write).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;

use burn::tensor::TensorData;
use burn_store::TensorSnapshot;
use burn_store::pytorch::PytorchReader;
use burn_store::pytorch::lazy_data::LazyDataSource;
use burn_store::pytorch::pickle_reader::{Object, read_pickle_with_data};

use crate::IoError;

const FORMAT: &str = "PyTorch";

/// Every tensor of the PyTorch file `file` (open at `path`), by key.
///
/// burn-store's readers return errors for the bad files we know of; a panic on one we do not
/// know is still turned into an error here rather than reaching the caller.
pub(crate) fn read(path: &Path, file: File) -> Result<BTreeMap<String, TensorData>, IoError> {
    let format_error = |reason: String| IoError::Format {
        path: path.to_owned(),
        format: FORMAT,
        reason,
    };
    let snapshots = std::panic::catch_unwind(AssertUnwindSafe(|| snapshots(path, file)))
        .unwrap_or_else(|_| Err("the reader failed on this input".to_owned()))
        .map_err(format_error)?;
    snapshots
        .into_iter()
        .map(|(key, snapshot)| {
            let data = std::panic::catch_unwind(AssertUnwindSafe(|| data_of(&snapshot)))
                .unwrap_or_else(|_| Err("its data could not be read".to_owned()))
                .map_err(|reason| IoError::Tensor {
                    path: path.to_owned(),
                    key: key.clone(),
                    reason,
                })?;
            Ok((key, data))
        })
        .collect()
}

/// The tensors of the file, by key, not yet read.
fn snapshots(path: &Path, mut file: File) -> Result<BTreeMap<String, TensorSnapshot>, String> {
    let mut magic = [0u8; 4];
    let is_zip = file.read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04";
    if !is_zip {
        // A legacy (PyTorch < 1.6) pickle stream: burn-store reads dicts of tensors.
        let reader = PytorchReader::new(path).map_err(|e| e.to_string())?;
        return Ok(reader.into_tensors().into_iter().collect());
    }
    let mut archive = zip::ZipArchive::new(file).map_err(|e| {
        format!(
            "a zip archive (as torch.save writes) that cannot be opened — truncated or \
             corrupted: {e}"
        )
    })?;
    let name = archive
        .file_names()
        .find(|n| *n == "data.pkl" || n.ends_with("/data.pkl"))
        .map(str::to_owned)
        .ok_or("a zip archive without `data.pkl`: not written by torch.save")?;
    let mut pickle = Vec::new();
    archive
        .by_name(&name)
        .and_then(|mut entry| entry.read_to_end(&mut pickle).map_err(Into::into))
        .map_err(|e| format!("`{name}`: {e}"))?;
    let source = LazyDataSource::from_zip(path).map_err(|e| e.to_string())?;
    let root = read_pickle_with_data(&mut pickle.as_slice(), Arc::new(source)).map_err(|e| {
        format!(
            "`{name}`: {e} (tensors, lists, tuples and dicts of tensors load; for a pickled \
             nn.Module, save its state_dict() instead)"
        )
    })?;
    let mut tensors = BTreeMap::new();
    let found = collect(&root, String::new(), &mut tensors);
    match found {
        Kind::Dict | Kind::List => Ok(tensors),
        Kind::Tensor => Ok(BTreeMap::from([(
            "0".to_owned(),
            tensors
                .remove("")
                .ok_or("a tensor that could not be read")?,
        )])),
        Kind::Other => Err(format!(
            "the file holds {} — not a tensor, a list of tensors or a dict of tensors (a \
             pickled nn.Module? save its state_dict() instead)",
            describe(&root)
        )),
    }
}

/// What a pickled object is, to the loader.
enum Kind {
    Tensor,
    List,
    Dict,
    Other,
}

/// Gathers the tensors of `object` (at key `at`) into `tensors`: a dict's values under
/// `at.key`, a list's or tuple's under `at.i`, recursively; anything else is skipped.
fn collect(object: &Object, at: String, tensors: &mut BTreeMap<String, TensorSnapshot>) -> Kind {
    let under = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    match object {
        Object::TorchParam(snapshot) => {
            tensors.insert(at, snapshot.clone());
            Kind::Tensor
        }
        Object::Dict(dict) => {
            for (key, value) in dict {
                collect(value, under(key), tensors);
            }
            Kind::Dict
        }
        Object::List(items) | Object::Tuple(items) => {
            for (i, value) in items.iter().enumerate() {
                collect(value, under(&i.to_string()), tensors);
            }
            Kind::List
        }
        _ => Kind::Other,
    }
}

/// A short description of a pickled object that is not tensors.
fn describe(object: &Object) -> String {
    match object {
        Object::Reduce { callable, .. } | Object::Build { callable, .. } => match &**callable {
            Object::Class { module_name, name } => format!("an object of `{module_name}.{name}`"),
            other => describe(other),
        },
        Object::Class { module_name, name } => format!("the class `{module_name}.{name}`"),
        Object::Int(_) | Object::Float(_) | Object::Bool(_) => "a number".into(),
        Object::String(_) => "a string".into(),
        Object::None => "None".into(),
        _ => "an object".into(),
    }
}

/// A snapshot's data, checked against its declared shape and dtype.
fn data_of(snapshot: &TensorSnapshot) -> Result<TensorData, String> {
    let data = snapshot.to_data().map_err(|e| e.to_string())?;
    let expected = data
        .shape
        .num_elements()
        .checked_mul(data.dtype.size())
        .ok_or("size overflows")?;
    if data.as_bytes().len() != expected {
        return Err(format!(
            "{} bytes for shape {:?} of {:?}",
            data.as_bytes().len(),
            data.shape.to_vec(),
            data.dtype
        ));
    }
    Ok(data)
}
