//! Training speed against PyTorch in one run: `cargo xtask bench train [--quick]`.
//!
//! The chapter's networks — MLP 20→256→10 at batch 2 and 256, and 784→256→256→10 at batch 256
//! — forward, and the full train step (forward, cross-entropy, backward, optimizer update) with
//! SGD and with Adam; each as a dynamic `Sequential` and as a `#[derive(Module)]` struct, on
//! every compiled backend (`tch` among them where torch 2.9.0 is installed: PyTorch's kernels
//! under our blocks). Where `python3 -c "import torch"` works, the PyTorch twin
//! (`bench/train_twin.py`, same shapes, same thread count) runs as a server beside this
//! program (a second one on the GPU for the CUDA rows, where CUDA runs); each case is timed in
//! rounds that run every backend and then PyTorch, so all of them see the same machine;
//! `--backends cuda` (or any list) picks the rows. Also: matmul at the step's shapes (with the transposed operands of backward),
//! and the peak resident memory of a training run (a child process each).
//!
//! Every timed step reads the loss (or the output) back to the host, as a training loop that
//! logs its loss does, which also synchronizes GPU backends. Table on stdout, plot in
//! `target/bench/train.svg`. `--quick` runs fewer repetitions; `--only <backend> <case> [reps]`
//! runs one case (2000 times by default; for `perf record`).

use std::process::Command;
use std::time::Duration;

use burn::backend::Autodiff;
use burn::module::{AutodiffModule, Module};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::optim::{AdamConfig, GradientsParams, Optimizer, SgdConfig};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Distribution, Int, Tensor};
use d2l_blocks::Sequential;
use d2l_device::backend::{BackendKind, BackendTask, DeviceBackend, run_on};
use d2l_device::timing::median;
use indicatif::{ProgressBar, ProgressStyle};

#[path = "twin.rs"]
mod twin;
use twin::{Twin, chosen_backends, cuda_if_present, mid, twin_device};

/// The chapter's MLP as a struct: `Linear`, ReLU, …, `Linear`.
#[derive(Module, Debug)]
struct DerivedMlp<B: Backend> {
    layers: Vec<Linear<B>>,
}

impl<B: Backend> DerivedMlp<B> {
    fn forward(&self, mut x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = burn::tensor::activation::relu(x);
            }
        }
        x
    }
}

/// The same layers as a `Sequential` and as a struct.
fn nets<B: Backend>(widths: &[usize], device: &B::Device) -> (Sequential<B>, DerivedMlp<B>) {
    let layers: Vec<Linear<B>> = widths
        .windows(2)
        .map(|w| LinearConfig::new(w[0], w[1]).init(device))
        .collect();
    let mut seq = Sequential::new();
    for (i, layer) in layers.iter().enumerate() {
        if i > 0 {
            seq = seq.add(Relu::new());
        }
        seq = seq.add(layer.clone());
    }
    (seq, DerivedMlp { layers })
}

/// One benchmark case: a network, a batch size and what is timed.
#[derive(Clone, Copy)]
struct Case {
    /// The key the PyTorch twin knows it by.
    key: &'static str,
    widths: &'static [usize],
    batch: usize,
    step: Step,
}

#[derive(Clone, Copy, PartialEq)]
enum Step {
    Forward,
    Sgd,
    Adam,
}

const SMALL: &[usize] = &[20, 256, 10];
const MNIST: &[usize] = &[784, 256, 256, 10];

const CASES: [Case; 7] = [
    Case {
        key: "small-b2-forward",
        widths: SMALL,
        batch: 2,
        step: Step::Forward,
    },
    Case {
        key: "small-b2-sgd",
        widths: SMALL,
        batch: 2,
        step: Step::Sgd,
    },
    Case {
        key: "small-b256-forward",
        widths: SMALL,
        batch: 256,
        step: Step::Forward,
    },
    Case {
        key: "small-b256-sgd",
        widths: SMALL,
        batch: 256,
        step: Step::Sgd,
    },
    Case {
        key: "mnist-b256-forward",
        widths: MNIST,
        batch: 256,
        step: Step::Forward,
    },
    Case {
        key: "mnist-b256-sgd",
        widths: MNIST,
        batch: 256,
        step: Step::Sgd,
    },
    Case {
        key: "mnist-b256-adam",
        widths: MNIST,
        batch: 256,
        step: Step::Adam,
    },
];

/// Matmuls of the 784-256-256-10 step at batch 256: `(key, m, k, n, transposed operand)`.
const MATMULS: [(&str, usize, usize, usize, &str); 3] = [
    ("matmul-fwd", 256, 784, 256, "x·W"),
    ("matmul-dx", 256, 256, 784, "dY·Wᵀ"),
    ("matmul-dw", 784, 256, 256, "Xᵀ·dY"),
];

