//! Initialization: built-in and custom initializers, per layer or by predicate (D2L §5.2.2).

use core::fmt;
use std::collections::HashMap;

use burn::module::{Module, ParamId};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, TensorMetadata, TensorPrimitive};
use d2l_blocks::path::{ParamSlot, map_params, visit_params};
use d2l_blocks::tensor;

use crate::ParamError;

/// A built-in initializer, PyTorch's `nn.init` family.
///
/// Fans follow PyTorch: for a tensor of PyTorch shape `[out, in, k…]`,
/// `fan_in = in·Πk`, `fan_out = out·Πk` (a Linear weight's fans are its `in`/`out` features in
/// either orientation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Init {
    /// `N(mean, std²)` — the book's `normal_(mean=0, std=0.01)`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation (≥ 0).
        std: f64,
    },
    /// `U(low, high)`.
    Uniform {
        /// Lower bound.
        low: f64,
        /// Upper bound (≥ low).
        high: f64,
    },
    /// All zeros.
    Zeros,
    /// All ones.
    Ones,
    /// All equal to the value — the book's `constant_(42)`.
    Constant(f64),
    /// `U(-a, a)`, `a = gain·√(6 / (fan_in + fan_out))` (Glorot).
    XavierUniform {
        /// Gain (1 for linear/sigmoid layers).
        gain: f64,
    },
    /// `N(0, σ²)`, `σ = gain·√(2 / (fan_in + fan_out))`.
    XavierNormal {
        /// Gain.
        gain: f64,
    },
    /// `U(-b, b)`, `b = gain·√(3 / fan_in)` (He; `gain = √2` for ReLU).
    KaimingUniform {
        /// Gain.
        gain: f64,
    },
    /// `N(0, σ²)`, `σ = gain / √fan_in`.
    KaimingNormal {
        /// Gain.
        gain: f64,
    },
    /// PyTorch's `nn.Linear` default: `U(-1/√fan_in, 1/√fan_in)` for the weight and for the
    /// bias (with the layer's `fan_in`).
    TorchLinearDefault,
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl Init {
    fn needs_fans(&self) -> bool {
        matches!(
            self,
            Init::XavierUniform { .. }
                | Init::XavierNormal { .. }
                | Init::KaimingUniform { .. }
                | Init::KaimingNormal { .. }
        )
    }

    /// Checks the arguments: finite numbers, `std ≥ 0`, `low ≤ high`, `gain > 0`.
    ///
    /// # Errors
    /// [`ParamError::InvalidInit`] naming the initializer and the problem.
    pub fn validate(&self) -> Result<(), ParamError> {
        let bad = |reason: &str| {
            Err(ParamError::InvalidInit {
                init: self.to_string(),
                reason: reason.into(),
            })
        };
        let values: Vec<f64> = match *self {
            Init::Normal { mean, std } => vec![mean, std],
            Init::Uniform { low, high } => vec![low, high],
            Init::Constant(v) => vec![v],
            Init::XavierUniform { gain }
            | Init::XavierNormal { gain }
            | Init::KaimingUniform { gain }
            | Init::KaimingNormal { gain } => vec![gain],
            Init::Zeros | Init::Ones | Init::TorchLinearDefault => vec![],
        };
        if values.iter().any(|v| !v.is_finite()) {
            return bad("arguments must be finite (no NaN or infinity)");
        }
        match *self {
            Init::Normal { std, .. } if std < 0.0 => bad("std must be ≥ 0"),
            Init::Uniform { low, high } if low > high => bad("low must be ≤ high"),
            Init::XavierUniform { gain }
            | Init::XavierNormal { gain }
            | Init::KaimingUniform { gain }
            | Init::KaimingNormal { gain }
                if gain <= 0.0 =>
            {
                bad("gain must be > 0")
            }
            _ => Ok(()),
        }
    }

    /// A tensor of Burn shape `shape` drawn from this initializer, given PyTorch fans.
    fn sample<B: Backend>(
        &self,
        shape: &[usize],
        fan_in: usize,
        fan_out: usize,
        device: &B::Device,
    ) -> TensorPrimitive<B> {
        let (fi, fo) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        let uniform = |a: f64| tensor::random(shape, Distribution::Uniform(-a, a), device);
        let normal = |s: f64| tensor::random(shape, Distribution::Normal(0.0, s), device);
        match *self {
            Init::Normal { mean, std } => {
                tensor::random(shape, Distribution::Normal(mean, std), device)
            }
            Init::Uniform { low, high } => {
                tensor::random(shape, Distribution::Uniform(low, high), device)
            }
            Init::Zeros => tensor::full(shape, 0.0, device),
            Init::Ones => tensor::full(shape, 1.0, device),
            Init::Constant(v) => tensor::full(shape, v, device),
            Init::XavierUniform { gain } => uniform(gain * (6.0 / (fi + fo)).sqrt()),
            Init::XavierNormal { gain } => normal(gain * (2.0 / (fi + fo)).sqrt()),
            Init::KaimingUniform { gain } => uniform(gain * (3.0 / fi).sqrt()),
            Init::KaimingNormal { gain } => normal(gain / fi.sqrt()),
            Init::TorchLinearDefault => uniform(1.0 / fi.sqrt()),
        }
    }
}

/// What an initializer selector sees of a parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamInfo {
    /// Dotted key (`2.weight`).
    pub key: String,
    /// Last path segment (`weight`, `bias`).
    pub name: String,
    /// Type of the module holding it (`Linear`), from Burn's container type.
    pub container: String,
    /// Shape in PyTorch's orientation.
    pub shape: Vec<usize>,
    /// PyTorch fan-in (for a bias: its layer's weight fan-in, if any).
    pub fan_in: usize,
    /// PyTorch fan-out.
    pub fan_out: usize,
    /// Whether it is a buffer (batch norm's running statistics), not a parameter.
    pub buffer: bool,
}

