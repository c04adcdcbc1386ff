//! tch: Burn's `LibTorch` backend, PyTorch's own kernels through libtorch (CPU, and CUDA where
//! libtorch sees a GPU).

use burn_tch::LibTorchDevice;

use super::rules::{pick_gpu, unsupported};
use super::{BackendKind, DeviceBackend};
use crate::{DeviceError, DeviceSpec};

/// The LibTorch backend d2l-burn runs: Burn's `burn-tch` over `f32` tensors.
///
/// It links the libtorch of a pip-installed `torch==2.9.0` (the version `tch` 0.22 is built
/// for): the workspace's `.cargo/config.toml` sets `LIBTORCH_USE_PYTORCH=1`, so the build asks
/// the `python3` on `PATH` (or an active virtual environment's `python`) where torch lives and
/// never downloads one. `cargo run`/`cargo test`/`cargo bench` put torch's `lib/` on the
/// loader path (this crate's build script links it into the target directory).
pub type LibTorch = burn_tch::LibTorch<f32>;

/// GPUs libtorch can use: 0 without a CUDA build of torch, a driver or a device.
fn cuda_count() -> usize {
    usize::try_from(tch::Cuda::device_count()).unwrap_or(0)
}

impl DeviceBackend for LibTorch {
    const KIND: BackendKind = BackendKind::Tch;

    /// Always runs: a program linked against libtorch does not start without it.
    fn probe() -> Result<(), DeviceError> {
        Ok(())
    }

    fn cpu_device() -> Option<LibTorchDevice> {
        Some(LibTorchDevice::Cpu)
    }

    fn gpu_devices() -> Vec<LibTorchDevice> {
        (0..cuda_count()).map(LibTorchDevice::Cuda).collect()
    }

    fn resolve(spec: DeviceSpec) -> Result<LibTorchDevice, DeviceError> {
        match spec {
            DeviceSpec::Cpu => Ok(LibTorchDevice::Cpu),
            DeviceSpec::Gpu(_) | DeviceSpec::Cuda(_) => {
                pick_gpu(spec, Self::KIND, &Self::gpu_devices())
            }
            DeviceSpec::Wgpu(_) => Err(unsupported(
                spec,
                Self::KIND,
                "select the wgpu backend (feature `wgpu`, D2L_BACKEND=wgpu)",
            )),
        }
    }

    fn spec_of(device: &LibTorchDevice) -> DeviceSpec {
        match *device {
            LibTorchDevice::Cpu => DeviceSpec::Cpu,
            LibTorchDevice::Cuda(i) => DeviceSpec::Cuda(Some(i)),
            // Never resolved to here (macOS Metal, libtorch's Vulkan): named as the GPU they are.
            LibTorchDevice::Mps | LibTorchDevice::Vulkan => DeviceSpec::Gpu(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libtorch_devices_have_the_names_users_type() {
        assert_eq!(LibTorch::resolve(DeviceSpec::Cpu), Ok(LibTorchDevice::Cpu));
        assert_eq!(LibTorch::spec_of(&LibTorchDevice::Cpu), DeviceSpec::Cpu);
        assert_eq!(
            LibTorch::spec_of(&LibTorchDevice::Cuda(1)),
            DeviceSpec::Cuda(Some(1))
        );
        let gpus = LibTorch::gpu_devices();
        assert_eq!(gpus.len(), cuda_count());
        // GPU i is CUDA device i when libtorch sees it, else an error naming how many there are.
        match LibTorch::resolve(DeviceSpec::Cuda(Some(gpus.len()))) {
            Err(DeviceError::OutOfRange {
                requested,
                backend,
                available,
            }) => {
                assert_eq!(requested, format!("cuda:{}", gpus.len()));
                assert_eq!((backend, available), ("tch", gpus.len()));
            }
            other => panic!("{other:?}"),
        }
        for (i, gpu) in gpus.iter().enumerate() {
            assert_eq!(LibTorch::resolve(DeviceSpec::Gpu(i)).as_ref(), Ok(gpu));
        }
        assert!(matches!(
            LibTorch::resolve(DeviceSpec::Wgpu(None)),
            Err(DeviceError::Unsupported { backend: "tch", .. })
        ));
    }
}
