//! Model parameters in files: PyTorch's `state_dict` / `load_state_dict` (D2L §5.5.2).

use std::collections::{HashMap, HashSet};
use std::path::Path;

use burn::module::{Module, ParamId};
use burn::tensor::backend::Backend;
use burn::tensor::{DType, TensorData};
use d2l_blocks::path::Visitable;
use d2l_blocks::tensor;
use d2l_params::{Parameters, StateDict, closest, replace_params};

use crate::file::{Chunk, Pending, SafetensorsFile};
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
    let views = module.state_dict();
    file::write_with_metadata(
        path.as_ref(),
        pending(&views),
        HashMap::new(),
        file::Cores::All,
    )
}

/// `view`'s value on the host, and whether it still needs transposing to PyTorch's orientation:
/// a Linear weight is copied in Burn's orientation (the writer transposes it as it writes),
/// anything else as [`ParamView::data`](d2l_params::ParamView::data) gives it.
fn host_copy<B: Backend>(view: &d2l_params::ParamView<B>) -> (TensorData, bool) {
    match view.tensor::<2>() {
        Ok(weight) if view.is_transposed() => (tensor::to_data(&weight.into_primitive()), true),
        _ => (view.data(), false),
    }
}

/// `chunk`, the bytes of a value of Burn's `shape`, transposed by the writer if `transposed`
/// (a rank-2 value).
fn oriented<'a>(chunk: Chunk<'a>, shape: &[usize], transposed: bool, dtype: DType) -> Chunk<'a> {
    match (transposed, shape) {
        (true, &[rows, cols]) => chunk.transposed(rows, cols, dtype.size()),
        _ => chunk,
    }
}

/// A parameter position kept for a later write, in Burn's orientation.
pub(crate) struct Snapshot {
    key: String,
    /// The shape in PyTorch's orientation.
    shape: Vec<usize>,
    /// The shape of `values` (Burn's orientation).
    stored: Vec<usize>,
    dtype: DType,
    values: Kept,
    transposed: bool,
}

/// A snapshot's values: the parameter's own tensor where its backend keeps it on the host (a
/// handle, no copy: Burn's tensors are values, and a backend writes in place only into a
/// buffer nothing else holds, so training goes on beside it), else a copy read back to the
/// host.
enum Kept {
    InPlace(Box<dyn HostTensor>),
    Copied(TensorData),
}

/// A tensor whose bytes are on the host ([`tensor::host_bytes`]).
trait HostTensor: Send + Sync {
    /// Its bytes (none if the backend stopped keeping them on the host, which the write then
    /// reports as a size mismatch).
    fn bytes(&self) -> &[u8];
}

impl<B: Backend> HostTensor for burn::tensor::TensorPrimitive<B> {
    fn bytes(&self) -> &[u8] {
        tensor::host_bytes(self).unwrap_or_default()
    }
}

impl Kept {
    fn bytes(&self) -> &[u8] {
        match self {
            Kept::InPlace(tensor) => tensor.bytes(),
            Kept::Copied(data) => data.as_bytes(),
        }
    }
}

/// Every parameter position of `module`, kept for a write: the part of a save that must happen
/// before training continues (no copy on flex and ndarray; a copy to the host elsewhere). The
/// transposes are left to the writer.
pub(crate) fn snapshot<B: Backend, T: Visitable<B> + ?Sized>(module: &T) -> Vec<Snapshot> {
    module
        .state_dict()
        .iter()
        .map(|view| {
            let shape = view.shape();
            let (values, stored, transposed, dtype) = if view.host_bytes().is_some() {
                let transposed = view.is_transposed();
                let mut stored = shape.clone();
                if transposed {
                    stored.reverse();
                }
                let value = Box::new(view.primitive().clone());
                (Kept::InPlace(value), stored, transposed, view.dtype())
            } else {
                let (data, transposed) = host_copy(view);
                let (stored, dtype) = (data.shape.to_vec(), data.dtype);
                (Kept::Copied(data), stored, transposed, dtype)
            };
            Snapshot {
                key: view.key().to_owned(),
                shape,
                stored,
                dtype,
                values,
                transposed,
            }
        })
        .collect()
}

/// [`snapshot`]s as tensors to write.
pub(crate) fn pending_snapshots(snapshots: &[Snapshot]) -> Vec<Pending<'_>> {
    snapshots
        .iter()
        .map(|s| Pending {
            key: s.key.clone(),
            dtype: s.dtype,
            shape: s.shape.clone(),
            bytes: Box::new(move || {
                oriented(
                    Chunk::borrowed(s.values.bytes()),
                    &s.stored,
                    s.transposed,
                    s.dtype,
                )
            }),
        })
        .collect()
}

