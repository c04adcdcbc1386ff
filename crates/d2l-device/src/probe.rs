//! Panic-free probes for GPU runtimes.
//!
//! Burn's `Backend::device_count` and the first use of a CUDA or wgpu device create a compute
//! client and panic when no driver is present. These probes ask the driver layer directly
//! (wgpu's adapter list, the CUDA driver's device count), cache the answer for the process, and
//! turn every failure into a [`DeviceError`](crate::DeviceError).

#[cfg(feature = "cuda")]
pub(crate) mod cuda {
    use std::sync::OnceLock;

    use crate::DeviceError;

    /// Number of CUDA devices, or why CUDA cannot run here.
    pub(crate) fn device_count() -> Result<usize, DeviceError> {
        static COUNT: OnceLock<Result<usize, DeviceError>> = OnceLock::new();
        COUNT.get_or_init(probe).clone()
    }

    fn no_driver(reason: impl Into<String>) -> DeviceError {
        DeviceError::NoDriver {
            backend: "cuda",
            reason: reason.into(),
        }
    }

    fn probe() -> Result<usize, DeviceError> {
        // Without the driver's device node there is nothing to load; skip the library search.
        if cfg!(target_os = "linux") && !std::path::Path::new("/dev/nvidiactl").exists() {
            return Err(no_driver("no NVIDIA device (/dev/nvidiactl is missing)"));
        }
        // cudarc panics when libcuda cannot be loaded; contain that panic, silently.
        let count = crate::probe::quietly(cudarc::driver::CudaContext::device_count)
            .ok_or_else(|| no_driver("the CUDA driver library (libcuda) could not be loaded"))?
            .map_err(|err| no_driver(format!("cuInit failed: {err:?}")))?;
        match usize::try_from(count) {
            Ok(0) | Err(_) => Err(no_driver("the CUDA driver reports no devices")),
            Ok(count) => Ok(count),
        }
    }
}

#[cfg(feature = "wgpu")]
pub(crate) mod wgpu_adapters {
    use std::sync::OnceLock;

    /// Kind of a wgpu adapter, in the order Burn's `WgpuDevice` indexes them.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(crate) enum AdapterKind {
        Discrete,
        Integrated,
        Virtual,
        Cpu,
        Other,
    }

    /// The adapters wgpu's primary backends (Vulkan, Metal, DX12) expose, in enumeration order.
    pub(crate) fn adapters() -> &'static [(AdapterKind, String)] {
        static ADAPTERS: OnceLock<Vec<(AdapterKind, String)>> = OnceLock::new();
        ADAPTERS.get_or_init(|| crate::probe::quietly(enumerate).unwrap_or_default())
    }

    fn enumerate() -> Vec<(AdapterKind, String)> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::PRIMARY,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapters = block_on(instance.enumerate_adapters(wgpu::Backends::PRIMARY));
        adapters
            .into_iter()
            .map(|adapter| {
                let info = adapter.get_info();
                let kind = match info.device_type {
                    wgpu::DeviceType::DiscreteGpu => AdapterKind::Discrete,
                    wgpu::DeviceType::IntegratedGpu => AdapterKind::Integrated,
                    wgpu::DeviceType::VirtualGpu => AdapterKind::Virtual,
                    wgpu::DeviceType::Cpu => AdapterKind::Cpu,
                    wgpu::DeviceType::Other => AdapterKind::Other,
                };
                (kind, format!("{} ({:?})", info.name, info.backend))
            })
            .collect()
    }

    /// Drives a future that native wgpu resolves without waiting on I/O.
    fn block_on<F: core::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut context = core::task::Context::from_waker(core::task::Waker::noop());
        loop {
            if let core::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
            std::thread::yield_now();
        }
    }
}

/// Runs `probe`, returning `None` instead of unwinding if it panics, without printing that
/// panic.
///
/// The process-wide panic hook is never swapped out around the probe: a hook installed once
/// stays silent only for panics raised on a thread while it is probing, and hands every other
/// panic (other threads, later panics of this one) to the hook that was there before it.
#[cfg(any(feature = "cuda", feature = "wgpu"))]
pub(crate) fn quietly<T>(probe: impl FnOnce() -> T) -> Option<T> {
    use std::cell::Cell;
    use std::sync::Once;

    thread_local! {
        static PROBING: Cell<bool> = const { Cell::new(false) };
    }
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !PROBING.with(Cell::get) {
                previous(info);
            }
        }));
    });
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            PROBING.with(|p| p.set(self.0));
        }
    }
    let _reset = Reset(PROBING.with(|p| p.replace(true)));
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(probe)).ok()
}

#[cfg(all(test, any(feature = "cuda", feature = "wgpu")))]
mod tests {
    use std::sync::{Arc, Mutex};

    #[test]
    fn a_probe_silences_only_its_own_panics() {
        assert_eq!(super::quietly(|| 7), Some(7));
        assert_eq!(super::quietly(|| -> u8 { panic!("probe failed") }), None);
        // A panic on another thread while (and after) a probe ran still reaches the hook
        // installed before the first probe.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            log.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(info.to_string());
        }));
        let other = std::thread::spawn(|| {
            super::quietly(|| std::thread::spawn(|| panic!("worker")).join().is_err())
        });
        assert_eq!(other.join().ok().flatten(), Some(true));
        std::panic::set_hook(hook);
        let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
        assert!(seen.iter().any(|m| m.contains("worker")), "{seen:?}");
    }
}
