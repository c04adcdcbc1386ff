//! [`LazyLinear`]: a Linear layer whose input width is inferred on the first forward (D2L §5.3).

use std::sync::OnceLock;

use burn::module::{
    AutodiffModule, Content, Devices, Module, ModuleDisplay, ModuleDisplayDefault, ModuleMapper,
    ModuleVisitor,
};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::backend::{AutodiffBackend, Backend};
use d2l_blocks::path::{join, visit_blocks};
use d2l_blocks::{Activation, Block, BlockError, Forward, impl_block};
use d2l_params::{Init, ParamError, Parameters, init_params};

/// PyTorch's `nn.LazyLinear(out_features)`: parameters exist only once the first input shows
/// the input width (D2L §5.3).
///
/// Before the first forward it prints as `LazyLinear(in_features=0, out_features=…)`, has no
/// parameter tensors (see [`parameter_shapes`] for the pending shapes, `-1` for the unknown
/// width) and can be given initializers ([`with_init`](Self::with_init)) that are applied when
/// it materializes. The first forward builds a `Linear(in, out)` on the input's device; from
/// then on it *is* that Linear for names (`weight`, `bias`, PyTorch orientation), gradients,
/// optimizers, tying, devices and records. A later input of another width is a
/// [`BlockError::Width`] naming the layer path and both widths. Concurrent first calls
/// materialize once (`OnceLock`).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::nn::Relu;
/// use burn::tensor::Tensor;
/// use d2l_blocks::{BlockError, Sequential};
/// use d2l_layers::LazyLinear;
///
/// let net = Sequential::<NdArray>::new().add(LazyLinear::new(256)).add(Relu::new()).add(LazyLinear::new(10));
/// assert!(net.to_string().contains("LazyLinear(in_features=0, out_features=256, bias=True)"));
/// let y = net.forward(Tensor::ones([2, 20], &Default::default())).unwrap();
/// assert_eq!(y.dims(), [2, 10]);
/// assert!(net.to_string().contains("Linear(in_features=20, out_features=256, bias=True)"));
/// let err = net.forward(Tensor::<NdArray, 2>::ones([2, 8], &Default::default())).unwrap_err();
/// assert_eq!(err, BlockError::Width { path: "0".into(), expected: 20, actual: vec![2, 8] });
/// ```
#[derive(Debug)]
pub struct LazyLinear<B: Backend> {
    d_output: usize,
    bias: bool,
    weight_init: Option<Init>,
    bias_init: Option<Init>,
    linear: OnceLock<Linear<B>>,
}

impl<B: Backend> Clone for LazyLinear<B> {
    fn clone(&self) -> Self {
        Self {
            linear: self.linear.clone(),
            ..self.same_config()
        }
    }
}

impl<B: Backend> LazyLinear<B> {
    /// A lazy `Linear(?, d_output)` with a bias and PyTorch's default initialization.
    pub fn new(d_output: usize) -> Self {
        Self {
            d_output,
            bias: true,
            weight_init: None,
            bias_init: None,
            linear: OnceLock::new(),
        }
    }

    fn same_config<C: Backend>(&self) -> LazyLinear<C> {
        LazyLinear {
            d_output: self.d_output,
            bias: self.bias,
            weight_init: self.weight_init,
            bias_init: self.bias_init,
            linear: OnceLock::new(),
        }
    }

    /// Without a bias.
    pub fn without_bias(mut self) -> Self {
        self.bias = false;
        self
    }

    /// Initializers applied at materialization (the book's `net.apply(init_normal)` before the
    /// first forward); `None` keeps PyTorch's Linear default.
    ///
    /// # Errors
    /// [`ParamError::InvalidInit`] for bad arguments, [`ParamError::InitRank`] for an
    /// initializer the rank-1 bias cannot take (Xavier, Kaiming).
    pub fn with_init(
        mut self,
        weight: Option<Init>,
        bias: Option<Init>,
    ) -> Result<Self, ParamError> {
        for init in weight.iter().chain(bias.iter()) {
            init.validate()?;
        }
        if let Some(
            init @ (Init::XavierUniform { .. }
            | Init::XavierNormal { .. }
            | Init::KaimingUniform { .. }
            | Init::KaimingNormal { .. }),
        ) = bias
        {
            return Err(ParamError::InitRank {
                path: "bias".into(),
                shape: vec![self.d_output],
                init: init.to_string(),
            });
        }
        if let Some(linear) = self.linear.get_mut() {
            // Already materialized: initialize now.
            init_params(linear, |p| if p.name == "weight" { weight } else { bias })?;
        }
        self.weight_init = weight;
        self.bias_init = bias;
        Ok(self)
    }