impl Case {
    fn label(&self) -> String {
        let net = self
            .widths
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join("-");
        let what = match self.step {
            Step::Forward => "forward",
            Step::Sgd => "train step, SGD",
            Step::Adam => "train step, Adam",
        };
        format!("{net}, batch {}, {what}", self.batch)
    }
}

/// One timed measurement of a Burn case.
struct Measure {
    case: Case,
    reps: usize,
}

/// `(Sequential, derive)` medians for a case.
impl BackendTask for Measure {
    type Output = (Duration, Duration);

    fn run<B: DeviceBackend>(self, device: &B::Device) -> (Duration, Duration) {
        B::seed(device, 0);
        let Case {
            widths,
            batch,
            step,
            ..
        } = self.case;
        if step == Step::Forward {
            let (seq, derived) = nets::<B>(widths, device);
            let x = Tensor::<B, 2>::random([batch, widths[0]], Distribution::Default, device);
            let dynamic = median(self.reps, || {
                let y = seq.forward(x.clone()).expect("forward");
                std::hint::black_box(y.into_data());
            });
            let fixed = median(self.reps, || {
                std::hint::black_box(derived.forward(x.clone()).into_data());
            });
            return (dynamic, fixed);
        }
        let (seq, derived) = nets::<Autodiff<B>>(widths, device);
        let classes = *widths.last().expect("widths");
        let x = Tensor::<Autodiff<B>, 2>::random([batch, widths[0]], Distribution::Default, device);
        let y = Tensor::<Autodiff<B>, 1, Int>::random(
            [batch],
            Distribution::Uniform(0.0, classes as f64),
            device,
        );
        let dynamic = train(
            seq,
            self.reps,
            step,
            |net, x| net.forward(x).expect("forward"),
            &x,
            &y,
        );
        let fixed = train(derived, self.reps, step, |net, x| net.forward(x), &x, &y);
        (dynamic, fixed)
    }
}

/// The median of `reps` train steps of `net` (warmed up by a few first).
fn train<B: AutodiffBackend, M: AutodiffModule<B>>(
    mut net: M,
    reps: usize,
    step: Step,
    forward: impl Fn(&M, Tensor<B, 2>) -> Tensor<B, 2>,
    x: &Tensor<B, 2>,
    y: &Tensor<B, 1, Int>,
) -> Duration {
    let device = x.device();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut sgd = SgdConfig::new().init();
    let mut adam = AdamConfig::new().init();
    let mut one = |net: M| -> M {
        let loss = loss_fn.forward(forward(&net, x.clone()), y.clone());
        let value: f32 = loss.clone().into_scalar().elem();
        std::hint::black_box(value);
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        match step {
            Step::Adam => adam.step(0.01, net, grads),
            _ => sgd.step(0.01, net, grads),
        }
    };
    let mut slot = Some(net);
    let time = median(reps, || {
        if let Some(current) = slot.take() {
            slot = Some(one(current));
        }
    });
    net = slot.expect("the network");
    std::hint::black_box(net);
    time
}

use burn::tensor::ElementConversion;

/// Burn's matmul at one of [`MATMULS`]'s shapes, the transposed operand a transposed view (as
/// autodiff's backward produces it).
struct MatmulCase {
    index: usize,
    reps: usize,
}

impl BackendTask for MatmulCase {
    type Output = Duration;

    fn run<B: DeviceBackend>(self, device: &B::Device) -> Duration {
        let (key, m, k, n, _) = MATMULS[self.index];
        let random =
            |shape: [usize; 2]| Tensor::<B, 2>::random(shape, Distribution::Default, device);
        let (a, b) = match key {
            "matmul-dx" => (random([m, k]), random([n, k]).transpose()),
            "matmul-dw" => (random([k, m]).transpose(), random([k, n])),
            _ => (random([m, k]), random([k, n])),
        };
        median(self.reps, || {
            std::hint::black_box(a.clone().matmul(b.clone()).into_data());
        })
    }
}

/// Peak resident memory of 50 SGD steps of the 784-256-256-10 `Sequential` at batch 256, run in
/// this (child) process; printed for the parent.
struct RssRun;

impl BackendTask for RssRun {
    type Output = ();

    fn run<B: DeviceBackend>(self, device: &B::Device) {
        let case = CASES[5];
        let _ = Measure { case, reps: 50 }.run::<B>(device);
    }
}

/// `VmHWM` of this process in MB.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Peak RSS of a training run on `kind`, from a child process.
fn child_rss(kind: BackendKind) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let out = Command::new(exe)
        .args(["--rss-child", kind.name()])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

struct Row {
    label: String,
    backend: BackendKind,
    sequential: Duration,
    derived: Option<Duration>,
    torch: Option<Duration>,
}