/// Every parameter position of `views` as a tensor to write: read in place where the backend
/// keeps it on the host (flex, ndarray), else read back to the host only when the writer
/// reaches it, so a save holds at most a few parameters' bytes besides the model's.
pub(crate) fn pending<B: Backend>(views: &StateDict<B>) -> Vec<Pending<'_>> {
    views
        .iter()
        .map(|view| Pending {
            key: view.key().to_owned(),
            dtype: view.dtype(),
            shape: view.shape(),
            bytes: Box::new(move || {
                let transposed = view.is_transposed();
                if let Some(bytes) = view.host_bytes() {
                    // In Burn's orientation: PyTorch's `[out, in]` reversed.
                    let mut shape = view.shape();
                    if transposed {
                        shape.reverse();
                    }
                    return oriented(Chunk::borrowed(bytes), &shape, transposed, view.dtype());
                }
                let (data, transposed) = host_copy(view);
                let (shape, dtype) = (data.shape.clone(), data.dtype);
                oriented(Chunk::owned(data), &shape, transposed, dtype)
            }),
        })
        .collect()
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
    if file::is_pytorch_file(path)? {
        let tensors = file::read(path)?;
        apply_state(path, &tensors, module, strict)
    } else {
        // Straight from the file: each value is read once, into the buffer that becomes the
        // parameter.
        load_from(path, &SafetensorsFile::open(path)?, module, strict)
    }
}

/// Where a load's values come from: tensors in memory, or a safetensors file read tensor by
/// tensor.
trait Source: Sync {
    /// The dtype and shape of `key`.
    fn meta(&self, key: &str) -> Option<(DType, &[usize])>;
    /// Every key.
    fn keys(&self) -> Vec<&str>;
    /// Whether `a` and `b` hold the same dtype, shape and values.
    fn same(&self, a: &str, b: &str) -> Result<bool, IoError>;
    /// The value of `key` (present), transposed from PyTorch's orientation to Burn's if
    /// `transposed` (on the host, into Burn's contiguous layout: the loaded model computes bit
    /// for bit what the saved one did). `scratch` is a buffer to reuse between calls.
    fn value(
        &self,
        key: &str,
        transposed: bool,
        scratch: &mut Vec<u8>,
    ) -> Result<TensorData, IoError>;
}

impl Source for TensorMap {
    fn meta(&self, key: &str) -> Option<(DType, &[usize])> {
        self.get(key).map(|d| (d.dtype, d.shape.as_slice()))
    }
    fn keys(&self) -> Vec<&str> {
        self.keys().map(String::as_str).collect()
    }
    fn same(&self, a: &str, b: &str) -> Result<bool, IoError> {
        Ok(self.get(a) == self.get(b))
    }
    fn value(&self, key: &str, transposed: bool, _: &mut Vec<u8>) -> Result<TensorData, IoError> {
        let data = &self[key];
        Ok(if transposed {
            tensor::transpose_data(data)
        } else {
            data.clone()
        })
    }
}

impl Source for SafetensorsFile {
    fn meta(&self, key: &str) -> Option<(DType, &[usize])> {
        self.tensors.get(key).map(|t| (t.dtype, t.shape.as_slice()))
    }
    fn keys(&self) -> Vec<&str> {
        self.tensors.keys().map(String::as_str).collect()
    }
    fn same(&self, a: &str, b: &str) -> Result<bool, IoError> {
        let (Some(x), Some(y)) = (self.tensors.get(a), self.tensors.get(b)) else {
            return Ok(false);
        };
        Ok(x.dtype == y.dtype && x.shape == y.shape && self.data(x)? == self.data(y)?)
    }
    fn value(
        &self,
        key: &str,
        transposed: bool,
        scratch: &mut Vec<u8>,
    ) -> Result<TensorData, IoError> {
        let stored = &self.tensors[key];
        let (true, &[rows, cols]) = (transposed, stored.shape.as_slice()) else {
            return self.data(stored);
        };
        // Read in bands of about 1 MB and transpose each while it is in cache.
        let size = stored.dtype.size();
        let row_bytes = cols * size;
        let band = ((1 << 20) / row_bytes.max(1)).clamp(1, rows.max(1));
        let mut out = tensor::zeroed_bytes(SafetensorsFile::len(stored), stored.dtype);
        for start in (0..rows).step_by(band) {
            let end = (start + band).min(rows);
            scratch.resize((end - start) * row_bytes, 0);
            self.read_range(stored, start * row_bytes, scratch)?;
            tensor::transpose_rows(scratch, start..end, rows, cols, size, &mut out);
        }
        Ok(TensorData::from_bytes(out, [cols, rows], stored.dtype))
    }
}

