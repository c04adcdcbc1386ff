//! The one place that turns a run-time rank into Burn's const rank.
//!
//! Burn's visitors, mappers and typed tensors name their rank as a const generic
//! (`visit_float::<D>`, `Tensor<B, D>`); a `dyn Block` child hands parameters and activations
//! over with a rank known only at run time. [`with_rank!`](crate::with_rank) is the single
//! dispatch from one to the other; everything that can work on a rank-erased tensor primitive
//! does so instead (see [`crate::tensor`]).

/// The highest rank a tensor may have where it crosses a `dyn Block` boundary (an activation
/// between blocks, a parameter of a child of a [`Sequential`](crate::Sequential)).
///
/// Burn itself has no such limit; a rank this crate cannot name is
/// [`BlockError::UnsupportedRank`](crate::BlockError::UnsupportedRank), never a panic.
pub const MAX_RANK: usize = 6;

/// Evaluates `$body` with `const $d: usize` bound to the run-time rank `$rank`:
/// `Some(body)` for ranks `1..=MAX_RANK`, `None` for any other rank.
///
/// ```
/// use d2l_blocks::{MAX_RANK, with_rank};
///
/// assert_eq!(with_rank!(3, D => [0u8; D].len()), Some(3));
/// assert_eq!(with_rank!(MAX_RANK + 1, D => D), None);
/// ```
#[macro_export]
macro_rules! with_rank {
    ($rank:expr, $d:ident => $body:expr) => {
        match $rank {
            1 => {
                const $d: usize = 1;
                ::core::option::Option::Some($body)
            }
            2 => {
                const $d: usize = 2;
                ::core::option::Option::Some($body)
            }
            3 => {
                const $d: usize = 3;
                ::core::option::Option::Some($body)
            }
            4 => {
                const $d: usize = 4;
                ::core::option::Option::Some($body)
            }
            5 => {
                const $d: usize = 5;
                ::core::option::Option::Some($body)
            }
            6 => {
                const $d: usize = 6;
                ::core::option::Option::Some($body)
            }
            _ => ::core::option::Option::None,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::MAX_RANK;

    #[test]
    fn every_rank_up_to_max_is_named_and_no_other() {
        for rank in 1..=MAX_RANK {
            assert_eq!(with_rank!(rank, D => D), Some(rank));
        }
        assert_eq!(with_rank!(0, D => D), None);
        assert_eq!(with_rank!(MAX_RANK + 1, D => D), None);
    }
}
