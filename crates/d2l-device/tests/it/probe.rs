//! What `cargo xtask test-all-backends` asks before running a backend: can it run here?

use d2l_device::DeviceError;
use d2l_device::backend::{BackendKind, BackendTask, DeviceBackend, run_on};

struct Devices;

impl BackendTask for Devices {
    type Output = usize;
    fn run<B: DeviceBackend>(self, _device: &B::Device) -> usize {
        d2l_device::list_devices::<B>().len()
    }
}

/// Prints one `d2l-probe <backend>: …` line per compiled backend (the xtask reads them).
#[test]
fn probe_reports_every_compiled_backend() {
    for kind in BackendKind::compiled() {
        match run_on(kind, Devices) {
            Ok(devices) => {
                println!("d2l-probe {kind}: ok ({devices} devices)");
                assert!(devices >= 1, "{kind} runs but lists no device");
            }
            Err(DeviceError::NoDriver { reason, .. }) => {
                println!("d2l-probe {kind}: no driver: {reason}");
                let cpu = matches!(
                    kind,
                    BackendKind::NdArray | BackendKind::Flex | BackendKind::Tch
                );
                assert!(!cpu, "the CPU backend {kind} must always run");
            }
            Err(other) => panic!("{kind}: {other}"),
        }
    }
}
