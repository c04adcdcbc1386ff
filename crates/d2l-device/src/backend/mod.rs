//! Backends: which ones this build has, what devices each offers, and running generic code on
//! the one chosen at run time.
//!
//! Library code in d2l-burn is generic over `B: Backend`. Programs (examples, tests) pick one
//! backend per process: the cargo features decide which backends are compiled in, and the
//! `D2L_BACKEND` environment variable (`ndarray`, `flex`, `wgpu`, `cuda`, `tch`) picks one of them at
//! run time, so one build serves every backend.

use core::fmt;
use core::str::FromStr;

use burn::tensor::backend::Backend;

use crate::{DeviceError, DeviceSpec};

/// Name of the environment variable that selects the backend at run time.
pub const BACKEND_ENV: &str = "D2L_BACKEND";

/// The backends d2l-burn knows, whether or not this build compiled them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// Burn's `ndarray` CPU backend (cargo feature `ndarray`).
    NdArray,
    /// Burn's pure-Rust `flex` CPU backend (cargo feature `flex`, the default).
    Flex,
    /// Burn's `wgpu` GPU backend (cargo feature `wgpu`).
    Wgpu,
    /// Burn's `cuda` GPU backend (cargo feature `cuda`).
    Cuda,
    /// Burn's `LibTorch` backend: PyTorch's own kernels through libtorch (cargo feature `tch`;
    /// CPU, and CUDA where libtorch sees a GPU).
    Tch,
}

impl BackendKind {
    /// Every backend, in the order the test harness runs them.
    pub const ALL: [BackendKind; 5] = [
        BackendKind::NdArray,
        BackendKind::Flex,
        BackendKind::Wgpu,
        BackendKind::Cuda,
        BackendKind::Tch,
    ];

    /// The name used by cargo features and `D2L_BACKEND`.
    pub const fn name(self) -> &'static str {
        match self {
            BackendKind::NdArray => "ndarray",
            BackendKind::Flex => "flex",
            BackendKind::Wgpu => "wgpu",
            BackendKind::Cuda => "cuda",
            BackendKind::Tch => "tch",
        }
    }

    /// Whether this build compiled the backend in (its cargo feature is on).
    pub const fn is_compiled(self) -> bool {
        match self {
            BackendKind::NdArray => cfg!(feature = "ndarray"),
            BackendKind::Flex => cfg!(feature = "flex"),
            BackendKind::Wgpu => cfg!(feature = "wgpu"),
            BackendKind::Cuda => cfg!(feature = "cuda"),
            BackendKind::Tch => cfg!(feature = "tch"),
        }
    }

    /// The backends this build compiled in.
    pub fn compiled() -> Vec<BackendKind> {
        Self::ALL
            .into_iter()
            .filter(|kind| kind.is_compiled())
            .collect()
    }

    /// The backend named by `D2L_BACKEND`, or else flex if compiled (the default: the fastest
    /// CPU backend measured), or else the first compiled one.
    ///
    /// # Errors
    /// [`DeviceError::Backend`] if the variable names an unknown or uncompiled backend, or if
    /// no backend is compiled at all.
    pub fn selected() -> Result<BackendKind, DeviceError> {
        match std::env::var(BACKEND_ENV) {
            Ok(name) if !name.trim().is_empty() => {
                let kind: BackendKind = name.parse()?;
                kind.ensure_compiled()?;
                Ok(kind)
            }
            _ => Self::compiled()
                .into_iter()
                .min_by_key(|kind| *kind != BackendKind::Flex)
                .ok_or_else(|| DeviceError::Backend {
                    name: "<none>".into(),
                    reason: "no backend feature is enabled (ndarray, flex, wgpu, cuda or tch)"
                        .into(),
                }),
        }
    }

    fn ensure_compiled(self) -> Result<(), DeviceError> {
        if self.is_compiled() {
            Ok(())
        } else {
            Err(DeviceError::Backend {
                name: self.name().into(),
                reason: format!(
                    "this build lacks it; enable the cargo feature `{}`",
                    self.name()
                ),
            })
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for BackendKind {
    type Err = DeviceError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let wanted = name.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == wanted)
            .ok_or_else(|| DeviceError::Backend {
                name: name.to_owned(),
                reason: "unknown backend; expected one of ndarray, flex, wgpu, cuda, tch".into(),
            })
    }
}

