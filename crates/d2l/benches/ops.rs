//! Where flex loses to PyTorch, one op at a time: `cargo xtask bench ops [--quick]`.
//!
//! The ops a `perf` profile of flex's LeNet step names (sigmoid and its backward, `exp`,
//! elementwise binary ops on strided and broadcast inputs, average-pool backward, convolution
//! forward and backward), and our layers that replace some of them (`AvgPool2d` as a depthwise
//! convolution, `BatchNorm2d` in its fast formulation, beside the textbook ops it used before),
//! at the shapes LeNet (§7.6) and ResNet-18 (§8.6) give them, on the CPU
//! backends (flex, `tch`, ndarray) and in the PyTorch twin (`bench/train_twin.py`, same
//! threads). Each round runs every backend, then the twin; the median of 3 rounds' medians is
//! reported with its ratio to PyTorch. Outputs are not read back: these CPU backends run
//! eagerly, and the backend is synced after each op.

use std::time::Duration;

use burn::backend::Autodiff;
use burn::nn::pool::AvgPool2dConfig;
use burn::tensor::activation::sigmoid;
use burn::tensor::backend::Backend;
use burn::tensor::module::{avg_pool2d, conv2d};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, Tensor};
use d2l_blocks::TypedForward;
use d2l_blocks::layers::BatchNorm;
use d2l_device::backend::{BackendTask, DeviceBackend, run_on};
use d2l_device::kernels;
use d2l_device::timing::median;

#[path = "twin.rs"]
mod twin;
use twin::{Twin, cpu_backends, mid};

/// LeNet's first activation: batch 256, 6 channels, 28×28.
const ACT: [usize; 4] = [256, 6, 28, 28];

/// A batch norm of ResNet-18's first stage at 64×64 inputs and batch 8.
const BN: [usize; 4] = [8, 64, 32, 32];

/// One op: its key, the table's label, and the twin's key (the same PyTorch op for our layer
/// and for the Burn ops it replaces).
#[derive(Clone, Copy)]
struct Op {
    key: &'static str,
    label: &'static str,
    /// Whether `d2l_device::kernels` has this op: then a second row times it through them.
    kernel: bool,
    twin: &'static str,
}

const OPS: [Op; 14] = [
    Op {
        key: "op-sigmoid",
        label: "sigmoid [256,6,28,28]",
        kernel: true,
        twin: "op-sigmoid",
    },
    Op {
        key: "op-sigmoid-bwd",
        label: "sigmoid forward + backward [256,6,28,28]",
        kernel: true,
        twin: "op-sigmoid-bwd",
    },
    Op {
        key: "op-exp",
        label: "exp [256,6,28,28]",
        kernel: true,
        twin: "op-exp",
    },
    Op {
        key: "op-add",
        label: "a + b, contiguous [1024,1024]",
        kernel: false,
        twin: "op-add",
    },
    Op {
        key: "op-add-strided",
        label: "a + bᵀ, transposed view [1024,1024]",
        kernel: false,
        twin: "op-add-strided",
    },
    Op {
        key: "op-add-bcast",
        label: "x + bias, broadcast [256,6,28,28] + [6,1,1]",
        kernel: false,
        twin: "op-add-bcast",
    },
    Op {
        key: "op-avgpool-bwd",
        label: "avg-pool 2×2/2 forward + backward [256,6,28,28]",
        kernel: false,
        twin: "op-avgpool-bwd",
    },
    Op {
        key: "op-avgpool-block-bwd",
        label: "AvgPool2d block (depthwise conv) forward + backward [256,6,28,28]",
        kernel: false,
        twin: "op-avgpool-bwd",
    },
    Op {
        key: "op-batchnorm-textbook-bwd",
        label: "BatchNorm2d, textbook ops (before) forward + backward [8,64,32,32]",
        kernel: false,
        twin: "op-batchnorm-bwd",
    },
    Op {
        key: "op-batchnorm-bwd",
        label: "BatchNorm2d block forward + backward [8,64,32,32]",
        kernel: false,
        twin: "op-batchnorm-bwd",
    },
    Op {
        key: "op-conv-lenet",
        label: "conv 6→16 5×5 forward [256,6,14,14]",
        kernel: true,
        twin: "op-conv-lenet",
    },
    Op {
        key: "op-conv-lenet-bwd",
        label: "conv 6→16 5×5 forward + backward [256,6,14,14]",
        kernel: true,
        twin: "op-conv-lenet-bwd",
    },
    Op {
        key: "op-conv-resnet",
        label: "conv 64→64 3×3 pad 1 forward [8,64,16,16]",
        kernel: true,
        twin: "op-conv-resnet",
    },
    Op {
        key: "op-conv-resnet-bwd",
        label: "conv 64→64 3×3 pad 1 forward + backward [8,64,16,16]",
        kernel: true,
        twin: "op-conv-resnet-bwd",
    },
];