    /// The output width.
    pub fn d_output(&self) -> usize {
        self.d_output
    }

    /// Whether the layer has a bias.
    pub fn has_bias(&self) -> bool {
        self.bias
    }

    /// The input width, once known.
    pub fn d_input(&self) -> Option<usize> {
        self.linear.get().map(|l| l.weight.dims()[0])
    }

    /// The materialized layer, if the first forward happened.
    pub fn linear(&self) -> Option<&Linear<B>> {
        self.linear.get()
    }

    /// Mutable access to the materialized layer.
    pub fn linear_mut(&mut self) -> Option<&mut Linear<B>> {
        self.linear.get_mut()
    }

    /// Materializes for inputs of width `d_input` on `device` (what the first forward does).
    ///
    /// # Errors
    /// [`BlockError::Width`] if already materialized with another width,
    /// [`BlockError::InferWidth`] if `d_input` is 0 (an empty last dimension).
    pub fn materialize(
        &self,
        d_input: usize,
        device: &B::Device,
    ) -> Result<&Linear<B>, BlockError> {
        if d_input == 0 {
            return Err(BlockError::InferWidth {
                path: String::new(),
                actual: vec![d_input],
            });
        }
        let linear = self.linear.get_or_init(|| {
            let mut linear = LinearConfig::new(d_input, self.d_output)
                .with_bias(self.bias)
                .init(device);
            if self.weight_init.is_some() || self.bias_init.is_some() {
                // Arguments and ranks were validated in `with_init`, so this cannot fail.
                let _ = init_params(&mut linear, |p| {
                    if p.name == "weight" {
                        self.weight_init
                    } else {
                        self.bias_init
                    }
                });
            }
            linear
        });
        match linear.weight.dims()[0] {
            width if width == d_input => Ok(linear),
            width => Err(BlockError::Width {
                path: String::new(),
                expected: width,
                actual: vec![d_input],
            }),
        }
    }

    fn map_linear(self, f: impl FnOnce(Linear<B>) -> Linear<B>) -> Self {
        let config = self.same_config();
        match self.linear.into_inner() {
            Some(linear) => Self {
                linear: OnceLock::from(f(linear)),
                ..config
            },
            None => config,
        }
    }
}

impl<B: Backend> Forward<B> for LazyLinear<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        if let Some(linear) = self.linear.get() {
            // Steady state: one atomic load, then exactly a Linear.
            return Forward::forward(linear, x);
        }
        let shape = x.shape();
        let d_input = shape.last().copied().unwrap_or(0);
        let linear = self
            .materialize(d_input, &x.device())
            .map_err(|err| match err {
                BlockError::Width { expected, .. } => BlockError::Width {
                    path: String::new(),
                    expected,
                    actual: shape,
                },
                BlockError::InferWidth { .. } => BlockError::InferWidth {
                    path: String::new(),
                    actual: shape,
                },
                other => other,
            })?;
        Forward::forward(linear, x)
    }

    /// Materializes on `device` from the record's `weight` shape (`[in, out]`).
    fn materialize_for(&self, shapes: &[(String, Vec<usize>)], device: &B::Device) {
        if self.linear.get().is_some() {
            return;
        }
        if let Some((_, shape)) = shapes.iter().find(|(k, _)| k == "weight") {
            if let [d_input, d_output] = shape.as_slice() {
                if *d_output == self.d_output {
                    let _ = self.materialize(*d_input, device);
                }
            }
        }
    }

    fn repr(&self) -> String {
        match self.linear.get() {
            Some(linear) => Forward::<B>::repr(linear),
            None => {
                let bias = if self.bias { "True" } else { "False" };
                format!(
                    "LazyLinear(in_features=0, out_features={}, bias={bias})",
                    self.d_output
                )
            }
        }
    }
}
impl_block!(LazyLinear<B>);

impl<B: Backend> Module<B> for LazyLinear<B> {
    type Record = Option<<Linear<B> as Module<B>>::Record>;

    fn collect_devices(&self, devices: Devices<B>) -> Devices<B> {
        match self.linear.get() {
            Some(linear) => linear.collect_devices(devices),
            None => devices,
        }
    }

