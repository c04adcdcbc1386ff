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
        $crate::__rank_arms!($rank, $d, $body, 1 2 3 4 5 6)
    };
}

/// The arms of [`with_rank!`], one per rank up to [`MAX_RANK`]. Not public API.
#[doc(hidden)]
#[macro_export]
macro_rules! __rank_arms {
    ($rank:expr, $d:ident, $body:expr, $($n:literal)*) => {
        match $rank {
            $($n => {
                const $d: usize = $n;
                ::core::option::Option::Some($body)
            })*
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
