//! D2L §5.3 cost of laziness: `cargo xtask bench layers [--quick]`.
//!
//! 1. First call: build + first forward of `LazyLinear(256) → ReLU → LazyLinear(10)` vs the
//!    eager `Linear(20, 256) → ReLU → Linear(256, 10)`, both as a `Sequential`.
//! 2. Steady state: forward of a materialized `LazyLinear` vs a `Linear` (20 → 256), batch 2
//!    and 256. Medians; every timed region ends with a read-back (GPU backends synchronize).

use std::time::Duration;

use burn::nn::{LinearConfig, Relu};
use burn::tensor::{Distribution, Tensor};
use d2l_blocks::Sequential;
use d2l_device::backend::{BackendKind, BackendTask, DeviceBackend, run_on};
use d2l_device::timing::median;
use d2l_layers::LazyLinear;

struct Bench {
    iters: usize,
}

impl BackendTask for Bench {
    type Output = Vec<(String, Duration, Duration)>;

    fn run<B: DeviceBackend>(self, device: &B::Device) -> Self::Output {
        let x = Tensor::<B, 2>::random([2, 20], Distribution::Default, device);
        let mut rows = Vec::new();
        let eager_first = median(self.iters / 5 + 1, || {
            let net = Sequential::<B>::new()
                .add(LinearConfig::new(20, 256).init(device))
                .add(Relu::new())
                .add(LinearConfig::new(256, 10).init(device));
            std::hint::black_box(
                net.forward_tensor::<2, 2>(x.clone())
                    .expect("forward")
                    .into_data(),
            );
        });
        let lazy_first = median(self.iters / 5 + 1, || {
            let net = Sequential::<B>::new()
                .add(LazyLinear::new(256))
                .add(Relu::new())
                .add(LazyLinear::new(10));
            std::hint::black_box(
                net.forward_tensor::<2, 2>(x.clone())
                    .expect("forward")
                    .into_data(),
            );
        });
        rows.push((
            "first call (build + forward), batch 2".to_string(),
            eager_first,
            lazy_first,
        ));
        for batch in [2, 256] {
            let x = Tensor::<B, 2>::random([batch, 20], Distribution::Default, device);
            let eager = Sequential::<B>::new().add(LinearConfig::new(20, 256).init(device));
            let lazy = Sequential::<B>::new().add(LazyLinear::new(256));
            lazy.forward(x.clone()).expect("materialize");
            let t_eager = median(self.iters, || {
                std::hint::black_box(
                    eager
                        .forward_tensor::<2, 2>(x.clone())
                        .expect("forward")
                        .into_data(),
                );
            });
            let t_lazy = median(self.iters, || {
                std::hint::black_box(
                    lazy.forward_tensor::<2, 2>(x.clone())
                        .expect("forward")
                        .into_data(),
                );
            });
            rows.push((format!("steady forward, batch {batch}"), t_eager, t_lazy));
        }
        rows
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let iters = if quick { 50 } else { 500 };
    println!("| backend | case | Linear µs | LazyLinear µs | overhead |");
    println!("|---|---|---|---|---|");
    for kind in BackendKind::compiled() {
        match run_on(kind, Bench { iters }) {
            Ok(rows) => {
                for (case, eager, lazy) in rows {
                    let overhead = (lazy.as_secs_f64() / eager.as_secs_f64() - 1.0) * 100.0;
                    println!(
                        "| {kind} | {case} | {:.1} | {:.1} | {overhead:+.1}% |",
                        eager.as_secs_f64() * 1e6,
                        lazy.as_secs_f64() * 1e6
                    );
                }
            }
            Err(err) => println!("| {kind} | skipped: {err} | | | |"),
        }
    }
}
