//! The record of a [`Sequential`](super::Sequential): parameters by dotted path.

use burn::record::{PrecisionSettings, Record};
use burn::tensor::TensorData;
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

/// A parameter of a [`SequentialRecord`]: its dotted path, id and value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ParamItem {
    /// Dotted path (`0.weight`).
    pub path: String,
    /// Burn's parameter id, serialized.
    pub id: u64,
    /// The value (Burn orientation), with its dtype and shape.
    pub data: TensorData,
}

/// The record of a [`Sequential`](super::Sequential): every float parameter by dotted path.
///
/// Loading matches by path; a parameter absent from the record, or present with another
/// shape, keeps its current value (strict, all-or-nothing loading with errors is `d2l-io`'s).
#[derive(Debug, Clone)]
pub struct SequentialRecord<B: Backend> {
    /// The parameters, in visit order.
    pub params: Vec<ParamItem>,
    pub(super) _backend: core::marker::PhantomData<B>,
}

impl<B: Backend> Record<B> for SequentialRecord<B> {
    type Item<S: PrecisionSettings> = Vec<ParamItem>;

    fn into_item<S: PrecisionSettings>(self) -> Self::Item<S> {
        self.params
    }

    fn from_item<S: PrecisionSettings>(item: Self::Item<S>, _device: &B::Device) -> Self {
        Self {
            params: item,
            _backend: core::marker::PhantomData,
        }
    }
}
