//! The blocks and networks of D2L §5.1–§5.2, and the §5.1 exercises: one home for the book's
//! networks, used by tests, benchmarks and examples alike.
//!
//! PyTorch's lazy layers are replaced by eager ones with the book's widths (inputs of width 20);
//! `d2l-layers` brings `LazyLinear` back.

use burn::module::Module;
use burn::nn::{Initializer, Linear, LinearConfig, Relu};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, ElementConversion, Tensor};

use crate::{
    Activation, Block, BlockError, Forward, Sequential, Shared, children, impl_block, tensor, tree,
};

/// `tree(name, children)` with each child's own repr.
fn tree_of<B: Backend>(name: &str, children: Vec<(&str, &dyn Block<B>)>) -> String {
    tree(name, children.into_iter().map(|(n, c)| (n, c.repr())))
}

fn call<B: Backend>(
    name: &str,
    block: &impl Forward<B>,
    x: Activation<B>,
) -> Result<Activation<B>, BlockError> {
    block.forward(x).map_err(|e| e.within(name))
}

// ANCHOR: mlp_def
/// The book's `MLP` (§5.1.1): `Linear(20, 256)` → ReLU → `Linear(256, 10)`.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    /// The hidden layer, 20 → 256.
    pub hidden: Linear<B>,
    /// The output layer, 256 → 10.
    pub output: Linear<B>,
}

impl<B: Backend> Mlp<B> {
    /// A new MLP with Burn's default (PyTorch-like) initialization.
    pub fn new(device: &B::Device) -> Self {
        Self {
            hidden: LinearConfig::new(20, 256).init(device),
            output: LinearConfig::new(256, 10).init(device),
        }
    }
}

impl<B: Backend> Forward<B> for Mlp<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let h = call("hidden", &self.hidden, x)?;
        let h = Forward::<B>::forward(&Relu::new(), h)?;
        call("output", &self.output, h)
    }

    fn repr(&self) -> String {
        tree_of("MLP", self.children())
    }

    children!(B; hidden, output);
}
impl_block!(Mlp<B>);
// ANCHOR_END: mlp_def

// ANCHOR: my_sequential_def
/// The book's hand-written `MySequential` (§5.1.2): children kept in an ordered list and run
/// in turn — the mechanism [`Sequential`] packages.
///
/// It is a plain container of `Box<dyn Block>`: it runs, but it is *not* a Burn `Module`
/// (it has no `Module` impl, so it cannot be handed to an optimizer or a recorder at all).
/// That is the answer to the exercise "what goes wrong if children are kept in a plain list":
/// in PyTorch a Python list hides them from `parameters()`; in Burn a list of trait objects
/// cannot even be a module field — [`Sequential`] is that list made a module.
#[derive(Debug, Default)]
pub struct MySequential<B: Backend> {
    /// The children, in order.
    pub modules: Vec<Box<dyn Block<B>>>,
}

impl<B: Backend> MySequential<B> {
    /// A new, empty chain.
    pub fn new() -> Self {
        Self {
            modules: Vec::new(),
        }
    }

    /// Appends a block.
    pub fn add(mut self, block: impl Block<B>) -> Self {
        self.modules.push(Box::new(block));
        self
    }

    /// Runs the children in order.
    ///
    /// # Errors
    /// The first failing child's error, with its index as path.
    pub fn forward(&self, x: impl Into<Activation<B>>) -> Result<Activation<B>, BlockError> {
        self.modules
            .iter()
            .enumerate()
            .try_fold(x.into(), |x, (i, m)| {
                m.forward(x).map_err(|e| e.within(&i.to_string()))
            })
    }

    /// Parameters the children hold, counted by hand (each child's `num_params`).
    pub fn held_params(&self) -> usize {
        self.modules.iter().map(|m| m.num_params_erased()).sum()
    }
}
// ANCHOR_END: my_sequential_def

// ANCHOR: fixed_hidden_def
/// The book's `FixedHiddenMLP` (§5.1.3): a constant random weight that is never trained, the
/// same `Linear` applied twice, a data-dependent `while` loop, and a scalar result.
///
/// `y = sum(halve_until(|·|₁ ≤ 1)(L(relu(L(x) W + 1))))`, with `W ~ U(0, 1)` of shape
/// `[20, 20]` and `L = Linear(20, 20)`.
///
/// # Shapes
/// `[batch, 20]` → `[1]` (Burn has no rank-0 tensors; a scalar is a one-element vector).
#[derive(Module, Debug)]
pub struct FixedHiddenMlp<B: Backend> {
    /// The constant weight: a plain tensor field is a constant to Burn, not a parameter.
    pub rand_weight: Tensor<B, 2>,
    /// The one trained layer, applied twice.
    pub linear: Linear<B>,
}

