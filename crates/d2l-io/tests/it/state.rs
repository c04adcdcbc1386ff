//! §5.5.2: model parameters — save, load into a fresh model, identical outputs; strict,
//! transactional loading; ties.

use burn::nn::{Linear, Relu};
use burn::tensor::{Distribution, Tensor, TensorData};
use d2l_blocks::Sequential;
use d2l_blocks::book::{Mlp, constant_linear, tied};
use d2l_device::backend_test;
use d2l_io::{IoError, load_state, load_tensors, save_state, save_tensors, state_tensors};
use d2l_params::{Parameters, edit_param};

use crate::scratch;

backend_test! {
    fn a_saved_mlp_loads_into_a_fresh_one_with_identical_outputs<B>(device) {
        let dir = scratch(&format!("mlp-{}", B::KIND));
        let net = Sequential::<B>::new().add(Mlp::new(device));
        let x = Tensor::<B, 2>::random([2, 20], Distribution::Normal(0.0, 1.0), device);
        let y = net.forward(x.clone()).expect("forward");
        save_state(dir.join("mlp.params"), &net).expect("save");
        let mut clone = Sequential::<B>::new().add(Mlp::new(device));
        let report = load_state(dir.join("mlp.params"), &mut clone, true).expect("load");
        assert_eq!(report.loaded, ["0.hidden.weight", "0.hidden.bias", "0.output.weight", "0.output.bias"]);
        assert!(report.is_clean());
        let y_clone = clone.forward(x).expect("forward");
        // Y_clone == Y: bit for bit where kernels are fixed; within rounding where autotuned.
        assert_eq!(d2l_device::numerics::Tolerance::between_runs(B::KIND, 2).check_data(&y_clone.into_data(), &y.into_data()), Ok(()), "Y_clone == Y");
    }
}

