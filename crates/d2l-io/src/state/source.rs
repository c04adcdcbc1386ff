//! A safetensors file as a [`StateSource`]: each value read from the file when the load asks,
//! transposed while in cache.

use burn::tensor::{DType, TensorData};
use d2l_blocks::tensor;
use d2l_params::StateSource;

use crate::IoError;
use crate::file::safetensors::SafetensorsFile;

impl StateSource for SafetensorsFile {
    type Error = IoError;

    fn meta(&self, key: &str) -> Option<(DType, &[usize])> {
        self.tensors.get(key).map(|t| (t.dtype, t.shape.as_slice()))
    }
    fn keys(&self) -> Vec<&str> {
        self.tensors.keys().map(String::as_str).collect()
    }
    fn same(&self, a: &str, b: &str) -> Result<bool, IoError> {
        let (Some(x), Some(y)) = (self.tensors.get(a), self.tensors.get(b)) else {
            return Ok(false);
        };
        Ok(x.dtype == y.dtype && x.shape == y.shape && self.data(x)? == self.data(y)?)
    }
    fn value(
        &self,
        key: &str,
        transposed: bool,
        scratch: &mut Vec<u8>,
    ) -> Result<TensorData, IoError> {
        let stored = &self.tensors[key];
        let (true, &[rows, cols]) = (transposed, stored.shape.as_slice()) else {
            return self.data(stored);
        };
        // Read in bands of about 1 MB and transpose each while it is in cache.
        let size = stored.dtype.size();
        let row_bytes = cols * size;
        let band = ((1 << 20) / row_bytes.max(1)).clamp(1, rows.max(1));
        let mut out = tensor::zeroed_bytes(stored.len(), stored.dtype);
        for start in (0..rows).step_by(band) {
            let end = (start + band).min(rows);
            scratch.resize((end - start) * row_bytes, 0);
            self.read_range(stored, start * row_bytes, scratch)?;
            tensor::transpose_rows(scratch, start..end, rows, cols, size, &mut out);
        }
        Ok(TensorData::from_bytes(out, [cols, rows], stored.dtype))
    }
}