impl<B: Backend> FixedHiddenMlp<B> {
    /// A new block; `rand_weight` is drawn from U(0, 1).
    pub fn new(device: &B::Device) -> Self {
        Self {
            rand_weight: Tensor::random([20, 20], Distribution::Uniform(0.0, 1.0), device),
            linear: LinearConfig::new(20, 20).init(device),
        }
    }
}

impl<B: Backend> Forward<B> for FixedHiddenMlp<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let x = call("linear", &self.linear, x)?.into_tensor::<2>()?;
        if x.shape().num_elements() == 0 {
            // An empty batch: the sum over nothing is 0 (as in PyTorch).
            return Ok(Tensor::<B, 1>::zeros([1], &x.device()).into());
        }
        let x = crate::tensor::relu(x.matmul(self.rand_weight.clone()) + 1.0);
        let mut x = call("linear", &self.linear, x.into())?.into_tensor::<2>()?;
        // Control flow on data: the loop condition is read back from the device. Halving
        // ends for every finite norm; NaN or infinity would never get to 1 (PyTorch loops
        // forever on an infinite norm), so they are an error.
        loop {
            let norm = x.clone().abs().sum().into_scalar().elem::<f64>();
            if !norm.is_finite() {
                return Err(BlockError::NonFinite {
                    path: String::new(),
                    what: format!("the L1 norm ({norm})"),
                });
            }
            if norm <= 1.0 {
                break;
            }
            x = x / 2.0;
        }
        Ok(x.sum().into())
    }

    fn repr(&self) -> String {
        tree_of("FixedHiddenMLP", self.children())
    }

    children!(B; linear);
}
impl_block!(FixedHiddenMlp<B>);
// ANCHOR_END: fixed_hidden_def

// ANCHOR: nest_mlp_def
/// The book's `NestMLP` (§5.1.3): a `Sequential` inside a custom block.
///
/// `Sequential(Linear(20, 64), ReLU, Linear(64, 32), ReLU)` → `Linear(32, 16)`.
#[derive(Module, Debug)]
pub struct NestMlp<B: Backend> {
    /// The nested chain.
    pub net: Sequential<B>,
    /// The output layer.
    pub linear: Linear<B>,
}

impl<B: Backend> Forward<B> for NestMlp<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let x = call("net", &self.net, x)?;
        call("linear", &self.linear, x)
    }

    fn repr(&self) -> String {
        tree_of("NestMLP", self.children())
    }

    children!(B; net, linear);
}
impl<B: Backend> NestMlp<B> {
    /// A new block with Burn's default initialization.
    pub fn new(device: &B::Device) -> Self {
        Self {
            net: Sequential::new()
                .add(LinearConfig::new(20, 64).init(device))
                .add(Relu::new())
                .add(LinearConfig::new(64, 32).init(device))
                .add(Relu::new()),
            linear: LinearConfig::new(32, 16).init(device),
        }
    }
}

impl_block!(NestMlp<B>);
// ANCHOR_END: nest_mlp_def

/// The book's `chimera` (§5.1.3): `Sequential(NestMLP, Linear(16, 20), FixedHiddenMLP)`.
///
/// # Shapes
/// `[batch, 20]` → `[1]`.
pub fn chimera<B: Backend>(device: &B::Device) -> Sequential<B> {
    Sequential::new()
        .add(NestMlp::new(device))
        .add(LinearConfig::new(16, 20).init(device))
        .add(FixedHiddenMlp::new(device))
}

/// Exercise §5.1.2: two blocks run on the same input, outputs concatenated on the last axis.
///
/// # Shapes
/// `[…, n]` → `[…, a + b]` where the branches give `[…, a]` and `[…, b]`.
#[derive(Module, Debug)]
pub struct ParallelBlock<B: Backend> {
    /// The first branch.
    pub net1: Sequential<B>,
    /// The second branch.
    pub net2: Sequential<B>,
}

impl<B: Backend> ParallelBlock<B> {
    /// Runs `net1` and `net2` side by side.
    pub fn new(net1: impl Block<B>, net2: impl Block<B>) -> Self {
        Self {
            net1: Sequential::new().add(net1),
            net2: Sequential::new().add(net2),
        }
    }
}