/// Lets the lazy layers of a `Sequential` create their parameters from the file's shapes
/// (PyTorch's `[out, in]` turned into the Burn `[in, out]` a lazy `Linear` expects), so a fresh
/// lazy network loads like an eager one.
fn materialize<B: Backend, M: Module<B> + 'static>(source: &dyn Source, module: &M) {
    let Some(net) = (module as &dyn std::any::Any).downcast_ref::<d2l_blocks::Sequential<B>>()
    else {
        return;
    };
    let shapes: Vec<(String, Vec<usize>)> = source
        .keys()
        .into_iter()
        .filter_map(|key| {
            let mut shape = source.meta(key)?.1.to_vec();
            if shape.len() == 2 && key.rsplit(d2l_blocks::path::SEPARATOR).next() == Some("weight")
            {
                shape.reverse();
            }
            Some((key.to_owned(), shape))
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
    load_from(source, tensors, module, strict)
}

/// The values of `plan` (`(first key, key in the file, transposed)`) by first key, read on two
/// threads (copying and transposing into fresh memory is what a load spends its time on),
/// each taking the largest value left.
fn read_values(
    tensors: &dyn Source,
    mut plan: Vec<(&str, &str, bool)>,
) -> Result<HashMap<String, TensorData>, IoError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const THREADS: usize = 2;
    let elements = |key: &str| {
        tensors
            .meta(key)
            .map_or(0, |(_, shape)| shape.iter().product())
    };
    plan.sort_by_key(|&(_, key, _)| std::cmp::Reverse(elements(key)));
    let next = AtomicUsize::new(0);
    let (plan, next) = (&plan, &next);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(move || {
                    let mut scratch = Vec::new();
                    let mut values = Vec::new();
                    while let Some(&(first, key, transposed)) =
                        plan.get(next.fetch_add(1, Ordering::Relaxed))
                    {
                        values.push((
                            first.to_owned(),
                            tensors.value(key, transposed, &mut scratch)?,
                        ));
                    }
                    Ok::<_, IoError>(values)
                })
            })
            .collect();
        let mut values = HashMap::new();
        for handle in handles {
            let lane = handle.join().map_err(|_| IoError::Io {
                path: Default::default(),
                source: std::io::Error::other("a reader thread panicked"),
            })??;
            values.extend(lane);
        }
        Ok(values)
    })
}

/// The load: check every key against `tensors`, read the values, then install them all.
fn load_from<B: Backend, M: Module<B> + 'static>(
    source: &Path,
    tensors: &dyn Source,
    module: &mut M,
    strict: bool,
) -> Result<LoadReport, IoError> {
    materialize(tensors, module);
    let views = module.state_dict();
    let mut report = LoadReport::default();
    // The first key of each parameter (what `replace_params` offers it under), the key its
    // value comes from, and whether it is transposed.
    let mut first_key: HashMap<ParamId, &str> = HashMap::new();
    let mut chosen: HashMap<ParamId, &str> = HashMap::new();
    let mut plan: Vec<(&str, &str, bool)> = Vec::new();
    for view in views.iter() {
        let key = view.key();
        first_key.entry(view.id()).or_insert(key);
        let Some((dtype, file_shape)) = tensors.meta(key) else {
            report.missing.push(key.to_owned());
            continue;
        };
        let shape = view.shape();
        if !is_float(dtype) || file_shape != shape.as_slice() {
            report.mismatched.push(Mismatch {
                key: key.to_owned(),
                expected: format!("shape {shape:?} (float)"),
                actual: format!("shape {file_shape:?} ({dtype:?})"),
            });
            continue;
        }
        match chosen.get(&view.id()) {
            Some(other) if !tensors.same(other, key)? => {
                report.untied.push(((*other).to_owned(), key.to_owned()))
            }
            Some(_) => {}
            None => {
                chosen.insert(view.id(), key);
                let first = first_key.get(&view.id()).copied().unwrap_or(key);
                plan.push((first, key, view.is_transposed()));
            }
        }
        report.loaded.push(key.to_owned());
    }
    let model_keys: HashSet<&str> = views.iter().map(|v| v.key()).collect();
    for key in tensors.keys() {
        if !model_keys.contains(key) {
            let near = closest(key, model_keys.iter().copied()).into_iter().next();
            report.unexpected.push((key.to_owned(), near));
        }
    }
    report.unexpected.sort();
    if !report.is_consistent() || (strict && !report.is_clean()) {
        report.loaded.clear();
        return Err(IoError::Load {
            path: source.to_owned(),
            report,
        });
    }
    // Every value read before anything changes: a read error leaves the model as it was.
    let mut values = read_values(tensors, plan)?;
    // The views hold the old parameters too; only the module should.
    drop(views);
    replace_params(module, |info, value| {
        Ok(values
            .remove(&info.key)
            .map(|data| tensor::from_data::<B>(data, &tensor::device(&value))))
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
