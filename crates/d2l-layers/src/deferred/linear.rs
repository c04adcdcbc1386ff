//! [`LinearSpec`]: what a [`LazyLinear`] will be — PyTorch's `LazyLinear(out_features)`.

use burn::module::{AutodiffModule, Module};
use burn::nn::{Linear, LinearConfig};
use burn::tensor::backend::{AutodiffBackend, Backend};

use serde::{Deserialize, Serialize};

use super::{Deferred, Lazy, weight};

/// PyTorch's `nn.LazyLinear(out_features)`: parameters exist only once the first input shows
/// the input width (D2L §5.3).
///
/// Before the first forward it prints as `LazyLinear(in_features=0, out_features=…)`, has no
/// parameter tensors (see [`parameter_shapes`](crate::parameter_shapes) for the pending
/// shapes, `-1` for the unknown width) and can be given initializers
/// ([`with_init`](Lazy::with_init)) that are applied when it materializes. The first forward
/// (or a record or state loaded into it) builds a `Linear(in, out)` on the input's device; from
/// then on it *is* that Linear for names (`weight`, `bias`, PyTorch orientation), gradients,
/// optimizers, tying, devices and records. A later input of another width is a
/// [`BlockError::Width`](d2l_blocks::BlockError::Width) naming the layer path and both widths.
/// Concurrent first calls materialize once.
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
pub type LazyLinear<B> = Lazy<B, LinearSpec>;

/// What a [`LazyLinear`] will be: `Linear(?, out_features, bias)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinearSpec {
    d_output: usize,
    bias: bool,
}

impl Deferred for LinearSpec {
    type Block<B: Backend> = Linear<B>;

    /// The last dimension, at any rank (a zero width cannot be inferred).
    fn infer(&self, shape: &[usize]) -> Option<usize> {
        shape.last().copied().filter(|&d| d > 0)
    }

    fn inferred<B: Backend>(block: &Linear<B>) -> usize {
        block.weight.dims()[0]
    }

    /// PyTorch's orientation: the weight is `[out, in]`.
    fn from_shapes(&self, shapes: &[(String, Vec<usize>)]) -> Option<usize> {
        match weight(shapes)? {
            &[d_output, d_input] if d_output == self.d_output => Some(d_input),
            _ => None,
        }
    }

    fn from_record<B: Backend>(
        &self,
        record: &<Linear<B> as Module<B>>::Record,
    ) -> Option<(usize, B::Device)> {
        let [d_input, d_output] = record.weight.dims();
        (d_output == self.d_output && record.bias.is_some() == self.bias)
            .then(|| (d_input, record.weight.device()))
    }

    fn build<B: Backend>(&self, inferred: usize, device: &B::Device) -> Linear<B> {
        LinearConfig::new(inferred, self.d_output)
            .with_bias(self.bias)
            .init(device)
    }

    fn lazy_repr(&self) -> String {
        let bias = if self.bias { "True" } else { "False" };
        format!(
            "LazyLinear(in_features=0, out_features={}, bias={bias})",
            self.d_output
        )
    }

    fn pending_shapes(&self) -> Vec<(&'static str, Vec<isize>)> {
        let out = self.d_output as isize;
        let mut shapes = vec![("weight", vec![out, -1])];
        if self.bias {
            shapes.push(("bias", vec![out]));
        }
        shapes
    }

    fn valid<B: AutodiffBackend>(block: &Linear<B>) -> Linear<B::InnerBackend> {
        block.valid()
    }

    fn from_inner<B: AutodiffBackend>(block: Linear<B::InnerBackend>) -> Linear<B> {
        Linear::from_inner(block)
    }
}

impl<B: Backend> Lazy<B, LinearSpec> {
    /// A lazy `Linear(?, d_output)` with a bias and PyTorch's default initialization.
    pub fn new(d_output: usize) -> Self {
        Self::from_spec(LinearSpec {
            d_output,
            bias: true,
        })
    }

    /// Without a bias.
    pub fn without_bias(mut self) -> Self {
        self.spec.bias = false;
        self
    }

    /// The output width.
    pub fn d_output(&self) -> usize {
        self.spec.d_output
    }

    /// Whether the layer has a bias.
    pub fn has_bias(&self) -> bool {
        self.spec.bias
    }

    /// The input width, once known.
    pub fn d_input(&self) -> Option<usize> {
        self.inferred()
    }

    /// The materialized layer, if the first forward happened.
    pub fn linear(&self) -> Option<&Linear<B>> {
        self.block()
    }

    /// Mutable access to the materialized layer.
    pub fn linear_mut(&mut self) -> Option<&mut Linear<B>> {
        self.block_mut()
    }
}
