//! Initialization: built-in and custom initializers, per layer or by predicate (D2L §5.2.2).

use core::fmt;
use std::collections::HashMap;

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId, Parameter};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor, TensorMetadata, TensorPrimitive};
use d2l_blocks::{Block, Sequential, Shared};

use crate::ParamError;
use crate::named::PathVisitor;

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
        let bad = |reason: &str| Err(ParamError::InvalidInit { init: self.to_string(), reason: reason.into() });
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
    fn sample<B: Backend, const D: usize>(
        &self,
        shape: [usize; D],
        fan_in: usize,
        fan_out: usize,
        device: &B::Device,
    ) -> Tensor<B, D> {
        let (fi, fo) = (fan_in.max(1) as f64, fan_out.max(1) as f64);
        let uniform = |a: f64| Tensor::random(shape, Distribution::Uniform(-a, a), device);
        let normal = |s: f64| Tensor::random(shape, Distribution::Normal(0.0, s), device);
        match *self {
            Init::Normal { mean, std } => Tensor::random(shape, Distribution::Normal(mean, std), device),
            Init::Uniform { low, high } => Tensor::random(shape, Distribution::Uniform(low, high), device),
            Init::Zeros => Tensor::zeros(shape, device),
            Init::Ones => Tensor::ones(shape, device),
            Init::Constant(v) => Tensor::full(shape, v, device),
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

/// Pass 1: compute every new value (so that errors leave the module untouched).
struct Planner<'f, B: Backend> {
    at: PathVisitor,
    layer_fan_in: HashMap<String, usize>,
    f: &'f mut dyn FnMut(&ParamInfo, TensorPrimitive<B>) -> Result<Option<TensorPrimitive<B>>, ParamError>,
    plan: HashMap<ParamId, TensorPrimitive<B>>,
    error: Option<ParamError>,
}

impl<B: Backend> ModuleVisitor<B> for Planner<'_, B> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.at.enter(name, container_type);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.at.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        if self.error.is_some() || self.plan.contains_key(&param.id) {
            return;
        }
        let value = param.val();
        let transposed = self.at.transposed(D);
        let mut shape = value.dims().to_vec();
        if transposed {
            shape.reverse();
        }
        let (mut fan_in, fan_out) = fans(&shape);
        let parent = self.at.path[..self.at.path.len().saturating_sub(1)].join(".");
        let name = self.at.path.last().cloned().unwrap_or_default();
        if name == "weight" {
            self.layer_fan_in.insert(parent.clone(), fan_in);
        } else if let Some(layer) = self.layer_fan_in.get(&parent) {
            fan_in = *layer;
        }
        let container = self.at.containers.last().map_or("", |c| c.trim_start_matches("Struct:")).to_owned();
        let info = ParamInfo { key: self.at.key(), name, container, shape, fan_in, fan_out };
        match (self.f)(&info, value.into_primitive()) {
            Ok(Some(new)) => {
                let mut new_shape = new.shape().to_vec();
                if transposed {
                    new_shape.reverse();
                }
                if new_shape != info.shape {
                    self.error = Some(ParamError::Shape { path: info.key, expected: info.shape, actual: new_shape });
                } else {
                    self.plan.insert(param.id, new);
                }
            }
            Ok(None) => {}
            Err(err) => self.error = Some(err),
        }
    }
}

/// Pass 2: install the planned values, keeping ids and requires-grad.
struct Installer<B: Backend> {
    plan: HashMap<ParamId, TensorPrimitive<B>>,
}

impl<B: Backend> ModuleMapper<B> for Installer<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let Some(new) = self.plan.remove(&param.id) else { return param };
        let (id, old, mapper) = param.consume();
        let trainable = Parameter::is_require_grad(&old);
        let new = Tensor::<B, D>::from_primitive(new).to_device(&old.device());
        Param::from_mapped_value(id, Parameter::set_require_grad(new.detach(), trainable), mapper)
    }
}

/// Replaces parameters of `module` by `f(info, value)` where it returns `Some`; all or nothing.
///
/// `value` and the returned tensor are in Burn's orientation and must keep the shape.
///
/// # Errors
/// The first error `f` returns, or [`ParamError::Shape`]; `module` is then unchanged.
pub fn replace_params<B: Backend, M: Module<B>>(
    module: &mut M,
    mut f: impl FnMut(&ParamInfo, TensorPrimitive<B>) -> Result<Option<TensorPrimitive<B>>, ParamError>,
) -> Result<usize, ParamError> {
    let mut planner = Planner {
        at: PathVisitor::default(),
        layer_fan_in: HashMap::new(),
        f: &mut f,
        plan: HashMap::new(),
        error: None,
    };
    module.visit(&mut planner);
    if let Some(err) = planner.error {
        return Err(err);
    }
    let count = planner.plan.len();
    if count > 0 {
        let placeholder = module.clone();
        let owned = core::mem::replace(module, placeholder);
        *module = owned.map(&mut Installer { plan: planner.plan });
    }
    Ok(count)
}