fn ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 0.1 {
        format!("{:.2} µs", ms * 1e3)
    } else {
        format!("{ms:.3} ms")
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--rss-child") {
        let kind = BackendKind::ALL
            .into_iter()
            .find(|k| Some(k.name()) == args.get(i + 1).map(String::as_str))
            .ok_or("which backend?")?;
        run_on(kind, RssRun)?;
        println!("{:.0}", peak_rss_mb().ok_or("no /proc/self/status")?);
        return Ok(());
    }
    let quick = args.iter().any(|a| a == "--quick");
    // `--only <backend> <case key>`: one case, repeated (for `perf record`); no twin, no table.
    if let Some(i) = args.iter().position(|a| a == "--only") {
        let kind = BackendKind::ALL
            .into_iter()
            .find(|k| Some(k.name()) == args.get(i + 1).map(String::as_str))
            .ok_or("--only <backend> <case>")?;
        let case = CASES
            .into_iter()
            .find(|c| Some(c.key) == args.get(i + 2).map(String::as_str))
            .ok_or("unknown case")?;
        let reps = match args.get(i + 3) {
            Some(reps) => reps.parse().map_err(|_| "--only <backend> <case> [reps]")?,
            None => 2000,
        };
        let (seq, derived) = run_on(kind, Measure { case, reps })?;
        println!(
            "{kind} {}: Sequential {}, derive {}",
            case.label(),
            ms(seq),
            ms(derived)
        );
        return Ok(());
    }
    let rounds = if quick { 1 } else { 3 };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let backends = chosen_backends(BackendKind::compiled())?;
    // One twin per device a chosen backend is compared on: the CPU, and the GPU where CUDA runs.
    let mut twins: Vec<(&str, Twin)> = Vec::new();
    for device in ["cpu", "cuda"] {
        let wanted = backends.iter().any(|&k| twin_device(k) == Some(device));
        let present = device == "cpu" || !cuda_if_present().is_empty();
        if wanted && present {
            twins.extend(Twin::start_reporting(threads, device).map(|t| (device, t)));
        }
    }
    let reps_for = |kind: BackendKind, case: &Case| -> usize {
        let heavy = case.widths == MNIST || case.batch > 2;
        let base: usize = match (kind, heavy) {
            (BackendKind::Wgpu, _) => 10,
            (_, true) => 30,
            (_, false) => 300,
        };
        if quick { base.div_ceil(5) } else { base }
    };
    let units = backends.len() * (CASES.len() + MATMULS.len()) * rounds;
    let bar = ProgressBar::new(units as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut rows = Vec::new();
    // Each backend's PyTorch time: the median of its twin's rounds, if it has one.
    let torch_of = |torch: &[(&str, Vec<Duration>)], kind| {
        let (_, times) = torch.iter().find(|(d, _)| Some(*d) == twin_device(kind))?;
        Some(mid(times.clone()))
    };
    // Each round runs every backend, then the twins: all columns see the same machine.
    for case in CASES {
        let mut burn = vec![(Vec::new(), Vec::new()); backends.len()];
        let mut torch: Vec<(&str, Vec<Duration>)> =
            twins.iter().map(|(d, _)| (*d, Vec::new())).collect();
        for _ in 0..rounds {
            for (&kind, (seq, der)) in backends.iter().zip(&mut burn) {
                bar.set_message(format!("{kind}: {}", case.label()));
                match run_on(
                    kind,
                    Measure {
                        case,
                        reps: reps_for(kind, &case),
                    },
                ) {
                    Ok((s, d)) => {
                        seq.push(s);
                        der.push(d);
                    }
                    Err(err) => bar.println(format!("{kind}: skipped ({err})")),
                }
                bar.inc(1);
            }
            for ((_, twin), (_, times)) in twins.iter_mut().zip(&mut torch) {
                times.push(twin.time(case.key, reps_for(BackendKind::Flex, &case))?);
            }
        }
        for (&kind, (seq, der)) in backends.iter().zip(burn) {
            if !seq.is_empty() {
                rows.push(Row {
                    label: case.label(),
                    backend: kind,
                    sequential: mid(seq),
                    derived: Some(mid(der)),
                    torch: torch_of(&torch, kind),
                });
            }
        }
    }
    for (index, &(key, m, k, n, what)) in MATMULS.iter().enumerate() {
        let reps_of = |kind| if kind == BackendKind::Wgpu { 10 } else { 50 };
        let mut burn = vec![Vec::new(); backends.len()];
        let mut torch: Vec<(&str, Vec<Duration>)> =
            twins.iter().map(|(d, _)| (*d, Vec::new())).collect();
        for _ in 0..rounds {
            for (&kind, times) in backends.iter().zip(&mut burn) {
                bar.set_message(format!("{kind}: matmul {what}"));
                if let Ok(t) = run_on(
                    kind,
                    MatmulCase {
                        index,
                        reps: reps_of(kind),
                    },
                ) {
                    times.push(t);
                }
                bar.inc(1);
            }
            for ((_, twin), (_, times)) in twins.iter_mut().zip(&mut torch) {
                times.push(twin.time(key, 50)?);
            }
        }
        for (&kind, times) in backends.iter().zip(burn) {
            if !times.is_empty() {
                rows.push(Row {
                    label: format!("matmul {what} [{m}×{k}]·[{k}×{n}]"),
                    backend: kind,
                    sequential: mid(times),
                    derived: None,
                    torch: torch_of(&torch, kind),
                });
            }
        }
    }
    bar.finish_and_clear();

    println!(
        "\n| case | backend | Sequential | derive(Module) | PyTorch | Sequential / PyTorch | derive / PyTorch |"
    );
    println!("|---|---|---|---|---|---|---|");
    for row in &rows {
        let ratio = |d: Option<Duration>| match (d, row.torch) {
            (Some(d), Some(t)) => format!("{:.2}×", d.as_secs_f64() / t.as_secs_f64()),
            _ => "–".into(),
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.label,
            row.backend,
            ms(row.sequential),
            row.derived.map_or("–".into(), ms),
            row.torch.map_or("–".into(), ms),
            ratio(Some(row.sequential)),
            ratio(row.derived),
        );
    }

    println!("\nPeak resident memory of 50 SGD steps, 784-256-256-10, batch 256 (own process):\n");
    println!("| run | peak RSS MB |");
    println!("|---|---|");
    for &kind in &backends {
        match child_rss(kind) {
            Some(mb) => println!("| {kind} (Sequential) | {mb:.0} |"),
            None => println!("| {kind} | n/a |"),
        }
    }
    if twins.iter().any(|(device, _)| *device == "cpu") {
        let out = Command::new("python3")
            .arg(twin::twin_script())
            .args(["--rss", "--threads", &threads.to_string()])
            .output()?;
        println!(
            "| PyTorch | {} |",
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    drop(twins);

    let svg = plot(&rows)?;
    println!("\nplot: {svg}");
    Ok(())
}

/// Ratio to PyTorch per case and backend, as an SVG under `target/bench/`.
fn plot(rows: &[Row]) -> Result<String, Box<dyn std::error::Error>> {
    use plotters::prelude::*;
    // `D2L_BENCH_OUT` (the prepared GPU run sets it), else `target/bench` of this checkout.
    let dir = std::env::var("D2L_BENCH_OUT")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/bench").to_owned());
    std::fs::create_dir_all(&dir)?;
    let path = format!("{dir}/train.svg");
    let labels: Vec<String> = {
        let mut labels: Vec<String> = rows.iter().map(|r| r.label.clone()).collect();
        labels.dedup();
        let mut seen = std::collections::HashSet::new();
        labels.retain(|l| seen.insert(l.clone()));
        labels
    };
    let ratios: Vec<(BackendKind, usize, f64)> = rows
        .iter()
        .filter_map(|r| {
            let t = r.torch?;
            let x = labels.iter().position(|l| *l == r.label)?;
            Some((r.backend, x, r.sequential.as_secs_f64() / t.as_secs_f64()))
        })
        .collect();
    let root = SVGBackend::new(&path, (900, 520)).into_drawing_area();
    root.fill(&WHITE)?;
    let top = ratios.iter().map(|r| r.2).fold(1.5f64, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Burn (Sequential) time / PyTorch time, same run",
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-0.5f64..labels.len() as f64 - 0.5, 0f64..top)?;
    chart
        .configure_mesh()
        .x_labels(labels.len())
        .x_label_formatter(&|x| format!("{}", x.round() as i64 + 1))
        .x_desc("case (numbered as in the table's rows for one backend)")
        .y_desc("ratio (< 1: faster than PyTorch)")
        .draw()?;
    chart.draw_series(LineSeries::new(
        [(-0.5, 1.0), (labels.len() as f64 - 0.5, 1.0)],
        BLACK.mix(0.5),
    ))?;
    for (i, kind) in [BackendKind::NdArray, BackendKind::Flex, BackendKind::Tch]
        .into_iter()
        .enumerate()
    {
        let color = Palette99::pick(i).to_rgba();
        let points: Vec<(f64, f64)> = ratios
            .iter()
            .filter(|r| r.0 == kind)
            .map(|r| (r.1 as f64, r.2))
            .collect();
        chart
            .draw_series(PointSeries::of_element(points, 5, color, &|c, s, st| {
                Circle::new(c, s, st.filled())
            }))?
            .label(kind.name())
            .legend(move |(x, y)| Circle::new((x, y), 5, color.filled()));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    root.present()?;
    drop(chart);
    drop(root);
    Ok(path)
}