/// The median time of `reps` runs of one op on a backend.
struct Measure {
    op: Op,
    reps: usize,
    /// Through `d2l_device::kernels` (flex's own kernels) rather than Burn's op.
    ours: bool,
}

impl BackendTask for Measure {
    type Output = Duration;

    fn run<B: DeviceBackend>(self, device: &B::Device) -> Duration {
        B::seed(device, 0);
        let (reps, ours) = (self.reps, self.ours);
        let random =
            |shape: [usize; 4]| Tensor::<B, 4>::random(shape, Distribution::Default, device);
        let square = || Tensor::<B, 2>::random([1024, 1024], Distribution::Default, device);
        let time = |mut f: Box<dyn FnMut() + '_>| {
            median(reps, || {
                f();
                let _ = B::sync(device);
            })
        };
        match self.op.key {
            "op-sigmoid" => {
                let x = random(ACT);
                let f = if ours { kernels::sigmoid } else { sigmoid };
                time(Box::new(|| drop(std::hint::black_box(f(x.clone())))))
            }
            "op-exp" => {
                let x = random(ACT);
                let f = if ours { kernels::exp } else { Tensor::exp };
                time(Box::new(|| drop(std::hint::black_box(f(x.clone())))))
            }
            "op-add" => {
                let (a, b) = (square(), square());
                time(Box::new(|| {
                    drop(std::hint::black_box(a.clone() + b.clone()))
                }))
            }
            "op-add-strided" => {
                let (a, b) = (square(), square().transpose());
                time(Box::new(|| {
                    drop(std::hint::black_box(a.clone() + b.clone()))
                }))
            }
            "op-add-bcast" => {
                let x = random(ACT);
                let bias = Tensor::<B, 1>::random([6], Distribution::Default, device)
                    .reshape([1, 6, 1, 1]);
                time(Box::new(|| {
                    drop(std::hint::black_box(x.clone() + bias.clone()))
                }))
            }
            "op-conv-lenet" | "op-conv-resnet" => {
                let (x, w, options) = conv_case(self.op.key);
                let (x, w) = (random(x), random(w));
                let conv2d = if ours { kernels::conv2d } else { conv2d };
                time(Box::new(|| {
                    drop(std::hint::black_box(conv2d(
                        x.clone(),
                        w.clone(),
                        None,
                        options.clone(),
                    )))
                }))
            }
            "op-avgpool-block-bwd" | "op-batchnorm-textbook-bwd" | "op-batchnorm-bwd" => {
                layer_backward::<B>(self.op.key, reps, device)
            }
            _ => backward::<B>(self.op.key, ours, reps, device),
        }
    }
}

/// The input shape, weight shape and options of a conv op: LeNet's second conv, or a 3×3
/// conv of ResNet-18's first stage.
fn conv_case(key: &str) -> ([usize; 4], [usize; 4], ConvOptions<2>) {
    if key.starts_with("op-conv-lenet") {
        let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
        ([256, 6, 14, 14], [16, 6, 5, 5], options)
    } else {
        let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
        ([8, 64, 16, 16], [64, 64, 3, 3], options)
    }
}

/// Forward and backward of one op under `Autodiff` (gradients of every input), seeded with
/// ones as PyTorch's `y.backward(torch.ones_like(y))`.
fn backward<B: DeviceBackend>(key: &str, ours: bool, reps: usize, device: &B::Device) -> Duration {
    let random = |shape: [usize; 4]| {
        Tensor::<Autodiff<B>, 4>::random(shape, Distribution::Default, device).require_grad()
    };
    let (x, w, options) = if key.starts_with("op-conv") {
        let (x, w, options) = conv_case(key);
        (random(x), Some(random(w)), options)
    } else {
        let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
        (random(ACT), None, options)
    };
    type Ad<B> = Autodiff<B>;
    let (sigmoid, conv2d): (fn(Tensor<Ad<B>, 4>) -> _, fn(_, _, _, _) -> _) = if ours {
        (kernels::sigmoid, kernels::conv2d)
    } else {
        (sigmoid, conv2d)
    };
    median(reps, || {
        let y = match (key, &w) {
            ("op-sigmoid-bwd", _) => sigmoid(x.clone()),
            ("op-avgpool-bwd", _) => avg_pool2d(x.clone(), [2, 2], [2, 2], [0, 0], true, false),
            (_, Some(w)) => conv2d(x.clone(), w.clone(), None, options.clone()),
            _ => unreachable!("every backward op is listed"),
        };
        let grads = y.backward();
        std::hint::black_box(x.grad(&grads));
        if let Some(w) = &w {
            std::hint::black_box(w.grad(&grads));
        }
        let _ = <Autodiff<B> as Backend>::sync(device);
    })
}

