//! D2L §13.5 "Training on Multiple GPUs" from scratch: the book's LeNet as bare parameter
//! tensors, one copy per device, `allreduce` of the gradients by parameter, `split_batch`,
//! and a check that two devices on half batches take the step one device takes on the whole.
//!
//! On a machine without GPUs, the "devices" are the CPU twice, as PyTorch lets you write it.
//! Run: `cargo run --release --example sec13_5_multiple_gpus`.

use burn::backend::Autodiff;
use burn::tensor::activation::{log_softmax, relu};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::module::{avg_pool2d, conv2d};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Distribution, ElementConversion, Int, Tensor, TensorData};

use d2l::device::backend::DeviceBackend;
use d2l::device::try_all_gpus;
use d2l::parallel::split_batch;
use d2l::print::torch_repr;

/// The book's eight LeNet parameters: conv `W1, b1, W2, b2`, linear `W3, b3, W4, b4`.
type Params<B> = Vec<Tensor<B, 4>>;

// ANCHOR: get_params_def
/// `params` (each stored as rank 4, linear ones as `[1, 1, in, out]`) on `device`, trainable:
/// the book's `get_params`.
fn get_params<B: AutodiffBackend>(params: &Params<B>, device: &B::Device) -> Params<B> {
    params
        .iter()
        .map(|p| Tensor::from_inner(p.clone().inner().to_device(device)).require_grad())
        .collect()
}
// ANCHOR_END: get_params_def

// ANCHOR: lenet_def
/// The book's `lenet(X, params)`.
fn lenet<B: Backend>(x: Tensor<B, 4>, p: &Params<B>) -> Tensor<B, 2> {
    let bias = |b: &Tensor<B, 4>| b.clone().flatten::<1>(0, 3);
    let pool = |h| avg_pool2d(h, [2, 2], [2, 2], [0, 0], true, false);
    let valid = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
    let h1 = pool(relu(conv2d(
        x,
        p[0].clone(),
        Some(bias(&p[1])),
        valid.clone(),
    )));
    let h2 = pool(relu(conv2d(h1, p[2].clone(), Some(bias(&p[3])), valid)));
    let h2: Tensor<B, 2> = h2.flatten(1, 3);
    let matrix = |w: &Tensor<B, 4>| w.clone().flatten::<2>(0, 2);
    let h3 = relu(h2.matmul(matrix(&p[4])) + matrix(&p[5]));
    h3.matmul(matrix(&p[6])) + matrix(&p[7])
}

/// Cross-entropy summed over the batch (the book's `loss(...).sum()`).
fn loss_sum<B: Backend>(y_hat: Tensor<B, 2>, y: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    let picked = log_softmax(y_hat, 1).gather(1, y.unsqueeze_dim(1));
    picked.sum().neg()
}
// ANCHOR_END: lenet_def

// ANCHOR: allreduce_def
/// The book's `allreduce(data)`: the sum on the first device, then copied back to the others.
fn allreduce<B: Backend, const D: usize>(data: &mut [Tensor<B, D>]) {
    let first = data[0].device();
    for i in 1..data.len() {
        data[0] = data[0].clone() + data[i].clone().to_device(&first);
    }
    for i in 1..data.len() {
        let device = data[i].device();
        data[i] = data[0].clone().to_device(&device);
    }
}
// ANCHOR_END: allreduce_def

// ANCHOR: train_batch_def
/// The book's `train_batch`: a shard per device, gradients all-reduced by parameter, one SGD
/// step per device with the whole batch's size. Returns the summed loss.
fn train_batch<B: AutodiffBackend>(
    x: Tensor<B, 4>,
    y: Tensor<B, 1, Int>,
    device_params: &mut [Params<B>],
    devices: &[B::Device],
    lr: f32,
) -> d2l::Result<f32> {
    let n = x.dims()[0] as f32;
    let shards = split_batch(x, y, devices)?;
    let mut grads: Vec<Vec<Tensor<B::InnerBackend, 4>>> = Vec::new();
    let mut total = 0.0;
    for ((x, y), params) in shards.into_iter().zip(device_params.iter()) {
        let l = loss_sum(lenet(x, params), y);
        total += l.clone().into_scalar().elem::<f32>();
        let g = l.backward();
        let per_param: Option<Vec<_>> = params.iter().map(|p| p.grad(&g)).collect();
        grads.push(per_param.ok_or("every parameter has a gradient")?);
    }
    // All-reduce each parameter's gradient across the devices (`allreduce([... for c])`).
    for i in 0..grads[0].len() {
        let mut across: Vec<_> = grads.iter().map(|g| g[i].clone()).collect();
        allreduce(&mut across);
        for (c, g) in across.into_iter().enumerate() {
            grads[c][i] = g;
        }
    }
    // d2l.sgd on every device: p -= lr * grad / batch_size.
    for (params, grads) in device_params.iter_mut().zip(grads) {
        for (p, g) in params.iter_mut().zip(grads) {
            let stepped = p.clone().inner() - g.mul_scalar(lr / n);
            *p = Tensor::from_inner(stepped).require_grad();
        }
    }
    Ok(total / n)
}
// ANCHOR_END: train_batch_def

