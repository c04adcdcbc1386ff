//! D2L §5.5 at scale: `cargo xtask bench io [--quick]`.
//!
//! A state dict of ~420 MB (10 × `Linear(4096, 2560)`, f32): `save_state` (snapshot to host +
//! safetensors serialization + atomic write with fsync), `load_state` into a fresh model
//! (read, validate, convert, install), the §5.5 round trip (a save, then a load of that file
//! into a fresh model), the part of a background checkpoint that stays on the
//! compute path (`Checkpointer::save` returning), and the peak extra resident memory of a load;
//! then the step throughput of a training loop that checkpoints every N steps, in the
//! background or blocking, against one that does not.
//! GB/s are of the file's bytes; medians of the repetitions. Saves overwrite the same file
//! back to back; loads read the file the saves left (in the page cache).
//!
//! `--only <backend> <save|load|roundtrip> [reps]` repeats one operation and prints each time
//! (for `perf record` and for interleaving with `bench/io_twin.py`).

use std::time::{Duration, Instant};

use burn::backend::Autodiff;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{LinearConfig, Relu};
use burn::optim::{GradientsParams, Optimizer, SgdConfig};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Int, Tensor};
use d2l_blocks::Sequential;
use d2l_device::backend::{BackendKind, BackendTask, DeviceBackend, run_on};
use d2l_io::{Checkpointer, load_state, save_state};

fn model<B: Backend>(layers: usize, device: &B::Device) -> Sequential<B> {
    (0..layers).fold(Sequential::new(), |net, _| {
        net.add(LinearConfig::new(4096, 2560).init(device))
    })
}

/// A field of `/proc/self/status` in bytes (`VmRSS`, `VmHWM`), where Linux has it.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Resets the peak resident set size (`VmHWM`) to the current one (Linux ≥ 4.0).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

struct Bench {
    reps: usize,
    layers: usize,
}

struct Row {
    bytes: u64,
    save: Duration,
    load: Duration,
    round_trip: Duration,
    background: Duration,
    extra_peak: Option<u64>,
}

impl BackendTask for Bench {
    type Output = Row;

