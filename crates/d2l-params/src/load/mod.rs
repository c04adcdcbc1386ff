//! PyTorch's `load_state_dict`: check every key of a state against the model, read every
//! value, then install them all — or change nothing.

mod source;

use core::convert::Infallible;
use std::collections::{HashMap, HashSet};

use burn::module::{Module, ParamId};
use burn::tensor::TensorData;
use burn::tensor::backend::Backend;
use d2l_blocks::materialize::materialize;
use d2l_blocks::tensor;

pub use source::StateSource;

use crate::report::{LoadReport, Mismatch};
use crate::{ParamError, Parameters, StateDict, closest, replace_params};

/// Whether a load demands that the state and the model have exactly the same keys —
/// PyTorch's `strict=True` / `strict=False`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strict {
    /// Every model key in the state and nothing else (PyTorch's default).
    Yes,
    /// Missing and unexpected keys are reported and skipped.
    No,
}

impl From<bool> for Strict {
    fn from(strict: bool) -> Self {
        if strict { Strict::Yes } else { Strict::No }
    }
}

/// Why a load from a [`StateSource`] failed; the model is unchanged in every case.
#[derive(Debug)]
pub enum LoadError<E> {
    /// The state does not fit the model: every missing, unexpected, mismatched and untied key.
    Refused(LoadReport),
    /// The source could not read a value.
    Source(E),
    /// Installing the values failed (not expected after a clean report).
    Param(ParamError),
}

/// Loads `state` (a `HashMap` or `BTreeMap` of PyTorch keys and orientation, as [`Parameters::state_dict`] gives them or
/// PyTorch's `state_dict()` holds them) into `module` — `module.load_state_dict(state,
/// strict=…)`.
///
/// Loading is transactional: every value is checked first, and `module` changes only if the
/// whole load succeeds. With [`Strict::Yes`] any missing or unexpected key refuses the load;
/// with [`Strict::No`] they are reported and skipped. A shape or dtype that does not fit and a
/// tied parameter given two different values refuse it either way (PyTorch refuses size
/// mismatches even when not strict). Float values of another precision (f64, f16, bf16) are
/// converted, as PyTorch's `copy_` does. A tied parameter is written once and stays tied.
///
/// Lazy layers that have not seen an input yet — anywhere in the model: a `Sequential`, a
/// `#[derive(Module)]` struct, or both — take their shapes from the state, on the device of the
/// model's other parameters (the default device if it has none); a refused state leaves them
/// lazy.
///
/// ```
/// use std::collections::HashMap;
/// use burn::backend::NdArray;
/// use burn::nn::LinearConfig;
/// use burn::tensor::TensorData;
/// use d2l_blocks::Sequential;
/// use d2l_params::{ParamError, Parameters, Strict, load_state_dict};
///
/// let device = Default::default();
/// let mut net = Sequential::<NdArray>::new().add(LinearConfig::new(2, 1).init(&device));
/// let mut state = HashMap::new();
/// state.insert("0.weight".to_string(), TensorData::new(vec![1.0f32, 2.0], [1, 2]));
/// // Strict: `0.bias` is missing, so nothing changes.
/// let Err(ParamError::Load(report)) = load_state_dict(&mut net, &state, Strict::Yes) else {
///     panic!("a strict load without the bias is refused")
/// };
/// assert_eq!(report.missing, ["0.bias"]);
/// let report = load_state_dict(&mut net, &state, Strict::No).unwrap();
/// assert_eq!(report.loaded, ["0.weight"]);
/// assert_eq!(net.param("0.weight").unwrap().data().to_vec::<f32>().unwrap(), [1.0, 2.0]);
/// ```
///
/// # Errors
/// [`ParamError::Load`] with the full [`LoadReport`] when the state does not fit (the model is
/// unchanged).
pub fn load_state_dict<B, M, S>(
    module: &mut M,
    state: &S,
    strict: Strict,
) -> Result<LoadReport, ParamError>
where
    B: Backend,
    M: Module<B> + 'static,
    S: StateSource<Error = Infallible> + ?Sized,
{
    load_state_dict_from(module, state, strict).map_err(|err| match err {
        LoadError::Refused(report) => ParamError::Load(report),
        LoadError::Param(err) => err,
        LoadError::Source(never) => match never {},
    })
}

