//! CNN training speed against PyTorch in one run: `cargo xtask bench train` runs it after the
//! MLP rows (or `cargo xtask bench cnn [--quick]` alone).
//!
//! The book's LeNet (§7.6) at batch 256 on 1×28×28 — eval forward and SGD train step, as the
//! lazy `Sequential` of `d2l_layers::models::lenet` and as the same layers in a
//! `#[derive(Module)]` struct — and the book's ResNet-18 (§8.6) at batch 8 on 1×64×64, eval
//! forward and train step, on the CPU backends: flex, `tch` (PyTorch's kernels under our
//! blocks) and ndarray (lavapipe runs wgpu on the CPU: not a measurement of a GPU); where a
//! CUDA GPU answers, LeNet and ResNet-18 at the book's batch (128 on 1×96×96) on CUDA against
//! the twin on the same GPU. `--backends cuda` (or any list) picks the rows. Each round
//! runs every backend, then the PyTorch twin (`bench/train_twin.py`, same shapes and threads);
//! medians per round, the median of the rounds reported, with ratios to PyTorch from the same
//! run. Each step reads its loss (or an output) back.

use std::time::{Duration, Instant};

use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Module};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::pool::{AvgPool2d, AvgPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::activation::sigmoid;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, ElementConversion, Int, Tensor};
use d2l_blocks::Sequential;
use d2l_device::backend::{BackendKind, BackendTask, DeviceBackend, run_on};
use d2l_device::timing::median;
use d2l_layers::models::{lenet, resnet};

#[path = "twin.rs"]
mod twin;
use twin::{Twin, chosen_backends, cpu_backends, cuda_if_present, mid, twin_device};

/// LeNet as a plain Burn struct: the same layers, no dynamic dispatch.
#[derive(Module, Debug)]
struct DerivedLeNet<B: Backend> {
    conv1: Conv2d<B>,
    conv2: Conv2d<B>,
    pool: AvgPool2d,
    fc1: Linear<B>,
    fc2: Linear<B>,
    fc3: Linear<B>,
}

impl<B: Backend> DerivedLeNet<B> {
    fn new(device: &B::Device) -> Self {
        Self {
            conv1: Conv2dConfig::new([1, 6], [5, 5])
                .with_padding(PaddingConfig2d::Explicit(2, 2, 2, 2))
                .init(device),
            conv2: Conv2dConfig::new([6, 16], [5, 5]).init(device),
            pool: AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            fc1: LinearConfig::new(400, 120).init(device),
            fc2: LinearConfig::new(120, 84).init(device),
            fc3: LinearConfig::new(84, 10).init(device),
        }
    }

    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 2> {
        let x = self.pool.forward(sigmoid(self.conv1.forward(x)));
        let x = self.pool.forward(sigmoid(self.conv2.forward(x)));
        let x: Tensor<B, 2> = x.flatten(1, 3);
        let x = sigmoid(self.fc1.forward(x));
        let x = sigmoid(self.fc2.forward(x));
        self.fc3.forward(x)
    }
}

/// One case: the twin's key, the model, batch and image size, and whether it trains.
#[derive(Clone, Copy)]
struct Case {
    key: &'static str,
    resnet: bool,
    batch: usize,
    size: usize,
    train: bool,
}

const fn case(key: &'static str, resnet: bool, batch: usize, size: usize, train: bool) -> Case {
    Case {
        key,
        resnet,
        batch,
        size,
        train,
    }
}

/// The CPU rows: the book's LeNet batch, ResNet-18 at a size two cores train in seconds.
const CPU_CASES: [Case; 4] = [
    case("lenet-b256-forward", false, 256, 28, false),
    case("lenet-b256-sgd", false, 256, 28, true),
    case("resnet18-b8-forward", true, 8, 64, false),
    case("resnet18-b8-sgd", true, 8, 64, true),
];

