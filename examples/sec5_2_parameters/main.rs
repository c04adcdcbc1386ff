//! D2L §5.2 "Parameter Management": access, nested names, initialization, custom init, tying.
//!
//! Run: `cargo run --example sec5_2_parameters`. Values differ from the book (another RNG);
//! keys, shapes, the 42s and the tie checks match. The network is built on `Autodiff<B>`, so
//! parameters print `requires_grad=True` as in the book.

use burn::backend::Autodiff;
use burn::nn::{Linear, LinearConfig, Relu};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor, TensorData};
use d2l::blocks::book::{rgnet, tied};
use d2l::blocks::{Block, Sequential};
use d2l::device::backend::DeviceBackend;
use d2l::params::{Init, ParamError, Parameters, edit_param, init_params};
use d2l::print::{format_data, torch_repr};

d2l::main!(section);

/// Every cell of §5.2, generic over the backend.
pub fn section<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    type Ad<B> = Autodiff<B>;
    println!("## 5.2 Parameter Management — backend: {}", B::KIND);
    B::seed(device, 0);
    d2l::cell("setup"); // ANCHOR: setup
    let mut net = Sequential::<Ad<B>>::new()
        .add(LinearConfig::new(4, 8).init(device))
        .add(Relu::new())
        .add(LinearConfig::new(8, 1).init(device));
    let x = Tensor::<Ad<B>, 2>::random([2, 4], Distribution::Uniform(0.0, 1.0), device);
    let y = net.forward(x.clone())?;
    println!("net(X).shape = {:?}", y.dims());
    assert_eq!(y.dims(), [2, 1]);
    // ANCHOR_END: setup

    // 5.2.1 Parameter access.
    d2l::cell("targeted"); // ANCHOR: targeted
    let layer = net[2].state_dict();
    println!("net[2].state_dict() keys = {:?}", layer.keys());
    assert_eq!(layer.keys(), ["weight", "bias"]);
    println!("net[2].bias = {}", layer.get("bias")?);
    println!("net[2].bias.data = {}", show(&layer.get("bias")?.data()));
    // ANCHOR_END: targeted
    d2l::cell("all_params"); // ANCHOR: all_params
    let first: Vec<String> = net[0]
        .named_parameters()
        .iter()
        .map(|p| format!("('{}', {:?})", p.key(), p.shape()))
        .collect();
    println!("{}", first.join(" "));
    let all: Vec<String> = net
        .named_parameters()
        .iter()
        .map(|p| format!("('{}', {:?})", p.key(), p.shape()))
        .collect();
    println!("{}", all.join(" "));
    assert_eq!(net.param("0.weight")?.shape(), [8, 4]);
    println!(
        "net.state_dict()['2.bias'].data = {}",
        show(&net.param("2.bias")?.data())
    );
    // ANCHOR_END: all_params

    // Parameters of nested blocks.
    d2l::cell("nested"); // ANCHOR: nested
    let rgnet = rgnet::<B>(4, device);
    let y = rgnet.forward(Tensor::<B, 2>::random(
        [2, 4],
        Distribution::Uniform(0.0, 1.0),
        device,
    ))?;
    println!("rgnet(X) = {}", torch_repr(&y));
    println!("{rgnet}");
    let bias = rgnet[0][1][0].state_dict().get("bias")?.data();
    println!("rgnet[0][1][0].bias.data = {}", show(&bias));
    assert_eq!(bias.shape.to_vec(), [8]);
    // ANCHOR_END: nested

    // 5.2.2 Parameter initialization: built-in, through apply.
    d2l::cell("init_normal"); // ANCHOR: init_normal
    net.try_apply(init_normal)?;
    let (w, b) = (net.param("0.weight")?.data(), net.param("0.bias")?.data());
    println!(
        "normal: net[0].weight.data[0] = {}, net[0].bias.data[0] = {}",
        show(&row(&w, 0)),
        show(&TensorData::new(
            vec![b.iter::<f32>().next().unwrap_or(f32::NAN)],
            [1]
        ))
    );
    assert!(b.iter::<f32>().all(|v| v == 0.0));
    // ANCHOR_END: init_normal
    d2l::cell("init_constant"); // ANCHOR: init_constant
    net.try_apply(init_constant)?;
    let w = net.param("0.weight")?.data();
    println!("constant: net[0].weight.data[0] = {}", show(&row(&w, 0)));
    assert!(w.iter::<f32>().all(|v| v == 1.0));
    // ANCHOR_END: init_constant

    // Per layer: Xavier on net[0], 42 on net[2].
    d2l::cell("init_per_layer"); // ANCHOR: init_per_layer
    let first = net
        .child_mut::<Linear<Ad<B>>>(0)
        .ok_or("net[0] is a Linear")?;
    init_params(first, |p| {
        (p.name == "weight").then_some(Init::XavierUniform { gain: 1.0 })
    })?;
    let last = net
        .child_mut::<Linear<Ad<B>>>(2)
        .ok_or("net[2] is a Linear")?;
    init_params(last, |_| Some(Init::Constant(42.0)))?;
    println!(
        "xavier: net[0].weight.data[0] = {}",
        show(&row(&net.param("0.weight")?.data(), 0))
    );
    let w42 = net.param("2.weight")?.data();
    println!("init_42: net[2].weight.data = {}", show(&w42));
    assert!(w42.iter::<f32>().all(|v| v == 42.0));
    // ANCHOR_END: init_per_layer

    // Custom initialization.
    d2l::cell("my_init"); // ANCHOR: my_init
    net.try_apply(my_init)?;
    let w = net.param("0.weight")?.data();
    let top = TensorData::new(w.iter::<f32>().take(8).collect::<Vec<f32>>(), [2, 4]);
    println!("net[0].weight[:2] = {}", show(&top));
    assert!(
        w.iter::<f32>()
            .all(|v| v == 0.0 || (5.0..=10.0).contains(&v.abs()))
    );
    // ANCHOR_END: my_init

    // Setting parameters directly: w[:] += 1; w[0, 0] = 42 (one element in both orientations).
    d2l::cell("set_directly"); // ANCHOR: set_directly
    edit_param(&mut net, "0.weight", |w: Tensor<Ad<B>, 2>| w + 1.0)?;
    edit_param(&mut net, "0.weight", |w: Tensor<Ad<B>, 2>| {
        w.slice_assign([0..1, 0..1], Tensor::full([1, 1], 42.0, device))
    })?;
    let row0 = row(&net.param("0.weight")?.data(), 0);
    println!("net[0].weight.data[0] = {}", show(&row0));
    assert_eq!(row0.iter::<f32>().next(), Some(42.0));
    assert!(
        net.param("0.weight")?.requires_grad(),
        "edited parameters stay trainable"
    );
    // ANCHOR_END: set_directly

    // 5.2.3 Tied parameters.
    d2l::cell("tied"); // ANCHOR: tied
    let (mut net, _shared) = tied::<Ad<B>>(device);
    net.forward(x)?;
    let same = |net: &Sequential<Ad<B>>| -> Result<Vec<bool>, ParamError> {
        let (a, b) = (
            row(&net.param("2.weight")?.data(), 0),
            row(&net.param("4.weight")?.data(), 0),
        );
        Ok(a.iter::<f32>()
            .zip(b.iter::<f32>())
            .map(|(x, y)| x == y)
            .collect())
    };
    println!(
        "net[2].weight.data[0] == net[4].weight.data[0]: {:?}",
        same(&net)?
    );
    assert!(same(&net)?.iter().all(|&t| t));
    // Changing one position changes the other: they are the same parameter.
    edit_param(&mut net, "2.weight", |w: Tensor<Ad<B>, 2>| {
        w.slice_assign([0..1, 0..1], Tensor::full([1, 1], 100.0, device))
    })?;
    println!(
        "net[2].weight.data[0] == net[4].weight.data[0]: {:?}",
        same(&net)?
    );
    assert!(same(&net)?.iter().all(|&t| t));
    let (a, b) = (net.param("2.weight")?.data(), net.param("4.weight")?.data());
    println!(
        "net[2].weight.data[0, 0] = {:?}, net[4].weight.data[0, 0] = {:?}",
        a.iter::<f32>().next(),
        b.iter::<f32>().next()
    );
    assert_eq!(
        (a.iter::<f32>().next(), b.iter::<f32>().next()),
        (Some(100.0), Some(100.0))
    );
    // ANCHOR_END: tied
    Ok(())
}

