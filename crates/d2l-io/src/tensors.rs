//! Tensors, lists and name → tensor maps in files (D2L §5.5.1).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use burn::tensor::backend::Backend;
use burn::tensor::{BasicOps, Tensor, TensorData, TensorKind};

use crate::file::entry::Entry;
use crate::file::writer::{Cores, write};
use crate::{IoError, file};

/// Tensors by name, as a file holds them (keys sorted).
pub type TensorMap = BTreeMap<String, TensorData>;

/// Saves name → tensor pairs (PyTorch's `torch.save(mydict, 'mydict')`) as safetensors,
/// atomically. Dtype, shape and values round-trip exactly.
///
/// # Errors
/// [`IoError::Io`] if the file cannot be written, [`IoError::Tensor`] for a dtype safetensors
/// cannot store (quantized tensors).
pub fn save_tensors<K: Into<String>>(
    path: impl AsRef<Path>,
    tensors: impl IntoIterator<Item = (K, TensorData)>,
) -> Result<(), IoError> {
    let entries = tensors
        .into_iter()
        .map(|(key, data)| Entry::data(key.into(), data))
        .collect();
    write(path.as_ref(), entries, HashMap::new(), Cores::All)
}

/// Loads every tensor of a safetensors file, or of a PyTorch file (`torch.save`) holding a
/// dict of tensors (`mydict`, a state dict: keys as saved, nested dicts joined with `.`), a
/// list or tuple of tensors (keys `0`, `1`, …) or one tensor (key `0`), by name.
///
/// # Errors
/// [`IoError::Io`] for a missing or unreadable path or a directory, [`IoError::Format`] for a
/// file that is not valid safetensors or PyTorch (truncated, corrupted, not a dict of
/// tensors), [`IoError::Tensor`] for a tensor whose bytes do not match its shape.
pub fn load_tensors(path: impl AsRef<Path>) -> Result<TensorMap, IoError> {
    file::read(path.as_ref())
}

/// Saves a list of tensors (`torch.save([x, y], 'x-files')`) under keys `"0"`, `"1"`, ….
///
/// # Errors
/// As [`save_tensors`].
pub fn save_list(
    path: impl AsRef<Path>,
    tensors: impl IntoIterator<Item = TensorData>,
) -> Result<(), IoError> {
    save_tensors(
        path,
        tensors
            .into_iter()
            .enumerate()
            .map(|(i, t)| (i.to_string(), t)),
    )
}

/// Loads a list saved by [`save_list`] (keys `"0"` … `"n-1"`), or by PyTorch's
/// `torch.save([x, y], 'x-files')`, in order.
///
/// # Errors
/// As [`load_tensors`], and [`IoError::Layout`] if the keys are not `0` … `n-1`.
pub fn load_list(path: impl AsRef<Path>) -> Result<Vec<TensorData>, IoError> {
    let path = path.as_ref();
    let map = load_tensors(path)?;
    if (0..map.len()).all(|i| map.contains_key(&i.to_string())) {
        let mut map = map;
        return Ok((0..map.len())
            .filter_map(|i| map.remove(&i.to_string()))
            .collect());
    }
    Err(IoError::Layout {
        path: path.to_owned(),
        expected: "a list (keys 0, 1, …)".into(),
        found: map.into_keys().collect(),
    })
}

/// Saves one tensor (`torch.save(x, 'x-file')`): a list of one.
///
/// # Errors
/// As [`save_tensors`].
pub fn save_tensor(path: impl AsRef<Path>, tensor: TensorData) -> Result<(), IoError> {
    save_list(path, [tensor])
}

/// Loads the one tensor saved by [`save_tensor`], or by PyTorch's
/// `torch.save(x, 'x-file')`.
///
/// # Errors
/// As [`load_list`], and [`IoError::Layout`] if the file holds more than one tensor.
pub fn load_tensor(path: impl AsRef<Path>) -> Result<TensorData, IoError> {
    let path = path.as_ref();
    let mut list = load_list(path)?;
    match (list.pop(), list.is_empty()) {
        (Some(tensor), true) => Ok(tensor),
        _ => Err(IoError::Layout {
            path: path.to_owned(),
            expected: "one tensor (key 0)".into(),
            found: (0..=list.len()).map(|i| i.to_string()).collect(),
        }),
    }
}

/// Host data as a rank-`D` tensor of kind `K` on `device` — PyTorch's `map_location`. Values
/// convert to the backend's element type for `K`.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::{Int, TensorData};
///
/// let data = TensorData::new(vec![0i64, 1, 2, 3], [4]);
/// let x = d2l_io::tensor_on::<NdArray, 1, Int>(data, &Default::default(), "x").unwrap();
/// assert_eq!(x.into_data().iter::<i64>().collect::<Vec<_>>(), [0, 1, 2, 3]);
/// ```
///
/// # Errors
/// [`IoError::Tensor`] (naming `key`) if the data's rank is not `D`.
pub fn tensor_on<B: Backend, const D: usize, K: TensorKind<B> + BasicOps<B>>(
    data: TensorData,
    device: &B::Device,
    key: &str,
) -> Result<Tensor<B, D, K>, IoError> {
    if data.shape.num_dims() != D {
        return Err(IoError::Tensor {
            path: Default::default(),
            key: key.to_owned(),
            reason: format!("shape {:?} is not of rank {D}", data.shape.to_vec()),
        });
    }
    Ok(Tensor::from_data(data, device))
}