fn fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [n] => (*n, *n),
        [out, inp, rest @ ..] => {
            let receptive: usize = rest.iter().product();
            (inp * receptive, out * receptive)
        }
    }
}

/// Replaces `module` by `f(module)` in place (Burn's module methods take `self`).
pub(crate) fn map_in_place<B: Backend, M: Module<B>>(module: &mut M, f: impl FnOnce(M) -> M) {
    let placeholder = module.clone();
    let owned = core::mem::replace(module, placeholder);
    *module = f(owned);
}

/// Replaces parameters of `module` by `f(info, value)` where it returns `Some`; all or nothing.
///
/// `value` and the returned tensor are in Burn's orientation and must keep the shape. A tied
/// parameter is offered once (at its first position) and written once, so the tie holds.
///
/// # Errors
/// The first error `f` returns, or [`ParamError::Shape`] (PyTorch orientation, with the key);
/// `module` is then unchanged.
pub fn replace_params<B: Backend, M: Module<B>>(
    module: &mut M,
    mut f: impl FnMut(&ParamInfo, TensorPrimitive<B>) -> Result<Option<TensorPrimitive<B>>, ParamError>,
) -> Result<usize, ParamError> {
    // Pass 1: compute every new value, so that an error leaves the module untouched.
    let mut plan: HashMap<ParamId, TensorPrimitive<B>> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    let mut layer_fan_in: HashMap<String, usize> = HashMap::new();
    let mut error = None;
    visit_params(&*module, |path, p: ParamSlot<B>| {
        if error.is_some() || !seen.insert(p.id) {
            return;
        }
        let rank = p.value.shape().num_dims();
        let transposed = path.is_torch_transposed(rank);
        let mut shape = p.shape();
        if transposed {
            shape.reverse();
        }
        let (mut fan_in, fan_out) = fans(&shape);
        if path.name() == "weight" {
            layer_fan_in.insert(path.parent().to_owned(), fan_in);
        } else if let Some(layer) = layer_fan_in.get(path.parent()) {
            fan_in = *layer;
        }
        let info = ParamInfo {
            key: path.key().to_owned(),
            name: path.name().to_owned(),
            container: path.container().to_owned(),
            shape,
            fan_in,
            fan_out,
            buffer: p.is_buffer(),
        };
        match f(&info, p.value) {
            Ok(Some(new)) => {
                let mut new_shape = new.shape().to_vec();
                if transposed {
                    new_shape.reverse();
                }
                if new_shape == info.shape {
                    plan.insert(p.id, new);
                } else {
                    error = Some(ParamError::Shape {
                        path: info.key,
                        expected: info.shape,
                        actual: new_shape,
                    });
                }
            }
            Ok(None) => {}
            Err(err) => error = Some(err),
        }
    });
    if let Some(err) = error {
        return Err(err);
    }
    // Pass 2: install the planned values, keeping ids, devices and requires-grad.
    let count = plan.len();
    if count > 0 {
        map_in_place(module, |owned| {
            map_params(owned, |_, p: ParamSlot<B>| {
                let new = plan.remove(&p.id)?;
                let device = tensor::device(&p.value);
                Some(ParamSlot {
                    value: tensor::to_device(new, &device),
                    ..p
                })
            })
        });
    }
    Ok(count)
}

/// Initializes the parameters `select` picks, each with the initializer it returns — the
/// book's `init_normal`, `init_constant`, `xavier` on `net[0]` and `42` on `net[2]`. Works on
/// any Burn module: a whole network, or one layer (`net.child_mut::<Linear<B>>(0)`).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::{LinearConfig, Relu};
/// use d2l_blocks::Sequential;
/// use d2l_params::{Init, Parameters, init_params};
///
/// let device = Default::default();
/// let mut net = Sequential::<NdArray>::new().add(LinearConfig::new(4, 8).init(&device)).add(Relu::new());
/// // "if Linear: weight normal(0, 0.01), bias zeros"
/// init_params(&mut net, |p| match (p.container.as_str(), p.name.as_str()) {
///     ("Linear", "weight") => Some(Init::Normal { mean: 0.0, std: 0.01 }),
///     ("Linear", "bias") => Some(Init::Zeros),
///     _ => None,
/// }).unwrap();
/// assert_eq!(net.param("0.bias").unwrap().data().to_vec::<f32>().unwrap(), vec![0.0; 8]);
/// ```
///
/// # Errors
/// [`ParamError::InvalidInit`] for bad arguments, [`ParamError::InitRank`] for Xavier/Kaiming
/// on a rank-1 parameter; `module` is then unchanged.
pub fn init_params<B: Backend, M: Module<B>>(
    module: &mut M,
    mut select: impl FnMut(&ParamInfo) -> Option<Init>,
) -> Result<usize, ParamError> {
    replace_params(module, |info, value| {
        // PyTorch initializes `net.parameters()`: buffers are not among them.
        if info.buffer {
            return Ok(None);
        }
        let Some(init) = select(info) else {
            return Ok(None);
        };
        init.validate()?;
        if init.needs_fans() && info.shape.len() < 2 {
            return Err(ParamError::InitRank {
                path: info.key.clone(),
                shape: info.shape.clone(),
                init: init.to_string(),
            });
        }
        let device = tensor::device(&value);
        Ok(Some(init.sample(
            &value.shape().to_vec(),
            info.fan_in,
            info.fan_out,
            &device,
        )))
    })
}
