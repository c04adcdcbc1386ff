//! torchvision's `resnet18`: its `torch.save` file loads strictly into [`ResNet18`] and gives
//! PyTorch's eval output; a file saved here has exactly the keys, shapes and dtypes
//! `load_state_dict(strict=True)` demands (the fixture script loads it in PyTorch when asked).

use std::io::Read;

use burn::tensor::Tensor;
use d2l_blocks::Forward;
use d2l_device::backend_test;
use d2l_io::{load_state, load_tensors, save_state, save_tensors};
use d2l_layers::models::ResNet18;
use d2l_params::Parameters;

use super::{assert_close, fixtures, meta, strings, tensors, tolerance};

/// `resnet18.pt.gz` unpacked to a temporary file: a real `torch.save` archive.
fn torchvision_file(dir: &std::path::Path) -> std::path::PathBuf {
    let gz = std::fs::File::open(fixtures().join("resnet18.pt.gz")).expect("fixture");
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut bytes)
        .expect("gunzip");
    let path = dir.join("resnet18.pt");
    std::fs::write(&path, bytes).expect("write");
    path
}

backend_test! {
    fn torchvision_resnet18_loads_strictly_and_round_trips_both_ways<B>(device) {
        let dir = std::env::temp_dir().join(format!("d2l-resnet18-{}-{}", B::KIND, std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let meta = meta("resnet18");
        let io = tensors("resnet18");

        let mut net = ResNet18::<B>::new(1000, device);
        assert_eq!(net.repr(), meta["repr"].as_str().expect("repr"), "printout");
        let keys: Vec<String> = net.state_dict().keys().iter().map(|k| k.to_string()).collect();
        assert_eq!(keys, strings(&meta["keys"]), "state_dict keys");

        let report = load_state(torchvision_file(&dir), &mut net, true).expect("strict load");
        assert_eq!(report.loaded.len(), 122);
        net.set_training(false);
        // The full-size forward passes run on the CPU backends (and CUDA): on wgpu, CI's
        // lavapipe runs GPU kernels on the CPU, so there the test checks the files both ways
        // and the output of the small models in `models.rs` stands for the arithmetic.
        let full_size = B::KIND != d2l_device::backend::BackendKind::Wgpu;
        let x = Tensor::<B, 4>::from_data(io["x"].clone(), device);
        let y = if full_size {
            let y = Forward::forward(&net, x.into()).expect("forward").into_tensor::<2>().expect("rank 2");
            let y = y.into_data();
            assert_close(&y, &io["y"], tolerance::<B>(1e-3, 21), "eval output"); // 20 convolutions, 1 linear
            y
        } else {
            io["y"].clone()
        };
        assert_eq!(net.state_dict()["layer1.0.bn1.num_batches_tracked"].data().to_vec::<i64>().expect("i64"), vec![18]); // 7 + its index in the state dict

        // Saved here: PyTorch's keys, shapes and dtypes (int64 scalars included), and the
        // values that were loaded.
        let ours = dir.join("from_rust_resnet18.safetensors");
        save_state(&ours, &net).expect("save");
        let saved = load_tensors(&ours).expect("read back");
        let mut reference = ResNet18::<B>::new(1000, device);
        load_state(torchvision_file(&dir), &mut reference, true).expect("load");
        for view in reference.state_dict().iter() {
            let file = &saved[view.key()];
            assert_eq!((file.dtype, &file.shape[..]), (view.dtype(), &view.shape()[..]), "{}", view.key());
            assert_eq!(file, &view.data(), "{}", view.key());
        }
        assert_eq!(saved.len(), 122);
        // And it loads back strictly, giving the same output.
        let mut again = ResNet18::<B>::new(1000, device);
        load_state(&ours, &mut again, true).expect("strict reload");
        again.set_training(false);
        if full_size {
            let x = Tensor::<B, 4>::from_data(io["x"].clone(), device);
            let y2 = Forward::forward(&again, x.into()).expect("forward").into_tensor::<2>().expect("rank 2");
            assert_eq!(d2l_device::numerics::Tolerance::between_runs(B::KIND, 21).check_data(&y2.into_data(), &y), Ok(()));
        }
        assert_eq!(again.state_dict()["fc.bias"].data(), reference.state_dict()["fc.bias"].data());
        if std::env::var_os("D2L_KEEP_FIXTURE_OUTPUT").is_some() {
            std::fs::copy(&ours, fixtures().join("from_rust_resnet18.safetensors")).expect("keep");
            save_tensors(fixtures().join("from_rust_resnet18_y.safetensors"), [("y", y)]).expect("keep");
        }
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
