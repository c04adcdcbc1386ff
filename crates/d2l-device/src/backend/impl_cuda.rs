//! cuda: NVIDIA GPUs through Burn's cubecl CUDA runtime; no CPU device.

use burn::backend::cuda::CudaDevice;

use super::rules::{pick_gpu, unsupported};
use super::{BackendKind, DeviceBackend};
use crate::probe::cuda;
use crate::{DeviceError, DeviceSpec};

impl DeviceBackend for burn::backend::Cuda {
    const KIND: BackendKind = BackendKind::Cuda;

    fn probe() -> Result<(), DeviceError> {
        cuda::device_count().map(drop)
    }

    fn cpu_device() -> Option<CudaDevice> {
        None
    }

    fn gpu_devices() -> Vec<CudaDevice> {
        (0..cuda::device_count().unwrap_or(0))
            .map(CudaDevice::new)
            .collect()
    }

    fn resolve(spec: DeviceSpec) -> Result<CudaDevice, DeviceError> {
        match spec {
            DeviceSpec::Gpu(_) | DeviceSpec::Cuda(_) => {
                Self::probe()?;
                pick_gpu(spec, Self::KIND, &Self::gpu_devices())
            }
            DeviceSpec::Cpu => Err(unsupported(
                spec,
                Self::KIND,
                "the cuda backend has no CPU device; use ndarray or flex for CPU tensors",
            )),
            DeviceSpec::Wgpu(_) => Err(unsupported(
                spec,
                Self::KIND,
                "select the wgpu backend (feature `wgpu`, D2L_BACKEND=wgpu)",
            )),
        }
    }

    fn spec_of(device: &CudaDevice) -> DeviceSpec {
        DeviceSpec::Cuda(Some(device.index))
    }
}
