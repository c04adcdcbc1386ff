//! D2L §5.1 "efficiency": the chapter MLP (20→256→10) as a dynamic `Sequential` vs the same
//! network as a `#[derive(Module)]` struct; forward and forward+backward, batch 2 and 256.
//!
//! `cargo xtask bench blocks [--quick]`. Medians of many runs; every timed region ends with a
//! read-back (`into_data`), so asynchronous GPU backends are synchronized.

use std::time::Duration;

use burn::backend::Autodiff;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use d2l_blocks::Sequential;
use d2l_device::backend::{BackendKind, BackendTask, DeviceBackend, run_on};
use d2l_device::timing::median;

#[derive(Module, Debug)]
struct StaticMlp<B: Backend> {
    hidden: Linear<B>,
    relu: Relu,
    output: Linear<B>,
}

impl<B: Backend> StaticMlp<B> {
    fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        self.output
            .forward(self.relu.forward(self.hidden.forward(x)))
    }
}

fn nets<B: Backend>(device: &B::Device) -> (StaticMlp<B>, Sequential<B>) {
    let hidden = LinearConfig::new(20, 256).init(device);
    let output = LinearConfig::new(256, 10).init(device);
    let dynamic = Sequential::new()
        .add(hidden.clone())
        .add(Relu::new())
        .add(output.clone());
    (
        StaticMlp {
            hidden,
            relu: Relu::new(),
            output,
        },
        dynamic,
    )
}

struct Row {
    case: String,
    derived: Duration,
    dynamic: Duration,
}

struct Bench {
    iters: usize,
}

impl BackendTask for Bench {
    type Output = Vec<Row>;

    fn run<B: DeviceBackend>(self, device: &B::Device) -> Vec<Row> {
        let mut rows = Vec::new();
        for batch in [2, 256] {
            let x = Tensor::<B, 2>::random([batch, 20], Distribution::Default, device);
            let (fixed, dynamic) = nets::<B>(device);
            let derived = median(self.iters, || {
                std::hint::black_box(fixed.forward(x.clone()).into_data());
            });
            let dyn_time = median(self.iters, || {
                let y = dynamic.forward(x.clone()).expect("forward");
                std::hint::black_box(y.into_data());
            });
            rows.push(Row {
                case: format!("forward, batch {batch}"),
                derived,
                dynamic: dyn_time,
            });

            let xa = Tensor::<Autodiff<B>, 2>::random([batch, 20], Distribution::Default, device);
            let (fixed, dynamic) = nets::<Autodiff<B>>(device);
            let derived = median(self.iters, || {
                let grads = fixed.forward(xa.clone()).sum().backward();
                std::hint::black_box(fixed.hidden.weight.grad(&grads).map(|g| g.into_data()));
            });
            let dyn_time = median(self.iters, || {
                let y = dynamic.forward(xa.clone()).expect("forward");
                let grads = y.sum().backward();
                let first = dynamic.child::<Linear<Autodiff<B>>>(0).expect("linear");
                std::hint::black_box(first.weight.grad(&grads).map(|g| g.into_data()));
            });
            rows.push(Row {
                case: format!("forward+backward, batch {batch}"),
                derived,
                dynamic: dyn_time,
            });
        }
        rows
    }
}

fn us(t: Duration) -> String {
    format!("{:.1}", t.as_secs_f64() * 1e6)
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let iters = if quick { 50 } else { 500 };
    println!("| backend | case | derive(Module) µs | Sequential µs | overhead |");
    println!("|---|---|---|---|---|");
    for kind in BackendKind::compiled() {
        match run_on(kind, Bench { iters }) {
            Ok(rows) => {
                for r in rows {
                    let overhead =
                        (r.dynamic.as_secs_f64() / r.derived.as_secs_f64() - 1.0) * 100.0;
                    println!(
                        "| {kind} | {} | {} | {} | {overhead:+.1}% |",
                        r.case,
                        us(r.derived),
                        us(r.dynamic)
                    );
                }
            }
            Err(err) => println!("| {kind} | skipped: {err} | | | |"),
        }
    }
}
