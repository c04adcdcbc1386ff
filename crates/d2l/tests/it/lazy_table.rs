//! A user's own lazy layer whose rank-2 `weight` is *not* transposed (an embedding table):
//! the shapes of a state dict reach it in PyTorch's orientation, as its spec declares them —
//! no rule guesses that every rank-2 weight is a `Linear`'s.

use std::collections::HashMap;

use burn::module::{AutodiffModule, Module};
use burn::nn::{Embedding, EmbeddingConfig};
use burn::tensor::TensorData;
use burn::tensor::backend::{AutodiffBackend, Backend};
use d2l_blocks::Sequential;
use d2l_device::backend_test;
use d2l_layers::{Deferred, Lazy};
use d2l_params::{Parameters, Strict, load_state_dict};

/// An embedding table of `dim` columns whose row count comes from the first state loaded.
#[derive(Debug, Clone)]
struct TableSpec {
    dim: usize,
}

impl Deferred for TableSpec {
    type Block<B: Backend> = Embedding<B>;

    fn infer(&self, _: &[usize]) -> Option<usize> {
        None
    }
    fn inferred<B: Backend>(block: &Embedding<B>) -> usize {
        block.weight.dims()[0]
    }
    fn from_shapes(&self, shapes: &[(String, Vec<usize>)]) -> Option<usize> {
        match shapes.iter().find(|(k, _)| k == "weight")?.1.as_slice() {
            &[rows, dim] if dim == self.dim => Some(rows),
            _ => None,
        }
    }
    fn from_record<B: Backend>(
        &self,
        record: &<Embedding<B> as Module<B>>::Record,
    ) -> Option<(usize, B::Device)> {
        let [rows, dim] = record.weight.dims();
        (dim == self.dim).then(|| (rows, record.weight.device()))
    }
    fn build<B: Backend>(&self, rows: usize, device: &B::Device) -> Embedding<B> {
        EmbeddingConfig::new(rows, self.dim).init(device)
    }
    fn lazy_repr(&self) -> String {
        format!("LazyTable(0, {})", self.dim)
    }
    fn pending_shapes(&self) -> Vec<(&'static str, Vec<isize>)> {
        vec![("weight", vec![-1, self.dim as isize])]
    }
    fn valid<B: AutodiffBackend>(block: &Embedding<B>) -> Embedding<B::InnerBackend> {
        block.valid()
    }
    fn from_inner<B: AutodiffBackend>(block: Embedding<B::InnerBackend>) -> Embedding<B> {
        Embedding::from_inner(block)
    }
}

backend_test! {
    fn a_users_lazy_table_takes_its_rows_from_a_state_dict<B>(device) {
        // 5 rows of 3: PyTorch's and Burn's layout alike.
        let values: Vec<f32> = (0..15).map(|v| v as f32).collect();
        let state = HashMap::from([("0.weight".to_string(), TensorData::new(values.clone(), [5, 3]))]);
        let mut net = Sequential::<B>::new().add(Lazy::<B, TableSpec>::from_spec(TableSpec { dim: 3 }));
        let report = load_state_dict(&mut net, &state, Strict::Yes).expect("strict load");
        assert_eq!(report.loaded, ["0.weight"]);
        let weight = net.param("0.weight").expect("built");
        assert_eq!(weight.shape(), [5, 3]);
        assert_eq!(weight.data().to_vec::<f32>().expect("f32"), values);
        // Through a record (Burn's orientation, the same here) into a fresh lazy net.
        let fresh = Sequential::<B>::new().add(Lazy::<B, TableSpec>::from_spec(TableSpec { dim: 3 }));
        let fresh = fresh.load_record(net.clone().into_record());
        assert_eq!(fresh.param("0.weight").expect("built").data().to_vec::<f32>().expect("f32"), values);
        let _ = device;
    }
}
