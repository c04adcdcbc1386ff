//! A snapshot's tensors: what every saver hands the writer.

use burn::tensor::{BoolStore, DType, TensorData};

/// A tensor whose bytes a backend keeps on the host (a parameter of flex or ndarray, held
/// without a copy: Burn's tensors are values, and a backend writes in place only into a buffer
/// nothing else holds, so training goes on beside the snapshot).
pub(crate) trait HostTensor: Send + Sync {
    /// Its bytes (none if the backend no longer keeps them on the host: the write then reports
    /// a size mismatch).
    fn bytes(&self) -> &[u8];
}

/// The bytes of one tensor of a snapshot: the one owner type of the save pipeline.
pub(crate) enum HostBytes {
    /// Host data (the caller's tensors, or a parameter read back from a device).
    Data(TensorData),
    /// A backend tensor kept on the host.
    Tensor(Box<dyn HostTensor>),
}

impl HostBytes {
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            HostBytes::Data(data) => data.as_bytes(),
            HostBytes::Tensor(tensor) => tensor.bytes(),
        }
    }
}

/// One tensor of a snapshot: key, dtype and shape as the file holds them, and its bytes.
pub(crate) struct Entry {
    /// The key in the file.
    pub key: String,
    /// The dtype in the file.
    pub dtype: DType,
    /// The shape in the file.
    pub shape: Vec<usize>,
    /// The bytes, row-major in the shape `shape` — or in `shape` reversed if `transposed`.
    pub bytes: HostBytes,
    /// Whether the bytes hold the transpose of the rank-2 `shape` (a Linear weight in Burn's
    /// `[in, out]`), to be written transposed.
    pub transposed: bool,
}

impl Entry {
    /// Host data under `key`; booleans stored as u8/u32 are converted to safetensors' native
    /// booleans.
    pub(crate) fn data(key: String, data: TensorData) -> Self {
        let data = match data.dtype {
            DType::Bool(store) if store != BoolStore::Native => {
                TensorData::new(data.iter::<bool>().collect::<Vec<bool>>(), data.shape)
            }
            _ => data,
        };
        Entry {
            key,
            dtype: data.dtype,
            shape: data.shape.to_vec(),
            bytes: HostBytes::Data(data),
            transposed: false,
        }
    }
}
