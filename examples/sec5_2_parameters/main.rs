//! D2L §5.2 "Parameter Management": access, nested names, initialization, custom init, tying.
//!
//! Run: `cargo run --example sec5_2_parameters`. Values differ from the book (another RNG);
//! keys, shapes, the 42s and the tie checks match.

use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::{Distribution, Tensor, TensorData};
use d2l::blocks::{Sequential, Shared};
use d2l::device::backend::{BackendTask, DeviceBackend, run_selected};
use d2l::params::{Init, Parameters, apply, edit_param, init_module, init_params};
use d2l::print::{format_data, torch_repr};

/// Every cell of §5.2, generic over the backend.
pub struct Section;

/// `tensor(...)` of host data (rows of a PyTorch-oriented parameter).
fn show(data: &TensorData) -> String {
    format!("tensor({})", format_data(data, "tensor(".len()))
}

/// Row `i` of a rank-2 PyTorch-oriented parameter (`net[0].weight.data[0]`).
fn row(data: &TensorData, i: usize) -> TensorData {
    let cols = data.shape[1];
    let values = data.to_vec::<f32>().unwrap_or_default();
    TensorData::new(values[i * cols..(i + 1) * cols].to_vec(), [cols])
}

fn block1<B: burn::tensor::backend::Backend>(device: &B::Device) -> Sequential<B> {
    Sequential::new()
        .add(LinearConfig::new(4, 8).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(8, 4).init(device))
        .add(Relu::new())
}

fn block2<B: burn::tensor::backend::Backend>(device: &B::Device) -> Sequential<B> {
    (0..4).fold(Sequential::new(), |net, i| match net.clone().add_named(format!("block {i}"), block1(device)) {
        Ok(net) => net,
        Err(_) => net,
    })
}

impl BackendTask for Section {
    type Output = ();

