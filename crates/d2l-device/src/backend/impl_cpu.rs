//! ndarray and flex: CPU-only backends, one device each.

use super::rules::{pick_gpu, unsupported};
use super::{BackendKind, DeviceBackend};
use crate::{DeviceError, DeviceSpec};

/// Device rules shared by the CPU-only backends.
macro_rules! cpu_backend {
    ($backend:ty, $kind:expr) => {
        impl DeviceBackend for $backend {
            const KIND: BackendKind = $kind;

            fn probe() -> Result<(), DeviceError> {
                Ok(())
            }

            fn cpu_device() -> Option<Self::Device> {
                Some(Default::default())
            }

            fn gpu_devices() -> Vec<Self::Device> {
                Vec::new()
            }

            fn resolve(spec: DeviceSpec) -> Result<Self::Device, DeviceError> {
                match spec {
                    DeviceSpec::Cpu => Ok(Default::default()),
                    DeviceSpec::Gpu(_) => pick_gpu(spec, $kind, &Self::gpu_devices()),
                    DeviceSpec::Cuda(_) | DeviceSpec::Wgpu(_) => Err(unsupported(
                        spec,
                        $kind,
                        "it is a CPU backend; select the matching GPU backend (feature and D2L_BACKEND)",
                    )),
                }
            }

            fn spec_of(_device: &Self::Device) -> DeviceSpec {
                DeviceSpec::Cpu
            }
        }
    };
}

#[cfg(feature = "ndarray")]
cpu_backend!(burn::backend::NdArray, BackendKind::NdArray);

#[cfg(feature = "flex")]
cpu_backend!(burn::backend::Flex, BackendKind::Flex);
