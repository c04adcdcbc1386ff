//! A module's parameters as a snapshot for the writer: the part of a save that must happen
//! before training goes on.

use burn::tensor::backend::Backend;
use d2l_blocks::path::Visitable;
use d2l_blocks::tensor;
use d2l_params::Parameters;

use crate::file::entry::{Entry, HostBytes, HostTensor};

impl<B: Backend> HostTensor for burn::tensor::TensorPrimitive<B> {
    fn bytes(&self) -> &[u8] {
        tensor::host_bytes(self).unwrap_or_default()
    }
}

/// Every parameter position of `module` (PyTorch keys and shapes), in Burn's orientation: on
/// flex and ndarray a handle to each parameter (no copy), elsewhere a copy read back to the
/// host (the only part of a save that waits for the device). Linear weights are left for the
/// writer to transpose.
pub(crate) fn snapshot<B: Backend, T: Visitable<B> + ?Sized>(module: &T) -> Vec<Entry> {
    module
        .state_dict()
        .iter()
        .map(|view| {
            if view.is_torch_scalar() {
                // PyTorch's int64 scalar (`num_batches_tracked`), converted here.
                return Entry {
                    key: view.key().to_owned(),
                    dtype: view.dtype(),
                    shape: view.shape(),
                    bytes: HostBytes::Data(view.data()),
                    transposed: false,
                };
            }
            let bytes = match view.host_bytes() {
                Some(_) => HostBytes::Tensor(Box::new(view.primitive().clone())),
                None => HostBytes::Data(tensor::to_data(view.primitive())),
            };
            let dtype = match &bytes {
                HostBytes::Data(data) => data.dtype,
                HostBytes::Tensor(_) => view.dtype(),
            };
            Entry {
                key: view.key().to_owned(),
                dtype,
                shape: view.shape(),
                bytes,
                transposed: view.is_transposed(),
            }
        })
        .collect()
}
