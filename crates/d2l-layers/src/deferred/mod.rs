//! [`Lazy`]: any block whose input size is inferred on the first forward — PyTorch's
//! `LazyConv1d`, `LazyConv2d`, `LazyBatchNorm1d`, `LazyBatchNorm2d` (D2L §7–§8 build every
//! CNN from them). One wrapper, one [`Deferred`] spec per layer kind.

mod batch_norm;
mod conv;
mod linear;
mod module;
mod shapes;

use core::fmt;
use std::sync::OnceLock;

use burn::module::{AutodiffModule, Module};
use burn::tensor::backend::{AutodiffBackend, Backend};
use d2l_blocks::{Activation, Block, BlockError, Forward};
use d2l_params::{Init, ParamError, init_params};

pub use batch_norm::BatchNormSpec;
use conv::weight;
pub use conv::{Conv1dSpec, Conv2dSpec};
pub use linear::{LazyLinear, LinearSpec};
pub use shapes::parameter_shapes;

/// What a [`Lazy`] block needs to know about the layer it defers.
pub trait Deferred: Clone + fmt::Debug + Send + Sync + 'static {
    /// The layer once built.
    type Block<B: Backend>: Block<B> + Module<B>;

    /// The size to infer (input channels) from an input shape, if the input's rank fits.
    fn infer(&self, shape: &[usize]) -> Option<usize>;
    /// The inferred size of a built layer.
    fn inferred<B: Backend>(block: &Self::Block<B>) -> usize;
    /// The inferred size from the shapes about to be loaded (keys relative to the layer,
    /// PyTorch's orientation — as state dicts and files hold them; a `Linear` weight is
    /// `[out, in]`), if they fit this spec.
    fn from_shapes(&self, shapes: &[(String, Vec<usize>)]) -> Option<usize>;
    /// The inferred size and device of a record about to be loaded (Burn orientation), if it
    /// fits this spec — so that a record builds the layer, as a first forward does.
    fn from_record<B: Backend>(
        &self,
        record: &<Self::Block<B> as Module<B>>::Record,
    ) -> Option<(usize, B::Device)>;
    /// Builds the layer for `inferred` input channels on `device`.
    fn build<B: Backend>(&self, inferred: usize, device: &B::Device) -> Self::Block<B>;
    /// PyTorch's printout before the shapes are known (`LazyConv2d(0, 6, kernel_size=(5, 5), …)`).
    fn lazy_repr(&self) -> String;
    /// The pending parameter shapes, `-1` where the inferred size goes.
    fn pending_shapes(&self) -> Vec<(&'static str, Vec<isize>)>;
    /// `AutodiffModule::valid` of the built layer.
    fn valid<B: AutodiffBackend>(block: &Self::Block<B>) -> Self::Block<B::InnerBackend>;
    /// `AutodiffModule::from_inner` of the built layer.
    fn from_inner<B: AutodiffBackend>(block: Self::Block<B::InnerBackend>) -> Self::Block<B>;
}

/// A layer whose input channels are inferred from the first input it sees (or from the first
/// file loaded into it), on that input's device; an initializer chosen before is applied then.
/// Before that it has no parameters and prints as PyTorch prints its lazy twin; after, it *is*
/// the layer (same printout, keys, forward). A later input of another channel count is
/// [`BlockError::Channels`] with the layer's path and the input's shape.
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_blocks::Sequential;
/// use d2l_layers::{LazyBatchNorm2d, LazyConv2d};
///
/// let device = Default::default();
/// let net = Sequential::<NdArray>::new()
///     .add(LazyConv2d::new(6, [5, 5]).with_padding([2, 2]))
///     .add(LazyBatchNorm2d::new());
/// assert_eq!(net[0].to_string(), "LazyConv2d(0, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))");
/// net.forward(Tensor::<NdArray, 4>::zeros([2, 1, 28, 28], &device)).unwrap();
/// assert_eq!(net[0].to_string(), "Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1), padding=(2, 2))");
/// let err = net.forward(Tensor::<NdArray, 4>::zeros([2, 3, 28, 28], &device)).unwrap_err();
/// assert_eq!(err.to_string(), "layer `0`: expected 1 input channels, got shape [2, 3, 28, 28]");
/// ```
pub struct Lazy<B: Backend, S: Deferred> {
    spec: S,
    weight_init: Option<Init>,
    bias_init: Option<Init>,
    training: Option<bool>,
    block: OnceLock<S::Block<B>>,
}

