//! D2L §5.5 "File I/O": tensors, lists and dicts to files and back; a model's parameters saved
//! and loaded into a fresh model that then computes the same outputs.
//!
//! Run: `cargo run --example sec5_5_file_io`. Files go to a fresh directory under the system's
//! temporary directory.

use burn::tensor::{Distribution, Int, Tensor};
use d2l::blocks::Sequential;
use d2l::blocks::book::Mlp;
use d2l::device::backend::DeviceBackend;
use d2l::io::{
    load_list, load_state, load_tensor, load_tensors, save_list, save_state, save_tensor,
    save_tensors, tensor_on,
};
use d2l::print::torch_repr;

d2l::main!(section);

/// Every cell of §5.5, generic over the backend.
pub fn section<B: DeviceBackend>(device: &B::Device) -> d2l::Result {
    println!("## 5.5 File I/O — backend: {}", B::KIND);
    let dir = std::env::temp_dir().join(format!("d2l-sec5_5-{}-{}", B::KIND, std::process::id()));
    std::fs::create_dir_all(&dir)?;

    // 5.5.1 Loading and saving tensors.
    d2l::cell("save_tensor"); // ANCHOR: save_tensor
    let x = Tensor::<B, 1, Int>::arange(0..4, device);
    save_tensor(dir.join("x-file"), x.to_data())?;
    let x2: Tensor<B, 1, Int> = tensor_on(load_tensor(dir.join("x-file"))?, device, "x")?;
    println!("x2 = {}", ints(&x2));
    assert_eq!(x2.to_data(), x.to_data());
    // ANCHOR_END: save_tensor

    d2l::cell("save_list"); // ANCHOR: save_list
    let y = Tensor::<B, 1>::zeros([4], device);
    save_list(dir.join("x-files"), [x.to_data(), y.to_data()])?;
    let [x2, y2]: [_; 2] = load_list(dir.join("x-files"))?
        .try_into()
        .map_err(|_| "two tensors")?;
    let (x2, y2): (Tensor<B, 1, Int>, Tensor<B, 1>) =
        (tensor_on(x2, device, "0")?, tensor_on(y2, device, "1")?);
    println!("(x2, y2) = ({}, {})", ints(&x2), torch_repr(&y2));
    assert_eq!((x2.to_data(), y2.to_data()), (x.to_data(), y.to_data()));
    // ANCHOR_END: save_list

    d2l::cell("save_dict"); // ANCHOR: save_dict
    save_tensors(dir.join("mydict"), [("x", x.to_data()), ("y", y.to_data())])?;
    let mydict2 = load_tensors(dir.join("mydict"))?;
    let (x2, y2): (Tensor<B, 1, Int>, Tensor<B, 1>) = (
        tensor_on(mydict2["x"].clone(), device, "x")?,
        tensor_on(mydict2["y"].clone(), device, "y")?,
    );
    println!("mydict2 = {{'x': {}, 'y': {}}}", ints(&x2), torch_repr(&y2));
    assert_eq!(mydict2.keys().collect::<Vec<_>>(), ["x", "y"]);
    // ANCHOR_END: save_dict

    // 5.5.2 Loading and saving model parameters.
    d2l::cell("save_params"); // ANCHOR: save_params
    let net = Sequential::<B>::new().add(Mlp::new(device));
    let x = Tensor::<B, 2>::random([2, 20], Distribution::Normal(0.0, 1.0), device);
    let y = net.forward(x.clone())?;
    save_state(dir.join("mlp.params"), &net)?;
    // ANCHOR_END: save_params

    d2l::cell("load_params"); // ANCHOR: load_params
    let mut clone = Sequential::<B>::new().add(Mlp::new(device));
    let report = load_state(dir.join("mlp.params"), &mut clone, true)?;
    println!("loaded {:?}", report.loaded);
    println!("{}", &clone[0]);
    // ANCHOR_END: load_params
    d2l::cell("compare"); // ANCHOR: compare
    let y_clone = clone.forward(x)?;
    let same: Vec<bool> = y_clone
        .to_data()
        .iter::<f32>()
        .zip(y.to_data().iter::<f32>())
        .map(|(a, b)| a == b)
        .collect();
    println!("Y_clone == Y: {same:?}");
    assert!(
        same.iter().all(|&s| s),
        "the clone computes exactly what the original does"
    );
    // ANCHOR_END: compare

    // A file that does not fit is an error naming every problem; the model is unchanged.
    d2l::cell("bad_file"); // ANCHOR: bad_file
    let mut other = Sequential::<B>::new()
        .add(Mlp::new(device))
        .add(d2l::blocks::Identity::new());
    let before = d2l::io::state_tensors(&other);
    save_tensors(dir.join("typo.params"), [("0.hiden.weight", y.to_data())])?;
    let err = load_state(dir.join("typo.params"), &mut other, true).expect_err("a typo in the key");
    println!("load_state(typo.params) -> {err}");
    assert_eq!(d2l::io::state_tensors(&other), before);
    // ANCHOR_END: bad_file

    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

/// PyTorch's printout of an integer tensor: `tensor([0, 1, 2, 3])`.
fn ints<B: burn::tensor::backend::Backend>(x: &Tensor<B, 1, Int>) -> String {
    let values: Vec<String> = x.to_data().iter::<i64>().map(|v| v.to_string()).collect();
    format!("tensor([{}])", values.join(", "))
}
