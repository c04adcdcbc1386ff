//! Where a load's values come from: tensors in memory, or a safetensors file read tensor by
//! tensor.

use std::collections::HashMap;

use burn::tensor::{DType, TensorData};
use d2l_blocks::tensor;

use crate::file::safetensors::SafetensorsFile;
use crate::{IoError, TensorMap};

/// The values of a load.
pub(crate) trait Source: Sync {
    /// The dtype and shape of `key`.
    fn meta(&self, key: &str) -> Option<(DType, &[usize])>;
    /// Every key.
    fn keys(&self) -> Vec<&str>;
    /// Whether `a` and `b` hold the same dtype, shape and values.
    fn same(&self, a: &str, b: &str) -> Result<bool, IoError>;
    /// The value of `key` (present), transposed from PyTorch's orientation to Burn's if
    /// `transposed` (on the host, into Burn's contiguous layout: the loaded model computes bit
    /// for bit what the saved one did). `scratch` is a buffer to reuse between calls.
    fn value(
        &self,
        key: &str,
        transposed: bool,
        scratch: &mut Vec<u8>,
    ) -> Result<TensorData, IoError>;
}

impl Source for TensorMap {
    fn meta(&self, key: &str) -> Option<(DType, &[usize])> {
        self.get(key).map(|d| (d.dtype, d.shape.as_slice()))
    }
    fn keys(&self) -> Vec<&str> {
        self.keys().map(String::as_str).collect()
    }
    fn same(&self, a: &str, b: &str) -> Result<bool, IoError> {
        Ok(self.get(a) == self.get(b))
    }
    fn value(&self, key: &str, transposed: bool, _: &mut Vec<u8>) -> Result<TensorData, IoError> {
        let data = &self[key];
        Ok(if transposed {
            tensor::transpose_data(data)
        } else {
            data.clone()
        })
    }
}

impl Source for SafetensorsFile {
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

/// The values of `plan` (`(first key, key in the source, transposed)`) by first key, read on
/// two threads (copying and transposing into fresh memory is what a load spends its time on),
/// each taking the largest value left.
pub(crate) fn read_values(
    tensors: &dyn Source,
    mut plan: Vec<(&str, &str, bool)>,
) -> Result<HashMap<String, TensorData>, IoError> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const THREADS: usize = 2;
    let elements = |key: &str| {
        tensors
            .meta(key)
            .map_or(0, |(_, shape)| shape.iter().product())
    };
    plan.sort_by_key(|&(_, key, _)| std::cmp::Reverse(elements(key)));
    let next = AtomicUsize::new(0);
    let (plan, next) = (&plan, &next);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(move || {
                    let mut scratch = Vec::new();
                    let mut values = Vec::new();
                    while let Some(&(first, key, transposed)) =
                        plan.get(next.fetch_add(1, Ordering::Relaxed))
                    {
                        values.push((
                            first.to_owned(),
                            tensors.value(key, transposed, &mut scratch)?,
                        ));
                    }
                    Ok::<_, IoError>(values)
                })
            })
            .collect();
        let mut values = HashMap::new();
        for handle in handles {
            let lane = handle.join().map_err(|_| IoError::Io {
                path: Default::default(),
                source: std::io::Error::other("a reader thread panicked"),
            })??;
            values.extend(lane);
        }
        Ok(values)
    })
}
