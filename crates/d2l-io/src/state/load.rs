//! The load: check every key, read the values, then install them all — or change nothing.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use burn::module::{Module, ParamId};
use burn::tensor::TensorData;
use burn::tensor::backend::Backend;
use d2l_blocks::materialize::materialize;
use d2l_blocks::tensor;
use d2l_params::{Parameters, StateDict, closest, replace_params};

use super::source::{Source, read_values};
use crate::file::dtype::is_float;
use crate::{IoError, LoadReport, Mismatch};

/// The plan of a load: for each parameter, `(first key, key its value comes from, transposed)`.
type Plan<'a> = Vec<(&'a str, &'a str, bool)>;

/// Loads `tensors` into `module` (see [`load_state`](crate::load_state)); `source` names the
/// file in errors.
pub(crate) fn load_from<B: Backend, M: Module<B> + 'static>(
    source: &Path,
    tensors: &dyn Source,
    module: &mut M,
    strict: bool,
) -> Result<LoadReport, IoError> {
    let mut views = module.state_dict();
    // Lazy layers, wherever they sit, take their shapes from the file, on the model's device —
    // but only once the file is known to fit: checked on a copy first, so a refused file
    // leaves a lazy model lazy.
    let device = module.devices().into_iter().next().unwrap_or_default();
    let shapes = lazy_shapes(tensors);
    let probe = materialize(module.clone(), &shapes, &device);
    let probe_views = probe.state_dict();
    if probe_views.len() != views.len() {
        check(source, &probe_views, tensors, strict)?;
        drop(views);
        drop(probe_views);
        // In place, so that ties (`Shared`) the caller holds stay tied to the model.
        let owned = std::mem::replace(module, probe);
        *module = materialize(owned, &shapes, &device);
        views = module.state_dict();
    }
    let (report, plan) = check(source, &views, tensors, strict)?;
    // Every value read before anything changes: a read error leaves the model as it was.
    let scalars: HashSet<&str> = views
        .iter()
        .filter(|v| v.is_torch_scalar())
        .map(|v| v.key())
        .collect();
    let mut values = read_values(tensors, plan)?;
    for (key, data) in values.iter_mut() {
        if scalars.contains(key.as_str()) {
            // Held as a float `[1]` (see `d2l_blocks::path::is_torch_scalar`).
            let count = data
                .clone()
                .convert::<f32>()
                .to_vec::<f32>()
                .unwrap_or_default();
            *data = TensorData::new(count, [1]);
        }
    }
    drop(scalars);
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

/// The file's shapes as lazy layers expect them: keys as in the file, a rank-2 `weight` turned
/// from PyTorch's `[out, in]` into Burn's `[in, out]`.
fn lazy_shapes(tensors: &dyn Source) -> Vec<(String, Vec<usize>)> {
    tensors
        .keys()
        .into_iter()
        .filter_map(|key| {
            let mut shape = tensors.meta(key)?.1.to_vec();
            if shape.len() == 2 && key.rsplit(d2l_blocks::path::SEPARATOR).next() == Some("weight")
            {
                shape.reverse();
            }
            Some((key.to_owned(), shape))
        })
        .collect()
}

/// Checks every key of `views` against `tensors`: the report, and what to read — or the
/// [`IoError::Load`] that refuses the file.
fn check<'a, B: Backend>(
    source: &Path,
    views: &'a StateDict<B>,
    tensors: &'a dyn Source,
    strict: bool,
) -> Result<(LoadReport, Plan<'a>), IoError> {
    let mut report = LoadReport::default();
    // The first key of each parameter (what `replace_params` offers it under), and the key
    // its value comes from.
    let mut first_key: HashMap<ParamId, &str> = HashMap::new();
    let mut chosen: HashMap<ParamId, &str> = HashMap::new();
    let mut plan = Vec::new();
    for view in views.iter() {
        let key = view.key();
        first_key.entry(view.id()).or_insert(key);
        let Some((dtype, file_shape)) = tensors.meta(key) else {
            report.missing.push(key.to_owned());
            continue;
        };
        let shape = view.shape();
        // PyTorch's int64 scalar buffers (`num_batches_tracked`) are counts: any number type,
        // as a scalar or a one-element vector.
        let fits = if view.is_torch_scalar() {
            file_shape.iter().product::<usize>() == 1 && file_shape.len() <= 1
        } else {
            is_float(dtype) && file_shape == shape.as_slice()
        };
        if !fits {
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
    Ok((report, plan))
}
