//! The device errors and GPU choice every backend's rules share.

use super::BackendKind;
use crate::{DeviceError, DeviceSpec};

pub(super) fn unsupported(spec: DeviceSpec, backend: BackendKind, hint: &str) -> DeviceError {
    DeviceError::Unsupported {
        requested: spec.to_string(),
        backend: backend.name(),
        hint: if hint.is_empty() {
            String::new()
        } else {
            format!(": {hint}")
        },
    }
}

pub(super) fn pick_gpu<D: Clone>(
    spec: DeviceSpec,
    backend: BackendKind,
    gpus: &[D],
) -> Result<D, DeviceError> {
    let index = spec.gpu_index().unwrap_or(0);
    gpus.get(index).cloned().ok_or(DeviceError::OutOfRange {
        requested: spec.to_string(),
        backend: backend.name(),
        available: gpus.len(),
    })
}