backend_test! {
    fn files_use_pytorch_keys_and_orientation<B>(device) {
        let dir = scratch(&format!("orientation-{}", B::KIND));
        // Burn stores Linear(3, 2)'s weight as [3, 2]; the file holds PyTorch's [2, 3].
        let mut net = Sequential::<B>::new().add(constant_linear(3, 2, 0.0, device)).add(Relu::new());
        edit_param(&mut net, "0.weight", |w: Tensor<B, 2>| {
            Tensor::from_floats([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], &w.device())
        }).expect("edit");
        save_state(dir.join("net.safetensors"), &net).expect("save");
        let file = load_tensors(dir.join("net.safetensors")).expect("read");
        assert_eq!(file["0.weight"].shape.to_vec(), [2, 3]);
        assert_eq!(file["0.weight"].iter::<f32>().collect::<Vec<_>>(), [1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
        assert_eq!(state_tensors(&net).len(), 2);
    }
}

backend_test! {
    fn a_failed_load_names_every_problem_and_changes_nothing<B>(device) {
        let dir = scratch(&format!("strict-{}", B::KIND));
        let mut net = Sequential::<B>::new().add(constant_linear(4, 2, 1.0, device)).add(Relu::new()).add(constant_linear(2, 1, 1.0, device));
        let before = state_tensors(&net);
        save_tensors(dir.join("bad.safetensors"), [
            ("0.weight", TensorData::new(vec![9.0f32; 8], [2, 4])),          // fits
            ("0.bias", TensorData::new(vec![9.0f32; 3], [3])),               // wrong shape
            ("2.wieght", TensorData::new(vec![9.0f32; 2], [1, 2])),          // typo
            ("2.bias", TensorData::new(vec![9i64], [1])),                    // wrong dtype
        ]).expect("save");
        let err = load_state(dir.join("bad.safetensors"), &mut net, true).expect_err("strict");
        let IoError::Load { path, report } = &err else { panic!("{err}") };
        assert!(path.ends_with("bad.safetensors"));
        assert_eq!(report.missing, ["2.weight"]);
        assert_eq!(report.unexpected, [("2.wieght".to_owned(), Some("2.weight".to_owned()))]);
        let bad: Vec<&str> = report.mismatched.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(bad, ["0.bias", "2.bias"]);
        let text = err.to_string();
        assert!(text.contains("Missing key(s): \"2.weight\"") && text.contains("did you mean \"2.weight\"?"), "{text}");
        assert!(text.contains("size mismatch for 0.bias: copying a param with shape [3] (F32) from checkpoint, the shape [2] (float) in current model"), "{text}");
        assert_eq!(state_tensors(&net), before, "a failed load leaves the model exactly as it was");
        // Non-strict still refuses the mismatches (as PyTorch does)...
        assert!(load_state(dir.join("bad.safetensors"), &mut net, false).is_err());
        assert_eq!(state_tensors(&net), before);
        // ...and loads what matches when nothing is inconsistent, reporting the rest.
        save_tensors(dir.join("partial.safetensors"), [
            ("0.weight", TensorData::new(vec![9.0f32; 8], [2, 4])),
            ("extra", TensorData::new(vec![1.0f32], [1])),
        ]).expect("save");
        let report = load_state(dir.join("partial.safetensors"), &mut net, false).expect("non-strict");
        assert_eq!(report.loaded, ["0.weight"]);
        assert_eq!(report.missing, ["0.bias", "2.weight", "2.bias"]);
        assert_eq!(report.unexpected.len(), 1);
        assert_eq!(report.unexpected[0].0, "extra");
        assert!(!report.is_clean() && report.is_consistent());
        assert!(net.param("0.weight").expect("weight").data().iter::<f32>().all(|v| v == 9.0));
        assert!(net.param("0.bias").expect("bias").data().iter::<f32>().all(|v| v == 1.0));
    }
}

backend_test! {
    fn ties_are_saved_at_every_position_and_kept_on_load<B>(device) {
        let dir = scratch(&format!("tied-{}", B::KIND));
        let (net, _) = tied::<B>(device);
        save_state(dir.join("tied.safetensors"), &net).expect("save");
        let file = load_tensors(dir.join("tied.safetensors")).expect("read");
        assert_eq!(file["2.weight"], file["4.weight"], "both positions are written");
        let (mut fresh, shared) = tied::<B>(device);
        load_state(dir.join("tied.safetensors"), &mut fresh, true).expect("load");
        assert_eq!(fresh.param("4.weight").expect("w").data(), net.param("4.weight").expect("w").data());
        // Still one parameter: an edit through the shared block shows at both positions.
        shared.with_mut(|l: &mut Linear<B>| edit_param(l, "weight", |w: Tensor<B, 2>| w + 1.0)).expect("linear").expect("edit");
        assert_eq!(fresh.param("2.weight").expect("w").data(), fresh.param("4.weight").expect("w").data());
        // A file that gives the two positions different values is an error.
        let mut file = file;
        file.insert("4.weight".into(), TensorData::new(vec![0.25f32; 64], [8, 8]));
        save_tensors(dir.join("untied.safetensors"), file).expect("save");
        let err = load_state(dir.join("untied.safetensors"), &mut fresh, false).expect_err("untied");
        let IoError::Load { report, .. } = &err else { panic!("{err}") };
        assert_eq!(report.untied, [("2.weight".to_owned(), "4.weight".to_owned())]);
    }
}

backend_test! {
    fn other_float_precisions_convert_on_load<B>(device) {
        let dir = scratch(&format!("f64-{}", B::KIND));
        let mut net = Sequential::<B>::new().add(constant_linear(2, 1, 0.0, device));
        save_tensors(dir.join("f64.safetensors"), [
            ("0.weight", TensorData::new(vec![0.5f64, -1.5], [1, 2])),
            ("0.bias", TensorData::new(vec![2.0f64], [1])),
        ]).expect("save");
        load_state(dir.join("f64.safetensors"), &mut net, true).expect("load");
        let y = net.forward(Tensor::<B, 2>::from_floats([[2.0, 1.0]], device)).expect("forward");
        assert_eq!(y.into_data().iter::<f32>().collect::<Vec<_>>(), [1.5]);
    }
}

backend_test! {
    fn a_large_model_saves_byte_identical_to_the_safetensors_crate_and_loads_back<B>(device) {
        // 9.6 MB: written straight to the device where the file system allows (bands of
        // transposed Linear weights in aligned blocks), the last block partial.
        let dir = scratch(&format!("large-{}", B::KIND));
        let net = Sequential::<B>::new()
            .add(burn::nn::LinearConfig::new(1201, 1100).init(device))
            .add(Relu::new())
            .add(burn::nn::LinearConfig::new(1100, 977).init(device));
        save_state(dir.join("large.safetensors"), &net).expect("save");
        let written = std::fs::read(dir.join("large.safetensors")).expect("read");
        // The same tensors, read back and transposed one by one, serialized by the crate.
        let tensors = state_tensors(&net);
        let views: Vec<_> = tensors
            .iter()
            .map(|(key, data)| {
                let view = safetensors::tensor::TensorView::new(
                    safetensors::Dtype::F32,
                    data.shape.to_vec(),
                    data.as_bytes(),
                )
                .expect("view");
                (key.clone(), view)
            })
            .collect();
        let expected = safetensors::serialize(views, None).expect("serialize");
        assert_eq!(written.len(), expected.len());
        assert!(written == expected, "the file differs from safetensors::serialize");
        let mut clone = Sequential::<B>::new()
            .add(burn::nn::LinearConfig::new(1201, 1100).init(device))
            .add(Relu::new())
            .add(burn::nn::LinearConfig::new(1100, 977).init(device));
        load_state(dir.join("large.safetensors"), &mut clone, true).expect("load");
        let x = Tensor::<B, 2>::random([3, 1201], Distribution::Normal(0.0, 1.0), device);
        // Once first: a GPU backend autotunes its kernels at first use (see training.rs).
        let _warm = net.forward(x.clone()).expect("forward").into_data();
        assert_eq!(
            clone.forward(x.clone()).expect("forward").into_data(),
            net.forward(x).expect("forward").into_data()
        );
    }
}
