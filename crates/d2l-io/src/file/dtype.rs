//! The one mapping between Burn's dtypes and safetensors' dtypes.

use burn::tensor::{BoolStore, DType};
use safetensors::Dtype as S;

/// The Burn dtype of a safetensors dtype, if Burn has one.
pub(crate) fn to_burn(dtype: S) -> Option<DType> {
    Some(match dtype {
        S::F64 => DType::F64,
        S::F32 => DType::F32,
        S::F16 => DType::F16,
        S::BF16 => DType::BF16,
        S::I64 => DType::I64,
        S::I32 => DType::I32,
        S::I16 => DType::I16,
        S::I8 => DType::I8,
        S::U64 => DType::U64,
        S::U32 => DType::U32,
        S::U16 => DType::U16,
        S::U8 => DType::U8,
        S::BOOL => DType::Bool(BoolStore::Native),
        _ => return None,
    })
}

/// The safetensors dtype of a Burn dtype, if safetensors has one (booleans must be stored
/// natively, one byte each: the writer converts others first).
pub(crate) fn to_safetensors(dtype: DType) -> Option<S> {
    Some(match dtype {
        DType::F64 => S::F64,
        DType::F32 | DType::Flex32 => S::F32,
        DType::F16 => S::F16,
        DType::BF16 => S::BF16,
        DType::I64 => S::I64,
        DType::I32 => S::I32,
        DType::I16 => S::I16,
        DType::I8 => S::I8,
        DType::U64 => S::U64,
        DType::U32 => S::U32,
        DType::U16 => S::U16,
        DType::U8 => S::U8,
        DType::Bool(BoolStore::Native) => S::BOOL,
        DType::Bool(_) | DType::QFloat(_) => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_safetensors_dtype_burn_has_maps_back_to_itself() {
        for dtype in [
            S::F64,
            S::F32,
            S::F16,
            S::BF16,
            S::I64,
            S::I32,
            S::I16,
            S::I8,
            S::U64,
            S::U32,
            S::U16,
            S::U8,
            S::BOOL,
        ] {
            let burn = to_burn(dtype).expect("Burn has it");
            assert_eq!(to_safetensors(burn), Some(dtype));
        }
        assert_eq!(to_burn(S::F8_E4M3), None);
        assert_eq!(to_safetensors(DType::Bool(BoolStore::U8)), None);
    }
}