/// Forward and backward of our layers (training mode) and of the textbook batch norm they
/// replace, under `Autodiff`, seeded with ones; gradients of the input and the parameters.
fn layer_backward<B: DeviceBackend>(key: &str, reps: usize, device: &B::Device) -> Duration {
    type Ad<B> = Autodiff<B>;
    let shape = if key == "op-avgpool-block-bwd" {
        ACT
    } else {
        BN
    };
    let x = Tensor::<Ad<B>, 4>::random(shape, Distribution::Default, device).require_grad();
    let pool = AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
    let bn = BatchNorm::<Ad<B>>::new_2d(BN[1], device);
    median(reps, || {
        let y = match key {
            "op-avgpool-block-bwd" => pool.forward_tensor::<4, 4>(x.clone()).expect("pool"),
            "op-batchnorm-bwd" => bn.forward_tensor::<4, 4>(x.clone()).expect("batch norm"),
            _ => textbook_batch_norm(x.clone(), &bn),
        };
        let grads = y.backward();
        std::hint::black_box(x.grad(&grads));
        if key != "op-avgpool-block-bwd" {
            std::hint::black_box(bn.weight.grad(&grads));
            std::hint::black_box(bn.bias.grad(&grads));
        }
        let _ = <Ad<B> as Backend>::sync(device);
    })
}

/// The batch norm our layer computed before (issue 25): outer axis reduced first, `[1, C, 1]`
/// operands broadcast over `[N, C, L]` (running statistics left out).
fn textbook_batch_norm<B: Backend>(x: Tensor<B, 4>, bn: &BatchNorm<B>) -> Tensor<B, 4> {
    let [n, c, h, w] = x.dims();
    let x = x.reshape([n, c, h * w]);
    let mean = x.clone().mean_dim(0).mean_dim(2);
    let var = (x.clone() - mean.clone()).square().mean_dim(0).mean_dim(2);
    let std = var.add_scalar(1e-5).sqrt();
    let inv_std = std.ones_like() / std;
    let y = (x - mean) * inv_std;
    let y = y * bn.weight.val().reshape([1, c, 1]) + bn.bias.val().reshape([1, c, 1]);
    y.reshape([n, c, h, w])
}

fn show(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 1.0 {
        format!("{:.0} µs", ms * 1e3)
    } else {
        format!("{ms:.2} ms")
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, reps) = if quick { (1, 5) } else { (3, 20) };
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut twin = Twin::start_reporting(threads, "cpu");
    let backends = cpu_backends();
    let names: Vec<&str> = backends.iter().map(|k| k.name()).collect();
    println!(
        "\n| op | {} | PyTorch | {} |",
        names.join(" | "),
        names
            .iter()
            .map(|n| format!("{n} / PyTorch"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!(
        "|---|{}---|{}",
        "---|".repeat(backends.len()),
        "---|".repeat(backends.len())
    );
    // `--only KEY`: that op's rows alone (for `perf record`).
    let args: Vec<String> = std::env::args().collect();
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    let chosen = OPS.iter().filter(|op| only.is_none_or(|key| op.key == key));
    // `--kernels`: only the rows through `d2l_device::kernels`.
    let kernels_only = args.iter().any(|a| a == "--kernels");
    let rows = chosen.flat_map(|&op| {
        let ours = op.kernel.then_some((op, true));
        let burn = (!kernels_only).then_some((op, false));
        burn.into_iter().chain(ours)
    });
    for (op, ours) in rows {
        let mut burn = vec![Vec::new(); backends.len()];
        let mut torch = Vec::new();
        for _ in 0..rounds {
            for (&kind, times) in backends.iter().zip(&mut burn) {
                times.push(run_on(kind, Measure { op, reps, ours })?);
            }
            if let Some(t) = twin.as_mut() {
                torch.push(t.time(op.twin, reps)?);
            }
        }
        let burn: Vec<Duration> = burn.into_iter().map(mid).collect();
        let torch = (!torch.is_empty()).then(|| mid(torch));
        let times: Vec<String> = burn.iter().map(|&d| show(d)).collect();
        let ratios: Vec<String> = burn
            .iter()
            .map(|d| {
                torch.map_or("–".into(), |t| {
                    format!("{:.2}×", d.as_secs_f64() / t.as_secs_f64())
                })
            })
            .collect();
        let label = if ours {
            format!("{}, `d2l_device::kernels`", op.label)
        } else {
            op.label.to_owned()
        };
        println!(
            "| {} | {} | {} | {} |",
            label,
            times.join(" | "),
            torch.map_or("–".into(), show),
            ratios.join(" | ")
        );
    }
    drop(twin.take());
    Ok(())
}