/// `tensor(...)` of host data.
fn show(data: &TensorData) -> String {
    format!("tensor({})", format_data(data, "tensor(".len()))
}

/// Row `i` of a rank-2 PyTorch-oriented parameter (`net[0].weight.data[i]`).
fn row(data: &TensorData, i: usize) -> TensorData {
    let cols = data.shape[1];
    TensorData::new(
        data.iter::<f32>()
            .skip(i * cols)
            .take(cols)
            .collect::<Vec<f32>>(),
        [cols],
    )
}

// ANCHOR: init_normal_def
/// The book's `init_normal`: Linear weights from N(0, 0.01²), biases zero.
fn init_normal<B: Backend>(_path: &str, module: &mut dyn Block<B>) -> Result<(), ParamError> {
    if let Some(linear) = module.downcast_mut::<Linear<B>>() {
        init_params(linear, |p| {
            Some(if p.name == "weight" {
                Init::Normal {
                    mean: 0.0,
                    std: 0.01,
                }
            } else {
                Init::Zeros
            })
        })?;
    }
    Ok(())
}
// ANCHOR_END: init_normal_def

// ANCHOR: init_constant_def
/// The book's `init_constant`: Linear weights 1, biases zero.
fn init_constant<B: Backend>(_path: &str, module: &mut dyn Block<B>) -> Result<(), ParamError> {
    if let Some(linear) = module.downcast_mut::<Linear<B>>() {
        init_params(linear, |p| {
            Some(if p.name == "weight" {
                Init::Constant(1.0)
            } else {
                Init::Zeros
            })
        })?;
    }
    Ok(())
}
// ANCHOR_END: init_constant_def

// ANCHOR: my_init_def
/// The book's `my_init`: weights from U(-10, 10), zeroed where |w| < 5.
fn my_init<B: Backend>(_path: &str, module: &mut dyn Block<B>) -> Result<(), ParamError> {
    if let Some(linear) = module.downcast_mut::<Linear<B>>() {
        let first = linear
            .named_parameters()
            .into_iter()
            .next()
            .ok_or(ParamError::UnknownKey {
                key: "weight".into(),
                closest: vec![],
            })?;
        println!("Init {} {:?}", first.key(), first.shape());
        init_params(linear, |p| {
            (p.name == "weight").then_some(Init::Uniform {
                low: -10.0,
                high: 10.0,
            })
        })?;
        edit_param(linear, "weight", |w: Tensor<B, 2>| {
            w.clone() * w.abs().greater_equal_elem(5.0).float()
        })?;
    }
    Ok(())
}
// ANCHOR_END: my_init_def