/// The CUDA rows: the same LeNet, ResNet-18 at the book's batch on its 96×96 images.
const GPU_CASES: [Case; 4] = [
    case("lenet-b256-forward", false, 256, 28, false),
    case("lenet-b256-sgd", false, 256, 28, true),
    case("resnet18-b128-forward", true, 128, 96, false),
    case("resnet18-b128-sgd", true, 128, 96, true),
];

/// One timed measurement: `(Sequential, derive)` medians (no derive twin for ResNet).
struct Measure {
    case: Case,
    reps: usize,
    /// Whether to time the derive twin too (`--profile` leaves it out).
    derive: bool,
}

impl BackendTask for Measure {
    type Output = (Duration, Option<Duration>);

    fn run<B: DeviceBackend>(self, device: &B::Device) -> Self::Output {
        B::seed(device, 0);
        let Case {
            resnet: is_resnet,
            batch,
            size,
            train: trains,
            ..
        } = self.case;
        let x =
            Tensor::<Autodiff<B>, 4>::random([batch, 1, size, size], Distribution::Default, device);
        let y = Tensor::<Autodiff<B>, 1, Int>::random(
            [batch],
            Distribution::Uniform(0.0, 10.0),
            device,
        );
        let seq: Sequential<Autodiff<B>> = if is_resnet {
            resnet(&[(2, 64), (2, 128), (2, 256), (2, 512)], 10)
        } else {
            lenet(10)
        };
        seq.forward_tensor::<4, 2>(x.clone()).expect("materialize");
        if !trains {
            // Evaluation: the inner backend, running statistics (PyTorch: eval + no_grad).
            let seq = seq.valid();
            let x = x.clone().inner();
            let dynamic = || {
                let out = seq.forward_tensor::<4, 2>(x.clone()).expect("forward");
                std::hint::black_box(out.into_data());
            };
            if is_resnet || !self.derive {
                return (median(self.reps, dynamic), None);
            }
            // Alternating, so that neither pays for running first (the allocator's first
            // growth, the caches): measured one after the other, the Sequential forward
            // looked 1.13× the derived one with identical kernels.
            let net = DerivedLeNet::<B>::new(device);
            let fixed = || std::hint::black_box(net.forward(x.clone()).into_data());
            let (dynamic, fixed) = interleaved(self.reps, dynamic, fixed);
            return (dynamic, Some(fixed));
        }
        let dynamic = train(
            seq,
            self.reps,
            |n, x| n.forward_tensor::<4, 2>(x).expect("forward"),
            &x,
            &y,
        );
        let fixed = (!is_resnet && self.derive).then(|| {
            train(
                DerivedLeNet::<Autodiff<B>>::new(device),
                self.reps,
                |n, x| n.forward(x),
                &x,
                &y,
            )
        });
        (dynamic, fixed)
    }
}

/// Medians of `reps` runs of `a` and of `b`, alternating after a warm-up run of each.
fn interleaved<A, Z>(
    reps: usize,
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> Z,
) -> (Duration, Duration) {
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    a();
    b();
    for _ in 0..reps.max(1) {
        let start = Instant::now();
        a();
        ta.push(start.elapsed());
        let start = Instant::now();
        b();
        tb.push(start.elapsed());
    }
    (mid(ta), mid(tb))
}