/// A Burn backend whose devices d2l-burn can list, name and probe without panicking.
///
/// Implemented for every compiled backend and for `Autodiff<B>` over one (same devices).
pub trait DeviceBackend: Backend {
    /// Which backend this is.
    const KIND: BackendKind;

    /// Checks that the backend can run here (driver present, at least one device).
    ///
    /// # Errors
    /// [`DeviceError::NoDriver`] with what the probe found.
    fn probe() -> Result<(), DeviceError>;

    /// The backend's CPU device, if it has one (ndarray, flex; wgpu with a CPU adapter such as
    /// Mesa's lavapipe; never cuda).
    fn cpu_device() -> Option<Self::Device>;

    /// The GPUs this backend can use, in index order; empty when there are none or no driver.
    fn gpu_devices() -> Vec<Self::Device>;

    /// Resolves a device name for this backend.
    ///
    /// # Errors
    /// [`DeviceError::Unsupported`] for a kind this backend cannot serve,
    /// [`DeviceError::OutOfRange`] for a GPU index past the last GPU.
    fn resolve(spec: DeviceSpec) -> Result<Self::Device, DeviceError>;

    /// The name of one of this backend's devices, as users type it.
    fn spec_of(device: &Self::Device) -> DeviceSpec;
}

// One file per backend's device rules; each compiles only with its cargo feature.
#[cfg(any(feature = "ndarray", feature = "flex"))]
mod impl_cpu;
#[cfg(feature = "cuda")]
mod impl_cuda;
#[cfg(feature = "tch")]
mod impl_tch;
#[cfg(feature = "wgpu")]
mod impl_wgpu;
#[cfg(any(
    feature = "ndarray",
    feature = "flex",
    feature = "wgpu",
    feature = "cuda",
    feature = "tch"
))]
mod rules;

#[cfg(feature = "tch")]
pub use impl_tch::LibTorch;
#[cfg(feature = "wgpu")]
pub use impl_wgpu::Wgpu;

impl<B: DeviceBackend> DeviceBackend for burn::backend::Autodiff<B> {
    const KIND: BackendKind = B::KIND;

    fn probe() -> Result<(), DeviceError> {
        B::probe()
    }

    fn cpu_device() -> Option<Self::Device> {
        B::cpu_device()
    }

    fn gpu_devices() -> Vec<Self::Device> {
        B::gpu_devices()
    }

    fn resolve(spec: DeviceSpec) -> Result<Self::Device, DeviceError> {
        B::resolve(spec)
    }

    fn spec_of(device: &Self::Device) -> DeviceSpec {
        B::spec_of(device)
    }
}

/// Code generic over the backend, to be run on the backend chosen at run time.
///
/// Closures cannot be generic, so a program states its body once as a `BackendTask` and
/// [`run_on`] / [`run_selected`] instantiate it for the chosen backend.
///
/// ```
/// use burn::tensor::{ElementConversion, Tensor};
/// use d2l_device::backend::{BackendTask, DeviceBackend, run_selected};
///
/// struct SumOfOnes;
///
/// impl BackendTask for SumOfOnes {
///     type Output = f32;
///     fn run<B: DeviceBackend>(self, device: &B::Device) -> f32 {
///         Tensor::<B, 2>::ones([2, 3], device).sum().into_scalar().elem()
///     }
/// }
///
/// assert_eq!(run_selected(SumOfOnes).unwrap(), 6.0);
/// ```
pub trait BackendTask {
    /// What the task returns.
    type Output;

    /// The body, generic over the backend; `device` is the backend's default device.
    fn run<B: DeviceBackend>(self, device: &B::Device) -> Self::Output;
}

