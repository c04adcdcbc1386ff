//! Parameter walks at scale: `cargo xtask bench params [--quick]`.
//!
//! A `Sequential` of N `Linear(4, 4)` layers has 2N parameter tensors. Listing
//! (`named_parameters`, `state_dict`), looking one up by key (`param`), writing every one
//! (`init_params`), and a record round trip (`into_record` + `load_record`) must all grow
//! linearly with N: the table shows each at N = 500 and N = 5 000 (10 000 tensors) and the
//! per-tensor ratio (≈ 1.0 for linear time; 10 would be quadratic).

use std::time::Duration;

use burn::module::Module;
use burn::nn::LinearConfig;
use d2l_blocks::Sequential;
use d2l_device::backend::{BackendKind, BackendTask, DeviceBackend, run_on};
use d2l_device::timing::median;
use d2l_params::{Init, Parameters, init_params};

fn net<B: burn::tensor::backend::Backend>(layers: usize, device: &B::Device) -> Sequential<B> {
    (0..layers).fold(Sequential::new(), |net, _| {
        net.add(LinearConfig::new(4, 4).init(device))
    })
}

struct Bench {
    reps: usize,
}

impl BackendTask for Bench {
    type Output = Vec<(&'static str, Duration, Duration)>;

    fn run<B: DeviceBackend>(self, device: &B::Device) -> Self::Output {
        let (small, large) = (500, 5_000);
        let time = |layers: usize, case: &str| -> Duration {
            let mut net = net::<B>(layers, device);
            let last = format!("{}.bias", layers - 1);
            match case {
                "named_parameters" => median(self.reps, || {
                    assert_eq!(net.named_parameters().len(), 2 * layers)
                }),
                "state_dict" => {
                    median(self.reps, || assert_eq!(net.state_dict().len(), 2 * layers))
                }
                "param(last key)" => median(self.reps, || assert!(net.param(&last).is_ok())),
                "init_params (all)" => median(self.reps, || {
                    assert_eq!(
                        init_params(&mut net, |_| Some(Init::Zeros)).ok(),
                        Some(2 * layers)
                    );
                }),
                _ => median(self.reps, || {
                    let record = net.clone().into_record();
                    std::hint::black_box(net.clone().load_record(record));
                }),
            }
        };
        [
            "named_parameters",
            "state_dict",
            "param(last key)",
            "init_params (all)",
            "record round trip",
        ]
        .into_iter()
        .map(|case| (case, time(small, case), time(large, case)))
        .collect()
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let reps = if quick { 3 } else { 11 };
    println!("| backend | case | 1 000 tensors ms | 10 000 tensors ms | per-tensor ratio |");
    println!("|---|---|---|---|---|");
    for kind in BackendKind::compiled() {
        match run_on(kind, Bench { reps }) {
            Ok(rows) => {
                for (case, small, large) in rows {
                    let ratio = large.as_secs_f64() / (10.0 * small.as_secs_f64());
                    let ms = |t: Duration| format!("{:.2}", t.as_secs_f64() * 1e3);
                    println!(
                        "| {kind} | {case} | {} | {} | {ratio:.2} |",
                        ms(small),
                        ms(large)
                    );
                }
            }
            Err(err) => println!("| {kind} | skipped: {err} | | | |"),
        }
    }
}
