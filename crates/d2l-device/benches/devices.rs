//! D2L §5.6 exercises as benchmarks: `cargo xtask bench devices [--quick]`.
//!
//! 1. Matmul of growing size on every backend that can run here (CPU vs GPU), in GFLOP/s.
//! 2. 1000 × (100×100 matmul + Frobenius norm): norm read to the host every step vs kept on
//!    the device and read once at the end.
//! 3. Two devices in parallel vs one after the other (only where a backend has two GPUs).
//!
//! GPU backends are asynchronous: every timed region ends with a read-back or `B::sync`.
//! Writes a markdown table to stdout and `target/bench/devices.md`, and an SVG plot of time vs
//! matrix size per backend to `target/bench/devices_matmul.svg`.

use std::fmt::Write as _;
use std::time::Duration;

use burn::tensor::{Distribution, ElementConversion, Tensor};
use d2l_device::backend::{BackendKind, BackendTask, DeviceBackend, run_on};
use d2l_device::timing::median;
use d2l_device::try_gpu;
use plotters::prelude::*;

struct Config {
    sizes: Vec<usize>,
    steps: usize,
    reps: usize,
}

struct Results {
    device: String,
    matmul: Vec<(usize, Duration)>,
    log_every_step: Duration,
    keep_on_device: Duration,
    parallel: Option<(Duration, Duration)>,
}

struct Bench<'a>(&'a Config);

impl BackendTask for Bench<'_> {
    type Output = Results;

    fn run<B: DeviceBackend>(self, _default: &B::Device) -> Results {
        let config = self.0;
        let device = try_gpu::<B>(0);
        let sync = |d: &B::Device| B::sync(d).expect("device sync");
        B::seed(&device, 0);

        let matmul = config
            .sizes
            .iter()
            .map(|&n| {
                let a = Tensor::<B, 2>::random([n, n], Distribution::Default, &device);
                let b = Tensor::<B, 2>::random([n, n], Distribution::Default, &device);
                let time = median(config.reps, || {
                    let c = a.clone().matmul(b.clone());
                    sync(&device);
                    drop(c);
                });
                (n, time)
            })
            .collect();

        let a = Tensor::<B, 2>::random([100, 100], Distribution::Default, &device);
        let log_every_step = median(config.reps.min(5), || {
            let mut x = a.clone();
            for _ in 0..config.steps {
                x = x.clone().matmul(a.clone()) / 100.0;
                let norm: f32 = x.clone().powi_scalar(2).sum().sqrt().into_scalar().elem();
                std::hint::black_box(norm);
            }
        });
        let keep_on_device = median(config.reps.min(5), || {
            let mut x = a.clone();
            let mut norms = Vec::with_capacity(config.steps);
            for _ in 0..config.steps {
                x = x.clone().matmul(a.clone()) / 100.0;
                norms.push(x.clone().powi_scalar(2).sum().sqrt());
            }
            let all = Tensor::cat(norms, 0).into_data();
            std::hint::black_box(all);
        });

        let gpus = B::gpu_devices();
        let parallel = (gpus.len() >= 2).then(|| {
            let n = *config.sizes.last().expect("sizes");
            let work = |d: &B::Device| {
                let x = Tensor::<B, 2>::random([n, n], Distribution::Default, d);
                for _ in 0..10 {
                    std::hint::black_box(x.clone().matmul(x.clone()));
                }
                sync(d);
            };
            let sequential = median(config.reps, || {
                work(&gpus[0]);
                work(&gpus[1]);
            });
            let parallel = median(config.reps, || {
                std::thread::scope(|s| {
                    s.spawn(|| work(&gpus[0]));
                    s.spawn(|| work(&gpus[1]));
                });
            });
            (sequential, parallel)
        });

        Results {
            device: format!("{} {}", B::KIND, d2l_device::device_name::<B>(&device)),
            matmul,
            log_every_step,
            keep_on_device,
            parallel,
        }
    }
}