impl<B: Backend> Forward<B> for ParallelBlock<B> {
    fn forward(&self, x: Activation<B>) -> Result<Activation<B>, BlockError> {
        let a = call("net1", &self.net1, x.clone())?;
        let b = call("net2", &self.net2, x)?;
        let (sa, sb) = (a.shape(), b.shape());
        if sa.is_empty() || sa.len() != sb.len() || sa[..sa.len() - 1] != sb[..sb.len() - 1] {
            return Err(BlockError::Custom {
                path: String::new(),
                message: format!("branch outputs {sa:?} and {sb:?} cannot be concatenated"),
            });
        }
        let (a, b) = (a.into_primitive(), b.into_primitive());
        Ok(Activation::from_primitive(tensor::cat(a, b, sa.len() - 1)))
    }

    fn repr(&self) -> String {
        let first = |s: &Sequential<B>| s.get(0).map(|b| b.repr()).unwrap_or_default();
        tree(
            "ParallelBlock",
            [("net1", first(&self.net1)), ("net2", first(&self.net2))],
        )
    }

    children!(B; net1, net2);
}
impl_block!(ParallelBlock<B>);

/// Exercise §5.1.3: a chain of `n` *independent* instances built by `make(i)`.
///
/// `make` is called `n` times: each instance gets its own parameters (in Burn 0.21, cloning a
/// freshly initialized layer before first use gives the same ids, so never clone here).
pub fn stack<B: Backend, T: Block<B>>(n: usize, mut make: impl FnMut(usize) -> T) -> Sequential<B> {
    (0..n).fold(Sequential::new(), |net, i| net.add(make(i)))
}

/// The book's `block1()` (§5.2.1): `Linear(4, 8)` → ReLU → `Linear(8, 4)` → ReLU.
pub fn block1<B: Backend>(device: &B::Device) -> Sequential<B> {
    Sequential::new()
        .add(LinearConfig::new(4, 8).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(8, 4).init(device))
        .add(Relu::new())
}

/// The book's `block2()` (§5.2.1): `blocks` copies of [`block1`] named `"block 0"`, `"block 1"`,
/// … (the book uses 4).
pub fn block2<B: Backend>(blocks: usize, device: &B::Device) -> Sequential<B> {
    let mut net = Sequential::new();
    for i in 0..blocks {
        // `block {i}` names are distinct, free of the separator and the blocks' ranks supported.
        if let Ok(next) = net.clone().add_named(format!("block {i}"), block1(device)) {
            net = next;
        }
    }
    net
}

/// The book's `rgnet = nn.Sequential(block2(), nn.Linear(4, 1))` (§5.2.1).
///
/// ```
/// use burn::backend::NdArray;
/// use d2l_blocks::book::rgnet;
///
/// let net = rgnet::<NdArray>(4, &Default::default());
/// assert_eq!(net[0][1][0].to_string(), "Linear(in_features=4, out_features=8, bias=True)");
/// ```
pub fn rgnet<B: Backend>(blocks: usize, device: &B::Device) -> Sequential<B> {
    Sequential::new()
        .add(block2(blocks, device))
        .add(LinearConfig::new(4, 1).init(device))
}

/// The book's tied network (§5.2.3): `Sequential(Linear(4, 8), ReLU, shared, ReLU, shared,
/// ReLU, Linear(8, 1))` with `shared = Linear(8, 8)`, and the shared block.
pub fn tied<B: Backend>(device: &B::Device) -> (Sequential<B>, Shared<B>) {
    let shared = Shared::new(LinearConfig::new(8, 8).init::<B>(device));
    let net = Sequential::new()
        .add(LinearConfig::new(4, 8).init(device))
        .add(Relu::new())
        .add(shared.clone())
        .add(Relu::new())
        .add(shared.clone())
        .add(Relu::new())
        .add(LinearConfig::new(8, 1).init(device));
    (net, shared)
}

/// A `Linear(d_in, d_out)` whose every weight and bias equals `value`: a layer whose outputs a
/// reader can compute by hand (tests, doc examples).
///
/// ```
/// use burn::backend::NdArray;
/// use burn::tensor::Tensor;
/// use d2l_blocks::Sequential;
/// use d2l_blocks::book::constant_linear;
///
/// let device = Default::default();
/// let net = Sequential::<NdArray>::new().add(constant_linear(2, 1, 1.0, &device));
/// // 1·1 + 1·1 + 1 = 3
/// let y = net.forward(Tensor::<NdArray, 2>::ones([1, 2], &device)).unwrap();
/// assert_eq!(y.into_data().to_vec::<f32>().unwrap(), vec![3.0]);
/// ```
pub fn constant_linear<B: Backend>(
    d_in: usize,
    d_out: usize,
    value: f64,
    device: &B::Device,
) -> Linear<B> {
    LinearConfig::new(d_in, d_out)
        .with_initializer(Initializer::Constant { value })
        .init(device)
}