/// The median of `reps` SGD steps of `net`.
fn train<B: AutodiffBackend, M: AutodiffModule<B>>(
    net: M,
    reps: usize,
    forward: impl Fn(&M, Tensor<B, 4>) -> Tensor<B, 2>,
    x: &Tensor<B, 4>,
    y: &Tensor<B, 1, Int>,
) -> Duration {
    let loss_fn = CrossEntropyLossConfig::new().init(&x.device());
    let mut sgd = SgdConfig::new().init();
    let mut slot = Some(net);
    median(reps, || {
        if let Some(net) = slot.take() {
            let loss = loss_fn.forward(forward(&net, x.clone()), y.clone());
            let value: f32 = loss.clone().into_scalar().elem();
            std::hint::black_box(value);
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            slot = Some(sgd.step(0.01, net, grads));
        }
    })
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    // `--profile CASE`: that case's Sequential alone on the first chosen backend, 20 steps —
    // what `perf record` wants to see.
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let key = args.get(i + 1).ok_or("--profile CASE")?;
        let case = *CPU_CASES
            .iter()
            .chain(GPU_CASES.iter())
            .find(|c| c.key == key)
            .ok_or_else(|| format!("unknown case `{key}`"))?;
        let kind = *chosen_backends(cpu_backends())?
            .first()
            .ok_or("no backend")?;
        let reps = 20;
        let (step, _) = run_on(
            kind,
            Measure {
                case,
                reps,
                derive: false,
            },
        )?;
        println!("{key} on {kind}: median {}", ms(step));
        return Ok(());
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 1 } else { 3 };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let backends = chosen_backends([cpu_backends(), cuda_if_present()].concat())?;
    println!(
        "\n| case | backend | Sequential | derive(Module) | PyTorch | Sequential / PyTorch | Sequential / derive |"
    );
    println!("|---|---|---|---|---|---|---|");
    // CPU backends against the twin on the CPU, CUDA against the twin on the GPU.
    for (device, cases) in [("cpu", CPU_CASES), ("cuda", GPU_CASES)] {
        let kinds: Vec<_> = backends
            .iter()
            .copied()
            .filter(|&k| twin_device(k) == Some(device))
            .collect();
        if !kinds.is_empty() {
            let mut twin = Twin::start_reporting(threads, device);
            for case in cases {
                rows(case, &kinds, twin.as_mut(), quick, rounds)?;
            }
        }
    }
    Ok(())
}

/// Times `case` on every backend of `kinds`, then the twin, `rounds` times; prints the rows.
fn rows(
    case: Case,
    kinds: &[BackendKind],
    mut twin: Option<&mut Twin>,
    quick: bool,
    rounds: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let reps = match (quick, case.resnet) {
        (true, _) => 3,
        (false, true) => 5,
        (false, false) => 10,
    };
    // flex runs twice per round: with `d2l_device::kernels` (the default) and with them off
    // (Burn's ops under the same layers), so the kernels' gain is a same-run ratio.
    let variants: Vec<(BackendKind, bool)> = kinds
        .iter()
        .flat_map(|&kind| {
            let off = (kind == BackendKind::Flex).then_some((kind, false));
            std::iter::once((kind, true)).chain(off)
        })
        .collect();
    // Per variant: (Sequential, derive) medians of each round; one twin median per round.
    let mut burn = vec![(Vec::new(), Vec::new()); variants.len()];
    let mut torch = Vec::new();
    for _ in 0..rounds {
        for (&(kind, kernels), (seq, der)) in variants.iter().zip(&mut burn) {
            d2l_device::kernels::set_enabled(kernels);
            let derive = true;
            let (s, d) = run_on(kind, Measure { case, reps, derive })?;
            d2l_device::kernels::set_enabled(true);
            seq.push(s);
            der.extend(d);
        }
        if let Some(t) = twin.as_deref_mut() {
            torch.push(t.time(case.key, reps)?);
        }
    }
    let torch = (!torch.is_empty()).then(|| mid(torch));
    for (&(kind, kernels), (seq, der)) in variants.iter().zip(burn) {
        let (seq, der) = (mid(seq), (!der.is_empty()).then(|| mid(der)));
        let ratio = |a: Duration, b: Option<Duration>| {
            b.map_or("–".into(), |b| {
                format!("{:.2}×", a.as_secs_f64() / b.as_secs_f64())
            })
        };
        let label = if kernels {
            kind.to_string()
        } else {
            format!("{kind}, kernels off")
        };
        println!(
            "| {} | {label} | {} | {} | {} | {} | {} |",
            case.key,
            ms(seq),
            der.map_or("–".into(), ms),
            torch.map_or("–".into(), ms),
            ratio(seq, torch),
            ratio(seq, der),
        );
    }
    Ok(())
}
