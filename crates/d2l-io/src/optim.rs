//! Optimizer state keyed by parameter name, to resume training in a fresh process (D2L §5.5
//! exercise 1).
//!
//! Burn keys an optimizer's record by `ParamId`, which a fresh process does not share with the
//! one that saved it. Here the record travels keyed by the parameters' PyTorch names (through
//! a stable id derived from each name) and is re-keyed to the new model's ids on load.

use std::collections::HashMap;
use std::path::Path;

use hashbrown::HashMap as RecordMap;

use burn::module::ParamId;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Record, Recorder};
use burn::tensor::backend::AutodiffBackend;
use d2l_params::Parameters;

use crate::{IoError, write_atomic};

/// A stable id for a parameter name (64-bit FNV-1a), the same in every process.
fn id_of(name: &str) -> ParamId {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    ParamId::from(hash)
}

fn format_error(path: &Path, reason: impl ToString) -> IoError {
    IoError::Format {
        path: path.to_owned(),
        format: "optimizer state",
        reason: reason.to_string(),
    }
}

/// Saves an optimizer's state (`optim.to_record()`: Adam's moments and step counts, SGD's
/// momentum, …) keyed by `module`'s parameter names, atomically.
///
/// # Errors
/// [`IoError::Io`] if the file cannot be written, [`IoError::Format`] if the state cannot be
/// encoded or holds a parameter `module` does not name.
pub fn save_optimizer<B: AutodiffBackend, T: Record<B>>(
    path: impl AsRef<Path>,
    record: RecordMap<ParamId, T>,
    module: &impl Parameters<B>,
) -> Result<(), IoError> {
    let path = path.as_ref();
    let names: HashMap<ParamId, String> = module
        .named_parameters()
        .into_iter()
        .map(|p| (p.id(), p.key().to_owned()))
        .collect();
    let mut by_name = RecordMap::new();
    for (id, state) in record {
        let name = names.get(&id).ok_or_else(|| {
            format_error(
                path,
                format!("the optimizer has state for a parameter ({id}) the module does not have"),
            )
        })?;
        if by_name.insert(id_of(name), state).is_some() {
            return Err(format_error(
                path,
                format!("two parameter names hash alike (`{name}`)"),
            ));
        }
    }
    let bytes = NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .record(by_name, ())
        .map_err(|e| format_error(path, e))?;
    write_atomic(path, &bytes)
}

/// Loads optimizer state saved by [`save_optimizer`], re-keyed to `module`'s parameters by
/// name, for `optim.load_record(…)`: the training of `module` (its parameters loaded by
/// [`load_state`](crate::load_state)) goes on exactly where the saved run stopped.
///
/// ```no_run
/// # use burn::backend::{Autodiff, NdArray};
/// # use burn::optim::{AdamConfig, Optimizer};
/// # let net = d2l_blocks::Sequential::<Autodiff<NdArray>>::new();
/// let adam = AdamConfig::new().init::<Autodiff<NdArray>, d2l_blocks::Sequential<Autodiff<NdArray>>>();
/// let adam = adam.load_record(d2l_io::load_optimizer("ckpt.adam", &net, &Default::default())?);
/// # Ok::<(), d2l_io::IoError>(())
/// ```
///
/// # Errors
/// [`IoError::Io`] if the file cannot be read, [`IoError::Format`] if it is not optimizer
/// state of this kind or holds state for a parameter `module` does not have.
pub fn load_optimizer<B: AutodiffBackend, T: Record<B>>(
    path: impl AsRef<Path>,
    module: &impl Parameters<B>,
    device: &B::Device,
) -> Result<RecordMap<ParamId, T>, IoError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| IoError::Io {
        path: path.to_owned(),
        source,
    })?;
    let recorder = NamedMpkBytesRecorder::<FullPrecisionSettings>::default();
    // Burn's record conversion asserts on malformed tensors; a bad file must stay an error.
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Recorder::<B>::load::<RecordMap<ParamId, T>>(&recorder, bytes, device)
    }));
    let mut by_name = match loaded {
        Ok(Ok(record)) => record,
        Ok(Err(err)) => return Err(format_error(path, err)),
        Err(_) => {
            return Err(format_error(
                path,
                "malformed tensors in the optimizer state",
            ));
        }
    };
    let mut record = RecordMap::new();
    for p in module.named_parameters() {
        if let Some(state) = by_name.remove(&id_of(p.key())) {
            record.insert(p.id(), state);
        }
    }
    if !by_name.is_empty() {
        return Err(format_error(
            path,
            format!(
                "state for {} parameter(s) the module does not have",
                by_name.len()
            ),
        ));
    }
    Ok(record)
}