    fn run<B: DeviceBackend>(self, device: &B::Device) -> Row {
        let dir = std::env::temp_dir().join(format!("d2l-bench-io-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("big.safetensors");
        let net = model::<B>(self.layers, device);
        let mut saves = Vec::new();
        for _ in 0..self.reps {
            let start = Instant::now();
            save_state(&path, &net).expect("save");
            saves.push(start.elapsed());
        }
        let bytes = std::fs::metadata(&path).expect("file").len();
        let mut loads = Vec::new();
        let mut extra_peak = None;
        for _ in 0..self.reps {
            let mut fresh = model::<B>(self.layers, device);
            // Materialize Burn's lazily initialized parameters before measuring memory.
            let _ = d2l_params::Parameters::state_dict(&fresh).len();
            let baseline = status_bytes("VmRSS:");
            let measured = reset_peak();
            let start = Instant::now();
            load_state(&path, &mut fresh, true).expect("load");
            loads.push(start.elapsed());
            if let (true, Some(base), Some(peak)) = (measured, baseline, status_bytes("VmHWM:")) {
                extra_peak = Some(extra_peak.unwrap_or(0).max(peak.saturating_sub(base)));
            }
        }
        let mut round_trips = Vec::new();
        for _ in 0..self.reps {
            round_trips.push(round_trip(&path, &net, self.layers, device));
        }
        let mut checkpoints = Checkpointer::new().expect("writer");
        let mut background = Vec::new();
        for _ in 0..self.reps {
            let start = Instant::now();
            checkpoints.save(&path, &net).expect("queued");
            background.push(start.elapsed());
            checkpoints.flush().expect("written");
        }
        let _ = std::fs::remove_dir_all(&dir);
        Row {
            bytes,
            save: median(saves),
            load: median(loads),
            round_trip: median(round_trips),
            background: median(background),
            extra_peak,
        }
    }
}

/// `save_state` of `net` to `path`, then `load_state` of it into a fresh model (built before
/// the clock starts, as the twin's): the §5.5 flow, timed as a whole.
fn round_trip<B: Backend>(
    path: &std::path::Path,
    net: &Sequential<B>,
    layers: usize,
    device: &B::Device,
) -> Duration {
    let mut fresh = model::<B>(layers, device);
    let _ = d2l_params::Parameters::state_dict(&fresh).len();
    let start = Instant::now();
    save_state(path, net).expect("save");
    load_state(path, &mut fresh, true).expect("load");
    start.elapsed()
}

/// How a training loop checkpoints: never, through a [`Checkpointer`], or with a blocking
/// [`save_state`].
#[derive(Clone, Copy, PartialEq)]
enum Checkpoints {
    None,
    Background,
    Blocking,
}

/// `steps` SGD steps of a 1024-wide MLP (4 × `Linear(1024, 1024)`, 16 MB of parameters, batch
/// 64) with a checkpoint every `every` steps; the wall time of the loop, including the final
/// flush of pending background writes.
struct Training {
    steps: usize,
    every: usize,
    checkpoints: Checkpoints,
}

impl BackendTask for Training {
    type Output = Duration;

    fn run<B: DeviceBackend>(self, device: &B::Device) -> Duration {
        type A<B> = Autodiff<B>;
        let dir = std::env::temp_dir().join(format!("d2l-bench-train-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("ckpt.safetensors");
        let mut net = (0..4).fold(Sequential::<A<B>>::new(), |net, i| {
            let net = if i > 0 { net.add(Relu::new()) } else { net };
            net.add(LinearConfig::new(1024, 1024).init(device))
        });
        let x = Tensor::<A<B>, 2>::random([64, 1024], Distribution::Default, device);
        let y = Tensor::<A<B>, 1, Int>::random([64], Distribution::Uniform(0.0, 1024.0), device);
        let loss_fn = CrossEntropyLossConfig::new().init(device);
        let mut sgd = SgdConfig::new().init();
        let mut writer = Checkpointer::new().expect("writer");
        let start = Instant::now();
        for step in 1..=self.steps {
            let loss = loss_fn.forward(net.forward(x.clone()).expect("forward"), y.clone());
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = sgd.step(0.01, net, grads);
            if step % self.every == 0 {
                match self.checkpoints {
                    Checkpoints::None => {}
                    Checkpoints::Background => writer.save(&path, &net).expect("queued"),
                    Checkpoints::Blocking => save_state(&path, &net).expect("saved"),
                }
            }
        }
        writer.flush().expect("written");
        let elapsed = start.elapsed();
        let _ = std::fs::remove_dir_all(&dir);
        elapsed
    }
}

/// `--only <backend> <save|load|roundtrip> [reps]`: one operation on the 420 MB model,
/// repeated, each time printed (for `perf record`); no table.
struct Only {
    op: String,
    reps: usize,
}

impl BackendTask for Only {
    type Output = ();

    fn run<B: DeviceBackend>(self, device: &B::Device) {
        let dir = std::env::temp_dir().join(format!("d2l-bench-only-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("big.safetensors");
        let net = model::<B>(10, device);
        save_state(&path, &net).expect("save");
        for _ in 0..self.reps {
            let ms = |t: Duration| t.as_secs_f64() * 1e3;
            match self.op.as_str() {
                "load" => {
                    let mut fresh = model::<B>(10, device);
                    let _ = d2l_params::Parameters::state_dict(&fresh).len();
                    let start = Instant::now();
                    load_state(&path, &mut fresh, true).expect("load");
                    println!("load {:.0} ms", ms(start.elapsed()));
                }
                "save" => {
                    let start = Instant::now();
                    save_state(&path, &net).expect("save");
                    println!("save {:.0} ms", ms(start.elapsed()));
                }
                _ => println!(
                    "roundtrip {:.0} ms",
                    ms(round_trip(&path, &net, 10, device))
                ),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--only") {
        let usage = "--only <backend> <save|load|roundtrip> [reps]";
        let kind = args.get(i + 1).and_then(|b| {
            BackendKind::compiled()
                .into_iter()
                .find(|k| k.to_string() == *b)
        });
        let op = args.get(i + 2).map(String::as_str);
        let reps = args.get(i + 3).map_or(Some(5), |r| r.parse().ok());
        let (Some(kind), Some(op @ ("save" | "load" | "roundtrip")), Some(reps)) = (kind, op, reps)
        else {
            eprintln!("{usage}");
            std::process::exit(2);
        };
        if let Err(err) = run_on(
            kind,
            Only {
                op: op.to_owned(),
                reps,
            },
        ) {
            eprintln!("{kind}: {err}");
            std::process::exit(1);
        }
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let (reps, layers) = if quick { (1, 2) } else { (3, 10) };
    println!(
        "| backend | state dict MB | save_state GB/s | load_state GB/s | save → load round trip | Checkpointer::save returns after | peak extra RSS of a load |"
    );
    println!("|---|---|---|---|---|---|---|");
    for kind in BackendKind::compiled() {
        match run_on(kind, Bench { reps, layers }) {
            Ok(r) => {
                let gbs = |t: Duration| r.bytes as f64 / t.as_secs_f64() / 1e9;
                let peak = r.extra_peak.map_or("n/a".to_string(), |p| {
                    format!(
                        "{:.0} MB ({:.2}× the file)",
                        p as f64 / 1e6,
                        p as f64 / r.bytes as f64
                    )
                });
                println!(
                    "| {kind} | {:.0} | {:.2} ({:.0} ms) | {:.2} ({:.0} ms) | {:.0} ms | {:.0} ms ({:.0}% of a save) | {peak} |",
                    r.bytes as f64 / 1e6,
                    gbs(r.save),
                    r.save.as_secs_f64() * 1e3,
                    gbs(r.load),
                    r.load.as_secs_f64() * 1e3,
                    r.round_trip.as_secs_f64() * 1e3,
                    r.background.as_secs_f64() * 1e3,
                    100.0 * r.background.as_secs_f64() / r.save.as_secs_f64(),
                );
            }
            Err(err) => println!("| {kind} | skipped: {err} | | | | | |"),
        }
    }

    // Training with checkpoints: rounds alternate the three loops so each sees the same machine.
    let (steps, every, rounds) = if quick { (20, 5, 1) } else { (200, 20, 3) };
    println!(
        "\nTraining loop, {steps} SGD steps of 4 × Linear(1024, 1024) (16 MB), batch 64, a checkpoint every {every} steps; median of {rounds} interleaved rounds:\n"
    );
    println!(
        "| backend | no checkpoints | Checkpointer::save (background) | save_state (blocking) |"
    );
    println!("|---|---|---|---|");
    for kind in BackendKind::compiled() {
        let modes = [
            Checkpoints::None,
            Checkpoints::Background,
            Checkpoints::Blocking,
        ];
        let mut times: [Vec<Duration>; 3] = Default::default();
        for _ in 0..rounds {
            for (i, &checkpoints) in modes.iter().enumerate() {
                if let Ok(t) = run_on(
                    kind,
                    Training {
                        steps,
                        every,
                        checkpoints,
                    },
                ) {
                    times[i].push(t);
                }
            }
        }
        if times.iter().any(Vec::is_empty) {
            println!("| {kind} | skipped | | |");
            continue;
        }
        let [none, background, blocking] = times.map(median);
        let cell = |t: Duration| {
            format!(
                "{:.1} steps/s ({:.2}× the time)",
                steps as f64 / t.as_secs_f64(),
                t.as_secs_f64() / none.as_secs_f64()
            )
        };
        println!(
            "| {kind} | {:.1} steps/s | {} | {} |",
            steps as f64 / none.as_secs_f64(),
            cell(background),
            cell(blocking)
        );
    }
}
