//! The one error type of this crate.

use thiserror::Error;

/// What can go wrong when building or running a block tree.
///
/// Errors raised inside a child carry the child's path (`0.block 1.2`, PyTorch's dotted names),
/// prefixed on the way out by each enclosing [`Sequential`](crate::Sequential). Shapes are the
/// full input shapes; widths follow PyTorch's `in_features` (the last dimension).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BlockError {
    /// The input has a rank the block cannot take.
    #[error("layer `{path}`: expected a rank-{expected} input, got shape {actual:?}")]
    Rank {
        /// Dotted path of the block that rejected the input (empty: the top block).
        path: String,
        /// The rank the block needs (or the lowest rank it accepts).
        expected: usize,
        /// The input's shape.
        actual: Vec<usize>,
    },
    /// The input's last dimension is not the block's input width.
    #[error("layer `{path}`: expected input width {expected}, got shape {actual:?}")]
    Width {
        /// Dotted path of the block that rejected the input.
        path: String,
        /// The block's input width (`in_features`).
        expected: usize,
        /// The input's shape.
        actual: Vec<usize>,
    },
    /// A lazy layer cannot infer its input width from this input (an empty last dimension).
    #[error(
        "layer `{path}`: cannot infer the input width from shape {actual:?}: the last dimension must be at least 1"
    )]
    InferWidth {
        /// Dotted path of the lazy layer.
        path: String,
        /// The input's shape.
        actual: Vec<usize>,
    },
    /// The input is on another device than the block's parameters.
    #[error("layer `{path}`: parameters are on {expected} but the input is on {actual}")]
    Device {
        /// Dotted path of the block.
        path: String,
        /// The parameters' device.
        expected: String,
        /// The input's device.
        actual: String,
    },
    /// No child at this position.
    #[error("no child at index {index}: the Sequential has {len} children")]
    Index {
        /// The index asked for.
        index: usize,
        /// How many children there are.
        len: usize,
    },
    /// Two children with the same name in one container.
    #[error("a child named `{name}` already exists")]
    DuplicateName {
        /// The repeated name.
        name: String,
    },
    /// A child name that cannot be part of a dotted path.
    #[error("invalid child name `{name}`: {reason}")]
    InvalidName {
        /// The name.
        name: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// A tensor of a rank that cannot cross a `dyn Block` boundary (see
    /// [`MAX_RANK`](crate::MAX_RANK)).
    #[error("layer `{path}`: rank {rank} is not supported (blocks take ranks 1 to {max})", max = crate::MAX_RANK)]
    UnsupportedRank {
        /// Dotted path of the block, or of the parameter.
        path: String,
        /// The rank found.
        rank: usize,
    },
    /// A computation met a NaN or infinite value it cannot go on with.
    #[error("layer `{path}`: {what} is not finite")]
    NonFinite {
        /// Dotted path of the block.
        path: String,
        /// What was not finite.
        what: String,
    },
    /// An input whose channel dimension (dimension 1) does not match the block's.
    #[error("layer `{path}`: expected {expected} input channels, got shape {actual:?}")]
    Channels {
        /// Dotted path of the block.
        path: String,
        /// The block's input channels.
        expected: usize,
        /// The input's shape.
        actual: Vec<usize>,
    },
    /// A spatial input smaller than the block's (dilated) kernel after padding.
    #[error(
        "layer `{path}`: input shape {actual:?} is too small: with padding {padding:?}, \
         the spatial sizes must be at least the kernel's extent {kernel:?}"
    )]
    TooSmall {
        /// Dotted path of the block.
        path: String,
        /// The (dilated) kernel extent per spatial dimension.
        kernel: Vec<usize>,
        /// The padding per spatial dimension (each side).
        padding: Vec<usize>,
        /// The input's shape.
        actual: Vec<usize>,
    },
    /// Batch statistics asked of a batch with one value per channel (PyTorch's
    /// `ValueError: Expected more than 1 value per channel when training`).
    #[error(
        "layer `{path}`: expected more than 1 value per channel when training, got input shape \
         {actual:?}"
    )]
    SingleValue {
        /// Dotted path of the block.
        path: String,
        /// The input's shape.
        actual: Vec<usize>,
    },
    /// An index input outside `0..len` or not an integer (an `Embedding` lookup).
    #[error("layer `{path}`: index {value} is not an integer in 0..{len}")]
    BadIndex {
        /// Dotted path of the block.
        path: String,
        /// The offending value, as printed.
        value: String,
        /// The number of rows.
        len: usize,
    },
    /// A block-specific failure.
    #[error("layer `{path}`: {message}")]
    Custom {
        /// Dotted path of the block.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// The `path` field of the variants that have one: the variant list, written once.
macro_rules! path_of {
    ($error:expr) => {
        match $error {
            BlockError::Rank { path, .. }
            | BlockError::Width { path, .. }
            | BlockError::Device { path, .. }
            | BlockError::InferWidth { path, .. }
            | BlockError::UnsupportedRank { path, .. }
            | BlockError::NonFinite { path, .. }
            | BlockError::Channels { path, .. }
            | BlockError::TooSmall { path, .. }
            | BlockError::SingleValue { path, .. }
            | BlockError::BadIndex { path, .. }
            | BlockError::Custom { path, .. } => Some(path),
            BlockError::Index { .. }
            | BlockError::DuplicateName { .. }
            | BlockError::InvalidName { .. } => None,
        }
    };
}

impl BlockError {
    /// The dotted path of the block the error comes from (empty for the top block).
    pub fn path(&self) -> &str {
        path_of!(self).map_or("", String::as_str)
    }

    /// The same error, seen from the parent that holds the failing block as child `name`.
    pub fn within(mut self, name: &str) -> Self {
        if let Some(path) = path_of!(&mut self) {
            *path = crate::key::join(name, path);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_grow_from_the_inside_out() {
        let err = BlockError::Width {
            path: String::new(),
            expected: 8,
            actual: vec![2, 4],
        };
        let err = err.within("2").within("block 1").within("0");
        assert_eq!(err.path(), "0.block 1.2");
        assert_eq!(
            err.to_string(),
            "layer `0.block 1.2`: expected input width 8, got shape [2, 4]"
        );
    }
}