/// [`load_state_dict`] from any [`StateSource`] — what `d2l-io`'s file loads call, reading
/// each value from the file only once the whole state is known to fit.
///
/// # Errors
/// [`LoadError::Refused`] with the report, [`LoadError::Source`] for a value the source could
/// not read; the model is unchanged in both cases.
pub fn load_state_dict_from<B, M, S>(
    module: &mut M,
    source: &S,
    strict: Strict,
) -> Result<LoadReport, LoadError<S::Error>>
where
    B: Backend,
    M: Module<B> + 'static,
    S: StateSource + ?Sized,
{
    let mut views = module.state_dict();
    // Lazy layers, wherever they sit, take their shapes from the state, on the model's device
    // — but only once the state is known to fit: checked on a copy first, so a refused state
    // leaves a lazy model lazy.
    let device = module.devices().into_iter().next().unwrap_or_default();
    let shapes = lazy_shapes(source);
    let probe = materialize(module.clone(), &shapes, &device);
    let probe_views = probe.state_dict();
    if probe_views.len() != views.len() {
        check(&probe_views, source, strict)?;
        drop(views);
        drop(probe_views);
        // In place, so that ties (`Shared`) the caller holds stay tied to the model.
        let owned = std::mem::replace(module, probe);
        *module = materialize(owned, &shapes, &device);
        views = module.state_dict();
    }
    let (report, plan) = check(&views, source, strict)?;
    // Every value read before anything changes: a read error leaves the model as it was.
    let scalars: HashSet<&str> = views
        .iter()
        .filter(|v| v.is_torch_scalar())
        .map(|v| v.key())
        .collect();
    let mut values = source::read_values(source, plan).map_err(LoadError::Source)?;
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
    .map_err(LoadError::Param)?;
    Ok(report)
}

/// The state's shapes, keys and PyTorch orientation as the state holds them: what lazy layers
/// take (d2l-layers' `Deferred::from_shapes` reads PyTorch's orientation; each layer knows
/// its own, so no rule here guesses which weights are transposed).
fn lazy_shapes<S: StateSource + ?Sized>(source: &S) -> Vec<(String, Vec<usize>)> {
    source
        .keys()
        .into_iter()
        .filter_map(|key| Some((key.to_owned(), source.meta(key)?.1.to_vec())))
        .collect()
}

/// The plan of a load: for each parameter, `(first key, key its value comes from, transposed)`.
type Plan<'a> = Vec<(&'a str, &'a str, bool)>;

/// Checks every key of `views` against `source`: the report, and what to read — or the
/// refusal.
fn check<'a, B: Backend, S: StateSource + ?Sized>(
    views: &'a StateDict<B>,
    source: &'a S,
    strict: Strict,
) -> Result<(LoadReport, Plan<'a>), LoadError<S::Error>> {
    let mut report = LoadReport::default();
    // The first key of each parameter (what `replace_params` offers it under), and the key
    // its value comes from.
    let mut first_key: HashMap<ParamId, &str> = HashMap::new();
    let mut chosen: HashMap<ParamId, &str> = HashMap::new();
    let mut plan = Vec::new();
    for view in views.iter() {
        let key = view.key();
        first_key.entry(view.id()).or_insert(key);
        let Some((dtype, state_shape)) = source.meta(key) else {
            report.missing.push(key.to_owned());
            continue;
        };
        let shape = view.shape();
        // PyTorch's int64 scalar buffers (`num_batches_tracked`) are counts: any number type,
        // as a scalar or a one-element vector.
        let fits = if view.is_torch_scalar() {
            state_shape.iter().product::<usize>() == 1 && state_shape.len() <= 1
        } else {
            dtype.is_float() && state_shape == shape.as_slice()
        };
        if !fits {
            report.mismatched.push(Mismatch {
                key: key.to_owned(),
                expected: format!("shape {shape:?} (float)"),
                actual: format!("shape {state_shape:?} ({dtype:?})"),
            });
            continue;
        }
        match chosen.get(&view.id()) {
            Some(other) if !source.same(other, key).map_err(LoadError::Source)? => {
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
    for key in source.keys() {
        if !model_keys.contains(key) {
            let near = closest(key, model_keys.iter().copied()).into_iter().next();
            report.unexpected.push((key.to_owned(), near));
        }
    }
    report.unexpected.sort();
    if !report.is_consistent() || (strict == Strict::Yes && !report.is_clean()) {
        report.loaded.clear();
        return Err(LoadError::Refused(report));
    }
    Ok((report, plan))
}