d2l::main!(section);

/// The cells, generic over the backend.
pub fn section<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    type AB<B> = Autodiff<B>;
    println!(
        "## 13.5 Training on multiple GPUs, from scratch — backend: {}",
        B::KIND
    );
    d2l::cell("allreduce"); // ANCHOR: allreduce
    let gpus = try_all_gpus::<B>();
    println!("devices found: {}", gpus.len());
    // Two devices: two GPUs where there are, else this device twice.
    let devices: Vec<B::Device> = if gpus.len() >= 2 {
        gpus[..2].to_vec()
    } else {
        vec![device.clone(); 2]
    };

    // allreduce: [[1, 1]] and [[2, 2]] become [[3, 3]] on both devices.
    let mut data: Vec<Tensor<B, 2>> = (0..2)
        .map(|i| Tensor::ones([1, 2], &devices[i]) * (i as f32 + 1.0))
        .collect();
    println!(
        "before allreduce:\n {}\n {}",
        torch_repr(&data[0]),
        torch_repr(&data[1])
    );
    allreduce(&mut data);
    println!(
        "after allreduce:\n {}\n {}",
        torch_repr(&data[0]),
        torch_repr(&data[1])
    );
    for d in &data {
        assert_eq!(d.to_data().to_vec::<f32>()?, [3.0, 3.0]);
    }
    // ANCHOR_END: allreduce

    // split_batch: four rows over two devices.
    d2l::cell("split"); // ANCHOR: split
    let x = Tensor::<B, 1, Int>::arange(0..20, device)
        .float()
        .reshape([4, 5]);
    let y = Tensor::<B, 1, Int>::arange(0..4, device);
    let split = split_batch(x.clone(), y, &devices)?;
    println!("input : {}", torch_repr(&x));
    println!("load into {} devices", devices.len());
    for (part, _) in &split {
        println!("output: {}", torch_repr(part));
    }
    let expected: Vec<f32> = (10..20).map(|v| v as f32).collect();
    assert_eq!(split[1].0.to_data().to_vec::<f32>()?, expected);
    // ANCHOR_END: split

    // The book's parameters (scale 0.01) and a fixed synthetic batch of 8 images.
    d2l::cell("train"); // ANCHOR: train
    let scale = |t: Tensor<AB<B>, 4>| t * 0.01;
    let normal = |shape: [usize; 4]| {
        scale(Tensor::random(
            shape,
            Distribution::Normal(0.0, 1.0),
            device,
        ))
    };
    let params: Params<AB<B>> = vec![
        normal([20, 1, 3, 3]),
        Tensor::zeros([1, 1, 1, 20], device),
        normal([50, 20, 5, 5]),
        Tensor::zeros([1, 1, 1, 50], device),
        normal([1, 1, 800, 128]),
        Tensor::zeros([1, 1, 1, 128], device),
        normal([1, 1, 128, 10]),
        Tensor::zeros([1, 1, 1, 10], device),
    ];
    let x = Tensor::<AB<B>, 4>::random([8, 1, 28, 28], Distribution::Default, device);
    let labels: Vec<i64> = (0..8).map(|i| i % 10).collect();
    let y = Tensor::<AB<B>, 1, Int>::from_data(TensorData::new(labels, [8]), device);

    // One device on the whole batch, then two devices on half batches: the same steps.
    let mut runs = Vec::new();
    for num_gpus in [1, 2] {
        let mut device_params: Vec<Params<AB<B>>> = devices[..num_gpus]
            .iter()
            .map(|d| get_params(&params, d))
            .collect();
        let mut losses = Vec::new();
        for _ in 0..3 {
            let l = train_batch(
                x.clone(),
                y.clone(),
                &mut device_params,
                &devices[..num_gpus],
                0.2,
            )?;
            losses.push(l);
        }
        println!("{num_gpus} device(s): loss per step {losses:.4?}");
        assert!(losses.iter().all(|l| l.is_finite()) && losses[2] < losses[0]);
        // Every device holds the same parameters after each step.
        for other in &device_params[1..] {
            for (a, b) in other.iter().zip(&device_params[0]) {
                assert_eq!(a.to_data(), b.to_data());
            }
        }
        runs.push((losses, device_params.swap_remove(0)));
    }
    let (one, two) = (&runs[0], &runs[1]);
    let mut worst = 0f32;
    for (a, b) in one.1.iter().zip(&two.1) {
        let (a, b) = (a.to_data().to_vec::<f32>()?, b.to_data().to_vec::<f32>()?);
        worst = a
            .iter()
            .zip(&b)
            .fold(worst, |w, (a, b)| w.max((a - b).abs()));
    }
    println!("largest parameter difference, 1 vs 2 devices: {worst:.1e}");
    assert!(worst < 1e-5, "{worst}");
    // ANCHOR_END: train
    Ok(())
}
