//! Mutation fuzzing of every loader, on stable Rust: valid files (safetensors, PyTorch zip and
//! legacy pickles, optimizer state) with bytes flipped, runs overwritten, the file cut or
//! grown. Each loader must return `Ok` or an error — never panic, never abort.
//!
//! The test run tries a few hundred inputs per target; `cargo xtask fuzz --seconds N` runs
//! the same targets for N seconds each (`D2L_FUZZ_SECONDS`) and prints what ran clean.

use std::path::{Path, PathBuf};

use crate::fixture;
use std::time::{Duration, Instant};

use burn::backend::Autodiff;
use burn::backend::NdArray;
use burn::nn::{LinearConfig, Relu};
use burn::optim::AdamConfig;
use d2l_blocks::Sequential;
use d2l_io::{load_optimizer, load_state, load_tensors};

/// A small xorshift generator: reproducible runs from a printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `seed_file`.
fn mutate(rng: &mut Rng, seed_file: &[u8]) -> Vec<u8> {
    let mut bytes = seed_file.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(bytes.len());
        match rng.below(6) {
            0 if !bytes.is_empty() => bytes[at] ^= 1 << rng.below(8),
            1 if !bytes.is_empty() => bytes[at] = rng.next() as u8,
            2 => bytes.truncate(at),
            3 => bytes.extend((0..rng.below(64)).map(|_| rng.next() as u8)),
            4 if bytes.len() >= 8 => {
                // Overwrite a little-endian u64 (safetensors' header length, zip sizes, …).
                let at = rng.below(bytes.len() - 7);
                let value = match rng.below(3) {
                    0 => u64::MAX,
                    1 => 1 << rng.below(63),
                    _ => rng.next(),
                };
                bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
            }
            _ => {
                let (a, b) = (rng.below(bytes.len()), rng.below(bytes.len()));
                let (a, b) = (a.min(b), a.max(b));
                bytes[a..b].reverse();
            }
        }
    }
    bytes
}

type Target = (&'static str, PathBuf, &'static str, fn(&Path));

fn net() -> Sequential<Autodiff<NdArray>> {
    let device = Default::default();
    Sequential::new()
        .add(LinearConfig::new(4, 8).init(&device))
        .add(Relu::new())
        .add(LinearConfig::new(8, 1).init(&device))
}

fn targets(dir: &Path) -> Vec<Target> {
    // An optimizer-state seed file, written by the library itself.
    let adam_seed = dir.join("seed.adam");
    if !adam_seed.exists() {
        // One Adam step, so that the state holds moments for every parameter.
        let model = net();
        let x = burn::tensor::Tensor::<Autodiff<NdArray>, 2>::ones([2, 4], &Default::default());
        let grads = burn::optim::GradientsParams::from_grads(
            model.forward(x).expect("forward").sum().backward(),
            &model,
        );
        let mut adam = AdamConfig::new().init::<Autodiff<NdArray>, Sequential<Autodiff<NdArray>>>();
        let model = burn::optim::Optimizer::step(&mut adam, 1e-2, model, grads);
        d2l_io::save_optimizer(&adam_seed, burn::optim::Optimizer::to_record(&adam), &model)
            .expect("seed");
    }
    let model_seed = dir.join("seed-model.safetensors");
    if !model_seed.exists() {
        d2l_io::save_model(&model_seed, &net(), &d2l_io::Registry::new()).expect("seed");
    }
    vec![
        ("load_model", model_seed, "safetensors", |p| {
            drop(d2l_io::load_model(
                p,
                &d2l_io::Registry::<Autodiff<NdArray>>::new(),
                &Default::default(),
            ))
        }),
        (
            "load_tensors(safetensors)",
            fixture("net.safetensors"),
            "safetensors",
            |p| drop(load_tensors(p)),
        ),
        ("load_tensors(pt zip)", fixture("net.pt"), "pt", |p| {
            drop(load_tensors(p))
        }),
        ("load_tensors(pt legacy)", fixture("legacy.pt"), "pt", |p| {
            drop(load_tensors(p))
        }),
        ("load_state(pt zip)", fixture("net.pt"), "pt", |p| {
            drop(load_state(p, &mut net(), true))
        }),
        (
            "load_state(safetensors)",
            fixture("net.safetensors"),
            "safetensors",
            |p| drop(load_state(p, &mut net(), false)),
        ),
        ("load_optimizer", adam_seed, "adam", |p| {
            let model = net();
            let adam = AdamConfig::new().init::<Autodiff<NdArray>, Sequential<Autodiff<NdArray>>>();
            if let Ok(record) = load_optimizer(p, &model, &Default::default()) {
                drop(burn::optim::Optimizer::load_record(adam, record));
            }
        }),
    ]
}

/// Runs every target for `budget` (or `min_inputs` inputs, whichever is more); returns
/// `(target, inputs tried)`.
fn run(budget: Duration, min_inputs: usize, seed: u64) -> Vec<(&'static str, usize)> {
    let dir = crate::scratch("fuzz");
    let mut rng = Rng(seed | 1);
    let mut report = Vec::new();
    for (name, seed_path, extension, load) in targets(&dir) {
        let seed_file = std::fs::read(&seed_path).expect("seed file");
        let input = dir.join(format!("input.{extension}"));
        let started = Instant::now();
        let mut tried = 0;
        while tried < min_inputs || started.elapsed() < budget {
            let bytes = mutate(&mut rng, &seed_file);
            std::fs::write(&input, &bytes).expect("write input");
            if std::panic::catch_unwind(|| load(&input)).is_err() {
                let kept = dir.join(format!("crash-{tried}.{extension}"));
                let _ = std::fs::write(&kept, &bytes);
                panic!(
                    "{name} panicked on input {tried} (seed {seed}); kept as {}",
                    kept.display()
                );
            }
            tried += 1;
        }
        report.push((name, tried));
    }
    report
}

#[test]
fn every_loader_survives_mutated_files() {
    let seconds: u64 = std::env::var("D2L_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let seed = std::env::var("D2L_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_d21);
    let started = Instant::now();
    let report = run(Duration::from_secs(seconds), 200, seed);
    for (name, tried) in &report {
        println!("fuzz: {name}: {tried} inputs, no panic");
    }
    println!(
        "fuzz: seed {seed}, {:.1}s in all",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(report.len(), 7);
}