    fn fork(self, device: &B::Device) -> Self {
        self.map_linear(|l| l.map(&mut d2l_blocks::d2l_device::Relocate::fork(device)))
    }

    fn to_device(self, device: &B::Device) -> Self {
        self.map_linear(|l| l.map(&mut d2l_blocks::d2l_device::Relocate::to(device)))
    }

    fn visit<V: ModuleVisitor<B>>(&self, visitor: &mut V) {
        if let Some(linear) = self.linear.get() {
            linear.visit(visitor);
        }
    }

    fn map<M: ModuleMapper<B>>(self, mapper: &mut M) -> Self {
        self.map_linear(|l| l.map(mapper))
    }

    fn into_record(self) -> Self::Record {
        self.linear.into_inner().map(Module::into_record)
    }

    /// Loads a record; a record for another width than the materialized one is ignored
    /// (strict loading with errors is d2l-io's), an unmaterialized layer materializes from it.
    fn load_record(self, record: Self::Record) -> Self {
        let Some(record) = record else { return self };
        let [d_in, d_out] = record.weight.dims();
        if d_out != self.d_output {
            return self;
        }
        let config = self.same_config();
        let linear = match self.linear.into_inner() {
            Some(linear) if linear.weight.dims() == [d_in, d_out] => linear.load_record(record),
            Some(linear) => linear,
            None => {
                let device = record.weight.device();
                LinearConfig::new(d_in, d_out)
                    .with_bias(record.bias.is_some())
                    .init(&device)
                    .load_record(record)
            }
        };
        Self {
            linear: OnceLock::from(linear),
            ..config
        }
    }
}

impl<B: AutodiffBackend> AutodiffModule<B> for LazyLinear<B> {
    type InnerModule = LazyLinear<B::InnerBackend>;

    fn valid(&self) -> Self::InnerModule {
        let inner = self.same_config();
        match self.linear.get() {
            Some(linear) => LazyLinear {
                linear: OnceLock::from(linear.valid()),
                ..inner
            },
            None => inner,
        }
    }

    fn from_inner(module: Self::InnerModule) -> Self {
        let outer = module.same_config();
        match module.linear.into_inner() {
            Some(linear) => Self {
                linear: OnceLock::from(Linear::from_inner(linear)),
                ..outer
            },
            None => outer,
        }
    }
}

impl<B: Backend> ModuleDisplayDefault for LazyLinear<B> {
    fn content(&self, content: Content) -> Option<Content> {
        Some(content.set_top_level_type("LazyLinear"))
    }
}

impl<B: Backend> ModuleDisplay for LazyLinear<B> {}

/// Parameter shapes of `net` in PyTorch's orientation, with `-1` for a width a lazy layer has
/// not inferred yet (Gluon's `(256, -1)`).
///
/// ```
/// use burn::backend::NdArray;
/// use d2l_blocks::Sequential;
/// use d2l_layers::{LazyLinear, parameter_shapes};
///
/// let net = Sequential::<NdArray>::new().add(LazyLinear::new(256));
/// assert_eq!(parameter_shapes(&net), [("0.weight".to_string(), vec![256, -1]), ("0.bias".to_string(), vec![256])]);
/// ```
pub fn parameter_shapes<B: Backend>(net: &dyn Block<B>) -> Vec<(String, Vec<isize>)> {
    let mut out = Vec::new();
    visit_blocks(net, |path, block| {
        if let Some(lazy) = block
            .downcast_ref::<LazyLinear<B>>()
            .filter(|l| l.linear().is_none())
        {
            let d = lazy.d_output() as isize;
            out.push((join(path, "weight"), vec![d, -1]));
            if lazy.bias {
                out.push((join(path, "bias"), vec![d]));
            }
            return;
        }
        if let Some(pending) = crate::deferred::pending_shapes(block) {
            for (name, shape) in pending {
                out.push((join(path, name), shape));
            }
            return;
        }
        // The block's own parameters: those not under one of its children.
        let children: Vec<String> = block
            .children()
            .iter()
            .map(|(name, _)| name.to_string())
            .collect();
        for p in block.state_dict().iter() {
            let key = p.key();
            let first = key.split(d2l_blocks::path::SEPARATOR).next().unwrap_or(key);
            if !children.iter().any(|c| c == first) {
                let shape = p.shape().into_iter().map(|d| d as isize).collect();
                out.push((join(path, key), shape));
            }
        }
    });
    out
}