/// PyTorch's `LazyConv1d`.
pub type LazyConv1d<B> = Lazy<B, Conv1dSpec>;
/// PyTorch's `LazyConv2d`.
pub type LazyConv2d<B> = Lazy<B, Conv2dSpec>;
/// PyTorch's `LazyBatchNorm1d`.
pub type LazyBatchNorm1d<B> = Lazy<B, BatchNormSpec<1>>;
/// PyTorch's `LazyBatchNorm2d`.
pub type LazyBatchNorm2d<B> = Lazy<B, BatchNormSpec<2>>;

impl<B: Backend, S: Deferred> fmt::Debug for Lazy<B, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lazy")
            .field("spec", &self.spec)
            .field("block", &self.block.get())
            .finish()
    }
}

impl<B: Backend, S: Deferred> Clone for Lazy<B, S> {
    fn clone(&self) -> Self {
        Self {
            block: self.block.clone(),
            ..self.same_config()
        }
    }
}

impl<B: Backend, S: Deferred> Lazy<B, S> {
    /// A lazy layer of `spec`.
    pub fn from_spec(spec: S) -> Self {
        Self {
            spec,
            weight_init: None,
            bias_init: None,
            training: None,
            block: OnceLock::new(),
        }
    }

    fn same_config<C: Backend>(&self) -> Lazy<C, S> {
        Lazy {
            spec: self.spec.clone(),
            weight_init: self.weight_init,
            bias_init: self.bias_init,
            training: self.training,
            block: OnceLock::new(),
        }
    }

    /// The spec (what the layer will be).
    pub fn spec(&self) -> &S {
        &self.spec
    }

    /// Initializers for the weight and the bias, applied when the layer is built (now, if it
    /// is built already) — the book's `init_cnn` chosen before the first forward.
    ///
    /// # Errors
    /// [`ParamError::InvalidInit`] for bad arguments, [`ParamError::InitRank`] for a
    /// fan-based initializer on the bias.
    pub fn with_init(
        mut self,
        weight: Option<Init>,
        bias: Option<Init>,
    ) -> Result<Self, ParamError> {
        self.set_init(weight, bias)?;
        Ok(self)
    }

    /// [`with_init`](Self::with_init) in place (from an `apply` walk).
    ///
    /// # Errors
    /// As `with_init`.
    pub fn set_init(&mut self, weight: Option<Init>, bias: Option<Init>) -> Result<(), ParamError> {
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
                shape: vec![0],
                init: init.to_string(),
            });
        }
        if let Some(block) = self.block.get_mut() {
            init_params(block, |p| select(p, weight, bias))?;
        }
        self.weight_init = weight;
        self.bias_init = bias;
        Ok(())
    }

    /// The inferred input channels, once known.
    pub fn inferred(&self) -> Option<usize> {
        self.block.get().map(S::inferred::<B>)
    }

    /// The built layer, once built.
    pub fn block(&self) -> Option<&S::Block<B>> {
        self.block.get()
    }

    /// The built layer, mutably.
    pub fn block_mut(&mut self) -> Option<&mut S::Block<B>> {
        self.block.get_mut()
    }

    /// Builds the layer for `inferred` input channels (or width) on `device`, if not built
    /// yet — what the first forward does.
    ///
    /// # Errors
    /// [`BlockError::InferWidth`] for zero, [`BlockError::Width`] if it was built for another
    /// size.
    pub fn materialize(
        &self,
        inferred: usize,
        device: &B::Device,
    ) -> Result<&S::Block<B>, BlockError> {
        if inferred == 0 {
            return Err(BlockError::InferWidth {
                path: String::new(),
                actual: vec![inferred],
            });
        }
        let block = self.block.get_or_init(|| {
            let mut block = self.spec.build::<B>(inferred, device);
            if self.weight_init.is_some() || self.bias_init.is_some() {
                // Validated in `set_init`: this cannot fail.
                let _ = init_params(&mut block, |p| select(p, self.weight_init, self.bias_init));
            }
            if let Some(training) = self.training {
                block.set_training(training);
            }
            block
        });
        match S::inferred::<B>(block) {
            built if built == inferred => Ok(block),
            built => Err(BlockError::Width {
                path: String::new(),
                expected: built,
                actual: vec![inferred],
            }),
        }
    }

    fn map_block(self, f: impl FnOnce(S::Block<B>) -> S::Block<B>) -> Self {
        let config = self.same_config();
        match self.block.into_inner() {
            Some(block) => Self {
                block: OnceLock::from(f(block)),
                ..config
            },
            None => config,
        }
    }
}

