//! D2L §5.6 "GPUs": devices, counts, `try_gpu`, copies and a model on a device.
//!
//! Run: `cargo run --example sec5_6_gpus` (CPU, ndarray), or with `--features d2l/wgpu` and
//! `D2L_BACKEND=wgpu`, or `--features d2l/cuda` and `D2L_BACKEND=cuda`, or `--features d2l/tch`
//! and `D2L_BACKEND=tch` (PyTorch's libtorch; see the README). Runs without a GPU: the
//! book's `try_gpu()` then falls back to the CPU.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Distribution, Tensor};
use d2l::device::backend::DeviceBackend;
use d2l::device::{
    DeviceSpec, TensorDeviceExt, Transfer, device_name, list_devices, module_device, move_module,
    num_gpus, try_all_gpus, try_gpu,
};
use d2l::print::torch_repr;

d2l::main!(section);

/// Every cell of §5.6, generic over the backend.
pub fn section<B: DeviceBackend>(_device: &B::Device) -> d2l::Result {
    println!("## 5.6 GPUs — backend: {}", B::KIND);
    println!(
        "devices on this backend: {}",
        names::<B>(&list_devices::<B>())
    );

    // 5.6.1 Computing devices.
    d2l::cell("devices"); // ANCHOR: devices
    let specs: Vec<DeviceSpec> = ["cpu", "cuda", "cuda:1"]
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    println!("device names: {specs:?} -> {}", names_of(&specs));
    // Naming a device this backend does not have is an error, never a panic.
    for name in ["cpu", "gpu:0", "cuda:1"] {
        match d2l::device::device::<B>(name) {
            Ok(d) => println!("  {name:<7} -> {}", device_name::<B>(&d)),
            Err(err) => println!("  {name:<7} -> error: {err}"),
        }
    }
    // ANCHOR_END: devices
    d2l::cell("num_gpus"); // ANCHOR: num_gpus
    println!("num_gpus() = {}", num_gpus::<B>());
    // ANCHOR_END: num_gpus
    d2l::cell("try_gpu"); // ANCHOR: try_gpu
    println!(
        "try_gpu() = {}, try_gpu(10) = {}, try_all_gpus() = {}",
        device_name::<B>(&try_gpu::<B>(0)),
        device_name::<B>(&try_gpu::<B>(10)),
        names::<B>(&try_all_gpus::<B>()),
    );
    // ANCHOR_END: try_gpu

    // 5.6.2 Tensors and GPUs.
    d2l::cell("x_device"); // ANCHOR: x_device
    let x = Tensor::<B, 1>::from_floats([1.0, 2.0, 3.0], &try_gpu::<B>(0));
    println!("x.device = {}", device_name::<B>(&x.device()));
    // ANCHOR_END: x_device

    d2l::cell("storage"); // ANCHOR: storage
    let gpu0 = try_gpu::<B>(0);
    let gpu1 = try_gpu::<B>(1);
    let big_x = Tensor::<B, 2>::ones([2, 3], &gpu0);
    println!("X = {}", torch_repr(&big_x));
    B::seed(&gpu1, 0);
    let y = Tensor::<B, 2>::random([2, 3], Distribution::Uniform(0.0, 1.0), &gpu1);
    println!("Y = {}", torch_repr(&y));
    // ANCHOR_END: storage

    d2l::cell("copying"); // ANCHOR: copying
    let z = big_x.copy_to(&gpu1);
    println!("X = {}", torch_repr(&big_x));
    println!("Z = {}", torch_repr(&z));
    println!("Y + Z = {}", torch_repr(&(y + z.clone())));
    // ANCHOR_END: copying
    d2l::cell("no_copy"); // ANCHOR: no_copy
    let moved = z.move_to(&gpu1);
    println!("Z.cuda(1) is Z: {}", moved.transfer == Transfer::None);
    assert_eq!(
        moved.transfer,
        Transfer::None,
        "moving to its own device is a no-op" // ANCHOR_END: no_copy
    );

    // 5.6.3 Neural networks and GPUs.
    d2l::cell("net_on_gpu"); // ANCHOR: net_on_gpu
    let net: Linear<B> = LinearConfig::new(3, 1).init(&B::Device::default());
    let net = move_module(net, &gpu0);
    let out = net.forward(big_x);
    println!("net(X) = {}", torch_repr(&out));
    assert_eq!(out.dims(), [2, 1]);
    let on = module_device::<B, _>(&net)?;
    println!("net[0].weight.data.device = {}", device_name::<B>(&on));
    assert_eq!(device_name::<B>(&on), device_name::<B>(&gpu0));
    println!("net parameters: {}", net.num_params());
    // ANCHOR_END: net_on_gpu
    Ok(())
}

fn names<B: DeviceBackend>(devices: &[B::Device]) -> String {
    let names: Vec<String> = devices
        .iter()
        .map(|d| device_name::<B>(d).to_string())
        .collect();
    format!("[{}]", names.join(", "))
}

fn names_of(specs: &[DeviceSpec]) -> String {
    let names: Vec<String> = specs.iter().map(ToString::to_string).collect();
    names.join(", ")
}