/// Runs `task` on backend `kind` and its default device.
///
/// # Errors
/// [`DeviceError::Backend`] if `kind` is not compiled in, [`DeviceError::NoDriver`] if it
/// cannot run on this machine.
#[allow(unused_variables)]
pub fn run_on<T: BackendTask>(kind: BackendKind, task: T) -> Result<T::Output, DeviceError> {
    kind.ensure_compiled()?;
    match kind {
        #[cfg(feature = "ndarray")]
        BackendKind::NdArray => run_probed::<burn::backend::NdArray, T>(task),
        #[cfg(feature = "flex")]
        BackendKind::Flex => run_probed::<burn::backend::Flex, T>(task),
        #[cfg(feature = "wgpu")]
        BackendKind::Wgpu => run_probed::<Wgpu, T>(task),
        #[cfg(feature = "cuda")]
        BackendKind::Cuda => run_probed::<burn::backend::Cuda, T>(task),
        #[cfg(feature = "tch")]
        BackendKind::Tch => run_probed::<LibTorch, T>(task),
        #[allow(unreachable_patterns)]
        _ => unreachable!("ensure_compiled rejected backends this build lacks"),
    }
}

#[allow(dead_code)]
fn run_probed<B: DeviceBackend, T: BackendTask>(task: T) -> Result<T::Output, DeviceError> {
    B::probe()?;
    Ok(task.run::<B>(&B::Device::default()))
}

/// Runs `task` on the backend [`BackendKind::selected`] picks (`D2L_BACKEND`, else the first
/// compiled: flex in a default build).
///
/// # Errors
/// As [`BackendKind::selected`] and [`run_on`].
pub fn run_selected<T: BackendTask>(task: T) -> Result<T::Output, DeviceError> {
    run_on(BackendKind::selected()?, task)
}

/// Defines a `#[test]` written once, generic over the backend, and run on the backend
/// `D2L_BACKEND` selects (flex by default). `cargo xtask test-all-backends` runs the suite
/// once per backend.
///
/// ```no_run
/// use burn::tensor::{ElementConversion, Tensor};
///
/// d2l_device::backend_test! {
///     fn ones_sum_to_six<B>(device) {
///         let x = Tensor::<B, 1>::ones([6], device);
///         assert_eq!(x.sum().into_scalar().elem::<f32>(), 6.0);
///     }
/// }
/// ```
///
/// A backend that cannot run (no driver) fails the test: nothing passes silently.
#[macro_export]
macro_rules! backend_test {
    ($(#[$meta:meta])* fn $name:ident<$B:ident>($device:ident) $body:block) => {
        $(#[$meta])*
        #[test]
        fn $name() {
            struct Case;
            impl $crate::backend::BackendTask for Case {
                type Output = ();
                #[allow(unused_variables)]
                fn run<$B: $crate::backend::DeviceBackend>(self, $device: &$B::Device) $body
            }
            if let Err(error) = $crate::backend::run_selected(Case) {
                panic!("cannot run `{}`: {error}", stringify!($name));
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_names_round_trip() {
        for kind in BackendKind::ALL {
            assert_eq!(kind.name().parse::<BackendKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.name());
        }
        let err = "tpu".parse::<BackendKind>().expect_err("unknown backend");
        assert!(err.to_string().contains("`tpu`"), "{err}");
    }

    struct Name;

    impl BackendTask for Name {
        type Output = BackendKind;
        fn run<B: DeviceBackend>(self, _device: &B::Device) -> BackendKind {
            B::KIND
        }
    }

    #[test]
    fn run_on_runs_compiled_backends_and_refuses_the_others() {
        let compiled = BackendKind::compiled();
        assert!(!compiled.is_empty(), "no backend feature is on");
        for kind in BackendKind::ALL {
            match run_on(kind, Name) {
                // A compiled backend runs as itself (or says why it cannot run here).
                Ok(ran) => assert_eq!(ran, kind),
                Err(DeviceError::NoDriver { backend, .. }) => {
                    assert!(compiled.contains(&kind));
                    assert_eq!(backend, kind.name());
                }
                Err(DeviceError::Backend { name, reason }) => {
                    assert!(
                        !compiled.contains(&kind),
                        "{kind} is compiled but refused: {reason}"
                    );
                    assert_eq!(name, kind.name());
                    assert!(reason.contains(&format!("`{kind}`")), "{reason}");
                }
                Err(other) => panic!("{kind}: unexpected {other}"),
            }
        }
    }
}
