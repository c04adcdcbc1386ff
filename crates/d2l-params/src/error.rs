//! The one error type of this crate.

use thiserror::Error;

use crate::report::LoadReport;

/// What can go wrong when reading, initializing or editing parameters.
///
/// Shapes are in PyTorch's orientation (a Linear weight is `[out, in]`), like the keys.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParamError {
    /// No parameter has this key.
    #[error("no parameter `{key}`; closest: {closest:?}")]
    UnknownKey {
        /// The key asked for.
        key: String,
        /// Up to three existing keys nearest to it (edit distance).
        closest: Vec<String>,
    },
    /// An initializer argument that is NaN, infinite or out of range.
    #[error("invalid initializer {init}: {reason}")]
    InvalidInit {
        /// The initializer, as written.
        init: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An initializer that needs fan-in/fan-out applied to a parameter without them.
    #[error("parameter `{path}` of shape {shape:?}: {init} needs a tensor of rank ≥ 2")]
    InitRank {
        /// The parameter's key.
        path: String,
        /// Its shape.
        shape: Vec<usize>,
        /// The initializer.
        init: String,
    },
    /// A new value whose shape differs from the parameter's.
    #[error("parameter `{path}`: expected shape {expected:?}, got {actual:?}")]
    Shape {
        /// The parameter's key.
        path: String,
        /// The parameter's shape.
        expected: Vec<usize>,
        /// The new value's shape.
        actual: Vec<usize>,
    },
    /// A typed accessor used with the wrong rank.
    #[error("parameter `{path}` has rank {actual}, not {expected}")]
    Rank {
        /// The parameter's key.
        path: String,
        /// The rank asked for.
        expected: usize,
        /// The parameter's rank.
        actual: usize,
    },
    /// A state dict that does not fit the model
    /// ([`load_state_dict`](crate::load_state_dict)): every missing, unexpected, mismatched
    /// and untied key. The model is unchanged.
    #[error("{0}")]
    Load(LoadReport),
}

/// Up to three of `keys` nearest to `key` by edit distance, nearest first (ties by key): the
/// "did you mean" of unknown keys here and in d2l-io.
///
/// ```
/// assert_eq!(d2l_params::closest("2.bais", ["0.weight", "2.bias"]), ["2.bias", "0.weight"]);
/// ```
pub fn closest<'a>(key: &str, keys: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut scored: Vec<(usize, &str)> = keys.into_iter().map(|k| (distance(key, k), k)).collect();
    scored.sort();
    scored.dedup();
    scored
        .into_iter()
        .take(3)
        .map(|(_, k)| k.to_owned())
        .collect()
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_keys_rank_by_edit_distance() {
        let keys = ["0.weight", "0.bias", "2.weight", "2.bias"];
        assert_eq!(closest("2.bais", keys), ["2.bias", "0.bias", "2.weight"]);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
