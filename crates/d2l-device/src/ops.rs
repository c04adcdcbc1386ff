//! The book's §5.6 device API: counting and picking GPUs, naming devices, copying and moving
//! tensors and models, and device checks that return errors instead of panicking.

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{BasicOps, Bool, Int, Tensor};

use crate::backend::DeviceBackend;
use crate::{DeviceError, DeviceSpec};

/// Number of GPUs backend `B` can use here (D2L's `num_gpus()`); 0 without a GPU or a driver.
pub fn num_gpus<B: DeviceBackend>() -> usize {
    B::gpu_devices().len()
}

/// GPU `i` if it exists, else the CPU (D2L's `try_gpu(i)`).
///
/// On a backend without a CPU device (cuda) and no GPU `i`, this is the backend's default
/// device; [`DeviceBackend::probe`] tells whether that device can run.
pub fn try_gpu<B: DeviceBackend>(i: usize) -> B::Device {
    B::gpu_devices()
        .into_iter()
        .nth(i)
        .or_else(B::cpu_device)
        .unwrap_or_default()
}

/// All GPUs, or `[cpu]` if there are none (D2L's `try_all_gpus()`).
pub fn try_all_gpus<B: DeviceBackend>() -> Vec<B::Device> {
    let gpus = B::gpu_devices();
    if gpus.is_empty() {
        vec![B::cpu_device().unwrap_or_default()]
    } else {
        gpus
    }
}

/// Every device backend `B` can use here: its CPU device (if any), then its GPUs.
pub fn list_devices<B: DeviceBackend>() -> Vec<B::Device> {
    B::cpu_device()
        .into_iter()
        .chain(B::gpu_devices())
        .collect()
}

/// The device a name refers to on backend `B` (`"cpu"`, `"gpu:1"`, `"cuda:0"`, `"wgpu"`).
///
/// Unlike [`try_gpu`] this never falls back: a GPU that does not exist is an error.
///
/// # Errors
/// [`DeviceError::Parse`] for a malformed name, [`DeviceError::Unsupported`] for a kind the
/// backend cannot serve, [`DeviceError::OutOfRange`] for a missing GPU,
/// [`DeviceError::NoDriver`] when the backend's runtime is missing.
pub fn device<B: DeviceBackend>(name: &str) -> Result<B::Device, DeviceError> {
    B::resolve(name.parse()?)
}

/// The user-facing name of a device (`cpu`, `cuda:1`, `wgpu:0`).
pub fn device_name<B: DeviceBackend>(device: &B::Device) -> DeviceSpec {
    B::spec_of(device)
}

/// Whether [`TensorDeviceExt::move_to`] had to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transfer {
    /// The tensor was already there and was returned as is: no copy, no allocation.
    None,
    /// The tensor was copied to the target device.
    Copied,
}

/// A value after a move, with whether the move copied.
#[derive(Debug, Clone)]
pub struct Moved<T> {
    /// The value, on the target device.
    pub value: T,
    /// Whether getting it there copied.
    pub transfer: Transfer,
}

/// Copies `tensor` to `device` through host memory; returns it untouched if already there.
///
/// Every cross-device copy in this crate goes through here. Burn 0.21's own `to_device`
/// between two devices of the wgpu runtime panics ("not implemented": cubecl's server-to-server
/// transfer exists only for CUDA), so the copy is staged through the host, which works on every
/// backend. The copy is a new leaf for autodiff: gradients do not flow back through it.
pub fn transfer<B: Backend, const D: usize, K: BasicOps<B>>(
    tensor: Tensor<B, D, K>,
    device: &B::Device,
) -> Tensor<B, D, K> {
    if tensor.device() == *device {
        tensor
    } else {
        Tensor::from_data(tensor.into_data(), device)
    }
}

/// Device methods on tensors, named as in the book.
pub trait TensorDeviceExt<B: Backend>: Sized {
    /// A copy of the tensor on `device` (the book's `X.cuda(1)` / `copyto`); the original stays
    /// where it is.
    fn copy_to(&self, device: &B::Device) -> Self;

    /// Moves the tensor to `device`, reporting whether that copied; a tensor already on
    /// `device` is returned untouched (`Z.cuda(1) is Z`).
    fn move_to(self, device: &B::Device) -> Moved<Self>;

    /// The tensor on `device`, copied only if it is elsewhere (MXNet's `as_in_ctx`).
    fn as_in_ctx(self, device: &B::Device) -> Self {
        self.move_to(device).value
    }
}

impl<B: Backend, const D: usize, K: BasicOps<B>> TensorDeviceExt<B> for Tensor<B, D, K> {
    fn copy_to(&self, device: &B::Device) -> Self {
        transfer(self.clone(), device)
    }

    fn move_to(self, device: &B::Device) -> Moved<Self> {
        if self.device() == *device {
            Moved {
                value: self,
                transfer: Transfer::None,
            }
        } else {
            Moved {
                value: transfer(self, device),
                transfer: Transfer::Copied,
            }
        }
    }
}

