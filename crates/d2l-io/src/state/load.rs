//! A file's load: `d2l_params::load_state_dict_from`, its errors naming the file.

use std::path::Path;

use burn::module::Module;
use burn::tensor::backend::Backend;
use d2l_params::{LoadError, LoadReport, StateSource, Strict, load_state_dict_from};

use crate::IoError;

/// Loads `source` into `module` (see [`load_state`](crate::load_state)); `path` names the file
/// in errors.
pub(crate) fn load_from<B, M, S>(
    path: &Path,
    source: &S,
    module: &mut M,
    strict: bool,
) -> Result<LoadReport, IoError>
where
    B: Backend,
    M: Module<B> + 'static,
    S: StateSource + ?Sized,
    IoError: From<S::Error>,
{
    load_state_dict_from(module, source, Strict::from(strict)).map_err(|err| match err {
        LoadError::Refused(report) => IoError::Load {
            path: path.to_owned(),
            report,
        },
        LoadError::Source(err) => err.into(),
        LoadError::Param(source) => IoError::Param {
            path: path.to_owned(),
            source,
        },
    })
}
