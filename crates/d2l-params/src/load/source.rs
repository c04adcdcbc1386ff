//! Where a load's values come from: a [`StateSource`] — tensors in memory here, a file read
//! tensor by tensor in `d2l-io` — and the reading of every value before anything changes.

use core::convert::Infallible;
use std::collections::{BTreeMap, HashMap};

use burn::tensor::{DType, TensorData};
use d2l_blocks::tensor;

/// The values of a state-dict load, by PyTorch key and in PyTorch's orientation: a
/// `HashMap<String, TensorData>` in memory, or a file that reads each value when asked
/// (`d2l-io`'s safetensors reader).
pub trait StateSource: Sync {
    /// Why a value could not be read (`Infallible` in memory).
    type Error: Send;

    /// The dtype and shape of `key`, or `None` if the source lacks it.
    fn meta(&self, key: &str) -> Option<(DType, &[usize])>;
    /// Every key.
    fn keys(&self) -> Vec<&str>;
    /// Whether `a` and `b` hold the same dtype, shape and values.
    ///
    /// # Errors
    /// A value that cannot be read.
    fn same(&self, a: &str, b: &str) -> Result<bool, Self::Error>;
    /// The value of `key` (present), transposed from PyTorch's orientation to Burn's if
    /// `transposed` (into Burn's contiguous layout, so the loaded model computes bit for bit
    /// what the saved one did). `scratch` is a buffer to reuse between calls.
    ///
    /// # Errors
    /// A value that cannot be read.
    fn value(
        &self,
        key: &str,
        transposed: bool,
        scratch: &mut Vec<u8>,
    ) -> Result<TensorData, Self::Error>;
}

/// In memory: any map from key to value (`HashMap`, `BTreeMap`).
macro_rules! in_memory {
    ($map:ident) => {
        impl StateSource for $map<String, TensorData> {
            type Error = Infallible;

            fn meta(&self, key: &str) -> Option<(DType, &[usize])> {
                self.get(key).map(|d| (d.dtype, d.shape.as_slice()))
            }
            fn keys(&self) -> Vec<&str> {
                self.keys().map(String::as_str).collect()
            }
            fn same(&self, a: &str, b: &str) -> Result<bool, Infallible> {
                Ok(self.get(a) == self.get(b))
            }
            fn value(
                &self,
                key: &str,
                transposed: bool,
                _: &mut Vec<u8>,
            ) -> Result<TensorData, Infallible> {
                let data = &self[key];
                Ok(if transposed {
                    tensor::transpose_data(data)
                } else {
                    data.clone()
                })
            }
        }
    };
}

in_memory!(HashMap);
in_memory!(BTreeMap);

/// The values of `plan` (`(first key, key in the source, transposed)`) by first key, read on
/// two threads (copying and transposing into fresh memory is what a load spends its time on),
/// each taking the largest value left.
pub(super) fn read_values<S: StateSource + ?Sized>(
    source: &S,
    mut plan: Vec<(&str, &str, bool)>,
) -> Result<HashMap<String, TensorData>, S::Error> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    const THREADS: usize = 2;
    let elements = |key: &str| {
        source
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
                            source.value(key, transposed, &mut scratch)?,
                        ));
                    }
                    Ok(values)
                })
            })
            .collect();
        let mut values = HashMap::new();
        for handle in handles {
            // A reader that panicked re-raises here: a bug in a source, not bad input.
            let lane = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            values.extend(lane);
        }
        Ok(values)
    })
}