/// Checks that `lhs` and `rhs` are the same device before an operation named `op`.
///
/// # Errors
/// [`DeviceError::Mismatch`] naming `op` and both devices.
pub fn ensure_same_device<B: DeviceBackend>(
    op: &str,
    lhs: &B::Device,
    rhs: &B::Device,
) -> Result<(), DeviceError> {
    if lhs == rhs {
        Ok(())
    } else {
        Err(DeviceError::Mismatch {
            op: op.to_owned(),
            lhs: describe::<B>(lhs),
            rhs: describe::<B>(rhs),
        })
    }
}

fn describe<B: DeviceBackend>(device: &B::Device) -> String {
    format!("{} ({device:?})", B::spec_of(device))
}

/// Applies the binary operation `f` named `op` after checking that both tensors share a device.
///
/// Burn panics with "The provided tensors are not on the same device"; this returns an error.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_device::checked_binary;
///
/// let device = Default::default();
/// let x = Tensor::<NdArray, 1>::from_floats([1.0, 2.0], &device);
/// let y = Tensor::<NdArray, 1>::from_floats([10.0, 20.0], &device);
/// let z = checked_binary("add", x, y, |x, y| x + y).unwrap();
/// assert_eq!(z.into_data().to_vec::<f32>().unwrap(), vec![11.0, 22.0]);
/// ```
///
/// # Errors
/// [`DeviceError::Mismatch`] naming `op` and both devices; the tensors are dropped.
pub fn checked_binary<B, const D: usize, const E: usize, const F: usize, K, L, M>(
    op: &str,
    lhs: Tensor<B, D, K>,
    rhs: Tensor<B, E, L>,
    f: impl FnOnce(Tensor<B, D, K>, Tensor<B, E, L>) -> Tensor<B, F, M>,
) -> Result<Tensor<B, F, M>, DeviceError>
where
    B: DeviceBackend,
    K: BasicOps<B>,
    L: BasicOps<B>,
    M: BasicOps<B>,
{
    ensure_same_device::<B>(op, &lhs.device(), &rhs.device())?;
    Ok(f(lhs, rhs))
}

/// The one device holding all of a module's parameters (the book's `net[0].weight.data.device`).
///
/// # Errors
/// [`DeviceError::NoParameters`] for a module without parameters,
/// [`DeviceError::MixedDevices`] if its parameters are on several devices.
pub fn module_device<B: DeviceBackend, M: Module<B>>(module: &M) -> Result<B::Device, DeviceError> {
    let mut devices = module.devices();
    devices.dedup();
    match devices.as_slice() {
        [] => Err(DeviceError::NoParameters),
        [device] => Ok(device.clone()),
        many => Err(DeviceError::MixedDevices {
            devices: many
                .iter()
                .map(describe::<B>)
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Moves every parameter of `module` to `device` (the book's `net.to(device=try_gpu())`).
///
/// Parameters keep their ids and stay trainable. Copies go through [`transfer`], so this works
/// between any two devices of a backend (Burn's own `Module::to_device` panics between two
/// wgpu devices in 0.21).
pub fn move_module<B: Backend, M: Module<B>>(module: M, device: &B::Device) -> M {
    module.map(&mut Relocate::to(device))
}

/// A Burn `ModuleMapper` that moves every parameter to a device through [`transfer`], keeping
/// its id and requires-grad flag; with [`fork`](Self::fork) each parameter also starts a fresh
/// autodiff graph (Burn's `Module::fork`).
///
/// Containers that implement `Module` by hand (d2l-blocks' `Sequential`) use it for their
/// `to_device` and `fork`.
pub struct Relocate<'a, B: Backend> {
    device: &'a B::Device,
    detach: bool,
}

impl<'a, B: Backend> Relocate<'a, B> {
    /// Moves parameters to `device`, keeping their autodiff graph where no copy is needed.
    pub fn to(device: &'a B::Device) -> Self {
        Self {
            device,
            detach: false,
        }
    }

    /// Moves parameters to `device` and detaches them from their old graph.
    pub fn fork(device: &'a B::Device) -> Self {
        Self {
            device,
            detach: true,
        }
    }

    fn map<const D: usize, K: BasicOps<B>>(
        &self,
        param: Param<Tensor<B, D, K>>,
    ) -> Param<Tensor<B, D, K>>
    where
        Tensor<B, D, K>: burn::module::Parameter,
    {
        use burn::module::Parameter;
        let (id, tensor, mapper) = param.consume();
        let require_grad = Parameter::is_require_grad(&tensor);
        let tensor = if self.detach {
            Parameter::set_require_grad(tensor, false)
        } else {
            tensor
        };
        let moved = Parameter::set_require_grad(transfer(tensor, self.device), require_grad);
        Param::from_mapped_value(id, moved, mapper)
    }
}

impl<B: Backend> ModuleMapper<B> for Relocate<'_, B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        self.map(param)
    }

    fn map_int<const D: usize>(
        &mut self,
        param: Param<Tensor<B, D, Int>>,
    ) -> Param<Tensor<B, D, Int>> {
        self.map(param)
    }

    fn map_bool<const D: usize>(
        &mut self,
        param: Param<Tensor<B, D, Bool>>,
    ) -> Param<Tensor<B, D, Bool>> {
        self.map(param)
    }
}