    fn run<B: DeviceBackend>(self, device: &B::Device) {
        println!("## 5.2 Parameter Management — backend: {}", B::KIND);
        B::seed(device, 0);
        let mut net = Sequential::<B>::new()
            .add(LinearConfig::new(4, 8).init(device))
            .add(Relu::new())
            .add(LinearConfig::new(8, 1).init(device));
        let x = Tensor::<B, 2>::random([2, 4], Distribution::Uniform(0.0, 1.0), device);
        if let Ok(y) = net.forward_tensor::<2, 2>(x.clone()) {
            println!("net(X) = {}", torch_repr(&y));
        }

        // 5.2.1 Parameter access.
        let layer = net[2].state_dict();
        for p in layer.iter() {
            println!("net[2].state_dict()[{:?}] = {}", p.key(), show(&p.data()));
        }
        println!("net[2].bias = {}", layer["bias"]);
        println!("net[2].bias.data = {}", show(&layer["bias"].data()));
        let first: Vec<String> = net[0].named_parameters().iter().map(|p| format!("('{}', {:?})", p.key(), p.shape())).collect();
        println!("{}", first.join(" "));
        let all: Vec<String> = net.named_parameters().iter().map(|p| format!("('{}', {:?})", p.key(), p.shape())).collect();
        println!("{}", all.join(" "));
        println!("net.state_dict()['2.bias'].data = {}", show(&net.state_dict()["2.bias"].data()));

        // Parameters of nested blocks.
        let rgnet = Sequential::<B>::new().add(block2(device)).add(LinearConfig::new(4, 1).init(device));
        if let Ok(y) = rgnet.forward_tensor::<2, 2>(x.clone()) {
            println!("rgnet(X) = {}", torch_repr(&y));
        }
        println!("{rgnet}");
        println!("rgnet[0][1][0].bias.data = {}", show(&rgnet[0][1][0].state_dict()["bias"].data()));

        // 5.2.2 Parameter initialization: built-in.
        let linear_normal = |p: &d2l::params::ParamInfo| match (p.container.as_str(), p.name.as_str()) {
            ("Linear", "weight") => Some(Init::Normal { mean: 0.0, std: 0.01 }),
            ("Linear", "bias") => Some(Init::Zeros),
            _ => None,
        };
        if init_params(&mut net, linear_normal).is_ok() {
            let sd = net.state_dict();
            println!("normal: net[0].weight.data[0] = {}, net[0].bias.data[0] = {}",
                show(&row(&sd["0.weight"].data(), 0)), sd["0.bias"].data().to_vec::<f32>().unwrap_or_default()[0]);
        }
        if init_params(&mut net, |p| (p.container == "Linear").then_some(if p.name == "weight" { Init::Constant(1.0) } else { Init::Zeros })).is_ok() {
            let sd = net.state_dict();
            println!("constant: net[0].weight.data[0] = {}, net[0].bias.data[0] = {}",
                show(&row(&sd["0.weight"].data(), 0)), sd["0.bias"].data().to_vec::<f32>().unwrap_or_default()[0]);
        }
        if let Some(first) = net.child_mut::<Linear<B>>(0) {
            let _ = init_module(first, |p| (p.name == "weight").then_some(Init::XavierUniform { gain: 1.0 }));
        }
        if let Some(last) = net.child_mut::<Linear<B>>(2) {
            let _ = init_module(last, |_| Some(Init::Constant(42.0)));
        }
        let sd = net.state_dict();
        println!("xavier: net[0].weight.data[0] = {}", show(&row(&sd["0.weight"].data(), 0)));
        println!("init_42: net[2].weight.data = {}", show(&sd["2.weight"].data()));

        // Custom initialization (the book's my_init).
        let _ = init_params(&mut net, |p| {
            (p.container == "Linear" && p.name == "weight").then(|| {
                println!("Init {} {:?}", p.name, p.shape);
                Init::Uniform { low: -10.0, high: 10.0 }
            })
        });
        apply(&mut net, |_, block| {
            if let Some(linear) = block.downcast_mut::<Linear<B>>() {
                let _ = edit_param(&mut linear.weight, |w| {
                    let keep = w.clone().abs().greater_equal_elem(5.0).float();
                    w * keep
                });
            }
        });
        let w = net.state_dict()["0.weight"].data();
        let cols = w.shape[1];
        let top = TensorData::new(w.to_vec::<f32>().unwrap_or_default()[..2 * cols].to_vec(), [2, cols]);
        println!("net[0].weight[:2] = {}", show(&top));
        if let Some(first) = net.child_mut::<Linear<B>>(0) {
            let _ = edit_param(&mut first.weight, |w| w + 1.0);
            let _ = edit_param(&mut first.weight, |w| w.slice_assign([0..1, 0..1], Tensor::full([1, 1], 42.0, device)));
        }
        println!("net[0].weight.data[0] = {}", show(&row(&net.state_dict()["0.weight"].data(), 0)));

        // 5.2.3 Tied parameters.
        let shared = Shared::new(LinearConfig::new(8, 8).init::<B>(device));
        let net = Sequential::<B>::new()
            .add(LinearConfig::new(4, 8).init(device))
            .add(Relu::new())
            .add(shared.clone())
            .add(Relu::new())
            .add(shared.clone())
            .add(Relu::new())
            .add(LinearConfig::new(8, 1).init(device));
        let _ = net.forward(x);
        let same = |net: &Sequential<B>| {
            let sd = net.state_dict();
            let (a, b) = (row(&sd["2.weight"].data(), 0), row(&sd["4.weight"].data(), 0));
            let flags: Vec<&str> = a.to_vec::<f32>().unwrap_or_default().iter()
                .zip(b.to_vec::<f32>().unwrap_or_default())
                .map(|(x, y)| if *x == y { "True" } else { "False" })
                .collect();
            format!("tensor([{}])", flags.join(", "))
        };
        println!("{}", same(&net));
        shared.with_mut(|l: &mut Linear<B>| {
            let _ = edit_param(&mut l.weight, |w| w.slice_assign([0..1, 0..1], Tensor::full([1, 1], 100.0, device)));
        });
        println!("{}", same(&net));
        println!("net[2].weight.data[0, 0] = {}, net[4].weight.data[0, 0] = {}",
            row(&net.state_dict()["2.weight"].data(), 0).to_vec::<f32>().unwrap_or_default()[0],
            row(&net.state_dict()["4.weight"].data(), 0).to_vec::<f32>().unwrap_or_default()[0]);
    }
}

#[allow(dead_code)]
fn main() {
    if let Err(err) = run_selected(Section) {
        eprintln!("sec5_2_parameters: {err}");
        std::process::exit(1);
    }
}