/// The initializer for a parameter of a lazy layer: `weight` or `bias`; buffers keep theirs.
fn select(p: &d2l_params::ParamInfo, weight: Option<Init>, bias: Option<Init>) -> Option<Init> {
    match p.name.as_str() {
        "weight" => weight,
        "bias" => bias,
        _ => None,
    }
}

impl<B: Backend, S: Deferred> Forward<B> for Lazy<B, S> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        if let Some(block) = self.block.get() {
            return block.forward(x);
        }
        let shape = x.shape();
        let Some(inferred) = self.spec.infer(&shape) else {
            return Err(BlockError::InferWidth {
                path: String::new(),
                actual: shape,
            });
        };
        let block = self
            .materialize(inferred, &x.device())
            .map_err(|err| match err {
                BlockError::Width { expected, .. } => BlockError::Width {
                    path: String::new(),
                    expected,
                    actual: shape,
                },
                _ => BlockError::InferWidth {
                    path: String::new(),
                    actual: shape,
                },
            })?;
        block.forward(x)
    }

    /// A record's shapes (Burn's orientation) turned into PyTorch's by this layer's own
    /// pending shapes, then [`Deferred::from_shapes`].
    fn materialize_for(&self, shapes: &[(String, Vec<usize>)], device: &B::Device) {
        if self.block.get().is_none() {
            let shapes = torch_orientation(&self.spec.pending_shapes(), shapes);
            if let Some(inferred) = self.spec.from_shapes(&shapes) {
                let _ = self.materialize(inferred, device);
            }
        }
    }

    fn pending_shapes(&self) -> Option<Vec<(String, Vec<isize>)>> {
        self.block.get().is_none().then(|| {
            self.spec
                .pending_shapes()
                .into_iter()
                .map(|(name, shape)| (name.to_owned(), shape))
                .collect()
        })
    }

    fn set_training(&mut self, training: bool) {
        // Kept, so that a layer built later starts in this mode.
        if let Some(block) = self.block.get_mut() {
            block.set_training(training);
        }
        self.training = Some(training);
    }

    fn mode(&self) -> Option<bool> {
        self.training
    }

    fn repr(&self) -> String {
        match self.block.get() {
            Some(block) => block.repr(),
            None => self.spec.lazy_repr(),
        }
    }
}

impl<B: Backend, S: Deferred> Block<B> for Lazy<B, S> {
    d2l_blocks::__block_methods!(
        B,
        Lazy<B, S>,
        |inner| <Lazy<B, S> as AutodiffModule<B>>::from_inner(inner),
        Lazy<<B as AutodiffBackend>::InnerBackend, S>
    );
}

/// Burn-orientation shapes (a record's) in PyTorch's orientation: a shape is reversed where
/// only its reverse fits the layer's own pending shape of that key (`-1` fits any size) — the
/// layer says which of its parameters are stored transposed; nothing is guessed from names.
fn torch_orientation(
    pending: &[(&str, Vec<isize>)],
    shapes: &[(String, Vec<usize>)],
) -> Vec<(String, Vec<usize>)> {
    let fits = |key: &str, shape: &[usize]| {
        pending.iter().any(|(k, p)| {
            *k == key
                && p.len() == shape.len()
                && p.iter().zip(shape).all(|(&p, &s)| p < 0 || p as usize == s)
        })
    };
    shapes
        .iter()
        .map(|(key, shape)| {
            let reversed: Vec<usize> = shape.iter().rev().copied().collect();
            let shape = if !fits(key, shape) && fits(key, &reversed) {
                reversed
            } else {
                shape.clone()
            };
            (key.clone(), shape)
        })
        .collect()
}