fn sample_like<B: Backend>(
    init: &Init,
    info: &ParamInfo,
    value: &TensorPrimitive<B>,
    device: &B::Device,
) -> TensorPrimitive<B> {
    let shape = value.shape().to_vec();
    macro_rules! dispatch {
        ($($d:literal),*) => {
            match shape.len() {
                $($d => {
                    let mut dims = [0usize; $d];
                    dims.copy_from_slice(&shape);
                    init.sample::<B, $d>(dims, info.fan_in, info.fan_out, device).into_primitive()
                })*
                _ => init.sample::<B, 1>([shape.iter().product()], info.fan_in, info.fan_out, device).into_primitive(),
            }
        };
    }
    dispatch!(1, 2, 3, 4, 5, 6)
}

/// Initializes the parameters `select` picks, each with the initializer it returns — the
/// book's `init_normal`, `init_constant`, `xavier` on `net[0]` and `42` on `net[2]`.
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
/// assert_eq!(net.state_dict()["0.bias"].data().to_vec::<f32>().unwrap(), vec![0.0; 8]);
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
        let Some(init) = select(info) else { return Ok(None) };
        init.validate()?;
        if init.needs_fans() && info.shape.len() < 2 {
            return Err(ParamError::InitRank { path: info.key.clone(), shape: info.shape.clone(), init: init.to_string() });
        }
        let device = B::float_device(match &value {
            TensorPrimitive::Float(t) => t,
            TensorPrimitive::QFloat(_) => return Ok(None),
        });
        Ok(Some(sample_like(&init, info, &value, &device)))
    })
}

/// Initializes every parameter of `module` (one layer, e.g. a `Linear` from
/// `net.child_mut::<Linear<B>>(0)`) with the initializer `select` returns for it.
///
/// # Errors
/// As [`init_params`].
pub fn init_module<B: Backend, M: Module<B>>(
    module: &mut M,
    select: impl FnMut(&ParamInfo) -> Option<Init>,
) -> Result<usize, ParamError> {
    init_params(module, select)
}

/// Calls `f` on every block of `net` with its dotted path, children before parents, each
/// shared block once — PyTorch's `net.apply(fn)`. Downcast to act on a type:
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::{Linear, LinearConfig, Relu};
/// use d2l_blocks::Sequential;
/// use d2l_params::{Init, apply, init_module};
///
/// let device = Default::default();
/// let mut net = Sequential::<NdArray>::new().add(LinearConfig::new(4, 8).init(&device)).add(Relu::new());
/// let mut seen = Vec::new();
/// apply(&mut net, |path, block| {
///     seen.push(path.to_owned());
///     if let Some(linear) = block.downcast_mut::<Linear<NdArray>>() {
///         init_module(linear, |_| Some(Init::Ones)).unwrap();
///     }
/// });
/// assert_eq!(seen, ["0", "1"]);
/// ```
pub fn apply<B: Backend>(net: &mut Sequential<B>, mut f: impl FnMut(&str, &mut dyn Block<B>)) {
    let mut seen: Vec<Shared<B>> = Vec::new();
    walk(net, "", &mut f, &mut seen);
}

fn walk<B: Backend>(
    net: &mut Sequential<B>,
    prefix: &str,
    f: &mut dyn FnMut(&str, &mut dyn Block<B>),
    seen: &mut Vec<Shared<B>>,
) {
    let names: Vec<String> = net.iter().map(|(n, _)| n.to_owned()).collect();
    for (i, name) in names.iter().enumerate() {
        let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
        let Some(child) = net.get_mut(i) else { continue };
        if let Some(shared) = child.downcast_ref::<Shared<B>>() {
            if seen.iter().any(|s| s.ptr_eq(shared)) {
                continue;
            }
            let shared = shared.clone();
            seen.push(shared.clone());
            let mut guard = shared.write();
            if let Some(inner) = guard.downcast_mut::<Sequential<B>>() {
                walk(inner, &path, f, seen);
            }
            f(&path, &mut **guard);
            continue;
        }
        if let Some(inner) = child.downcast_mut::<Sequential<B>>() {
            walk(inner, &path, f, seen);
        }
        f(&path, child);
    }
}