fn gflops(n: usize, t: Duration) -> f64 {
    2.0 * (n as f64).powi(3) / t.as_secs_f64() / 1e9
}

fn ms(t: Duration) -> String {
    format!("{:.3}", t.as_secs_f64() * 1e3)
}

fn report(config: &Config, all: &[Results], skipped: &[String]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Matmul n×n (median of {} runs; ms, GFLOP/s)\n",
        config.reps
    );
    let _ = write!(out, "| n |");
    for r in all {
        let _ = write!(out, " {} ms | GFLOP/s |", r.device);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "|---|{}", "---|---|".repeat(all.len()));
    for (i, &n) in config.sizes.iter().enumerate() {
        let _ = write!(out, "| {n} |");
        for r in all {
            let t = r.matmul[i].1;
            let _ = write!(out, " {} | {:.1} |", ms(t), gflops(n, t));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(
        out,
        "\n### {} × (100×100 matmul + Frobenius norm), ms\n\n| backend | norm to host every step | kept on device, read once | ratio |\n|---|---|---|---|",
        config.steps
    );
    for r in all {
        let ratio = r.log_every_step.as_secs_f64() / r.keep_on_device.as_secs_f64();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {ratio:.2}× |",
            r.device,
            ms(r.log_every_step),
            ms(r.keep_on_device)
        );
    }
    let _ = writeln!(out, "\n### Two devices: sequential vs parallel, ms\n");
    for r in all {
        match r.parallel {
            Some((seq, par)) => {
                let _ = writeln!(
                    out,
                    "- {}: sequential {} ms, parallel {} ms",
                    r.device,
                    ms(seq),
                    ms(par)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "- {}: n/a (fewer than two GPUs on this backend)",
                    r.device
                );
            }
        }
    }
    for s in skipped {
        let _ = writeln!(out, "- skipped: {s}");
    }
    out
}

fn plot(
    config: &Config,
    all: &[Results],
    path: &std::path::Path,
) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (720, 480)).into_drawing_area();
    root.fill(&WHITE)?;
    let max_n = *config.sizes.last().ok_or("no sizes")? as f64;
    let times = all
        .iter()
        .flat_map(|r| r.matmul.iter().map(|(_, t)| t.as_secs_f64() * 1e3));
    let (lo, hi) = times.fold((f64::MAX, 0f64), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let mut chart = ChartBuilder::on(&root)
        .caption("matmul n×n: time vs size", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (config.sizes[0] as f64..max_n).log_scale(),
            (lo.max(1e-4) * 0.8..hi * 1.2).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc("n")
        .y_desc("time (ms)")
        .draw()?;
    for (i, r) in all.iter().enumerate() {
        let color = Palette99::pick(i).mix(0.9);
        let points: Vec<(f64, f64)> = r
            .matmul
            .iter()
            .map(|(n, t)| (*n as f64, t.as_secs_f64() * 1e3))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(r.device.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
        chart.draw_series(
            points
                .into_iter()
                .map(|p| Circle::new(p, 3, color.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let config = if quick {
        Config {
            sizes: vec![16, 64, 256],
            steps: 100,
            reps: 3,
        }
    } else {
        Config {
            sizes: vec![16, 64, 128, 256, 512, 1024],
            steps: 1000,
            reps: 7,
        }
    };
    let mut all = Vec::new();
    let mut skipped = Vec::new();
    for kind in BackendKind::compiled() {
        eprintln!("benchmarking {kind} …");
        match run_on(kind, Bench(&config)) {
            Ok(results) => all.push(results),
            Err(err) => skipped.push(format!("{kind}: {err}")),
        }
    }
    let text = report(&config, &all, &skipped);
    println!("{text}");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join("devices.md"), &text);
        if let Err(err) = plot(&config, &all, &dir.join("devices_matmul.svg")) {
            eprintln!("plot failed: {err}");
        }
    }
}
