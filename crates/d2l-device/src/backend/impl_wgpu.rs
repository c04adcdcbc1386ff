//! wgpu: Vulkan/Metal/DX12 adapters, Mesa's lavapipe as its CPU device.

use burn::backend::wgpu::WgpuDevice;

use super::rules::{pick_gpu, unsupported};
use super::{BackendKind, DeviceBackend};
use crate::probe::wgpu_adapters::{AdapterKind, adapters};
use crate::{DeviceError, DeviceSpec};

/// The wgpu backend d2l-burn runs: Burn's cubecl wgpu backend **without** operation fusion.
///
/// Burn 0.21's fused wgpu backend (`burn::backend::Wgpu`) computes `x.matmul(w) + b` wrongly
/// when `w` has one column (`Linear(3, 1)` on a batch of 2 returns 0 in the second row; seen on
/// Mesa lavapipe, reproduced in `docs/ARCHITECTURE.md`). The unfused backend is correct, so the
/// harness and examples use it.
pub type Wgpu = burn::backend::wgpu::CubeBackend<burn::backend::wgpu::WgpuRuntime, f32, i32, u32>;

fn count(kind: AdapterKind) -> usize {
    adapters().iter().filter(|(k, _)| *k == kind).count()
}

impl DeviceBackend for Wgpu {
    const KIND: BackendKind = BackendKind::Wgpu;

    fn probe() -> Result<(), DeviceError> {
        if adapters().is_empty() {
            Err(DeviceError::NoDriver {
                backend: "wgpu",
                reason: "no Vulkan/Metal/DX12 adapter found (on CPU-only Linux install \
                         Mesa's lavapipe: apt-get install mesa-vulkan-drivers)"
                    .into(),
            })
        } else {
            Ok(())
        }
    }

    fn cpu_device() -> Option<WgpuDevice> {
        (count(AdapterKind::Cpu) > 0).then_some(WgpuDevice::Cpu)
    }

    fn gpu_devices() -> Vec<WgpuDevice> {
        let discrete = (0..count(AdapterKind::Discrete)).map(WgpuDevice::DiscreteGpu);
        let integrated = (0..count(AdapterKind::Integrated)).map(WgpuDevice::IntegratedGpu);
        let virtual_ = (0..count(AdapterKind::Virtual)).map(WgpuDevice::VirtualGpu);
        discrete.chain(integrated).chain(virtual_).collect()
    }

    fn resolve(spec: DeviceSpec) -> Result<WgpuDevice, DeviceError> {
        match spec {
            DeviceSpec::Cpu => Self::cpu_device().ok_or_else(|| {
                unsupported(spec, Self::KIND, "wgpu sees no CPU adapter (Mesa lavapipe)")
            }),
            DeviceSpec::Wgpu(None) => {
                Self::probe()?;
                Ok(WgpuDevice::DefaultDevice)
            }
            DeviceSpec::Gpu(_) | DeviceSpec::Wgpu(Some(_)) => {
                pick_gpu(spec, Self::KIND, &Self::gpu_devices())
            }
            DeviceSpec::Cuda(_) => Err(unsupported(
                spec,
                Self::KIND,
                "select the cuda backend (feature `cuda`, D2L_BACKEND=cuda)",
            )),
        }
    }

    fn spec_of(device: &WgpuDevice) -> DeviceSpec {
        let discrete = count(AdapterKind::Discrete);
        let integrated = count(AdapterKind::Integrated);
        #[allow(deprecated)]
        match *device {
            WgpuDevice::DiscreteGpu(i) => DeviceSpec::Wgpu(Some(i)),
            WgpuDevice::IntegratedGpu(i) => DeviceSpec::Wgpu(Some(discrete + i)),
            WgpuDevice::VirtualGpu(i) => DeviceSpec::Wgpu(Some(discrete + integrated + i)),
            WgpuDevice::Cpu => DeviceSpec::Cpu,
            WgpuDevice::DefaultDevice | WgpuDevice::BestAvailable | WgpuDevice::Existing(_) => {
                DeviceSpec::Wgpu(None)
            }
        }
    }
}
