//! The one error type of this crate.

use std::path::PathBuf;

use d2l_params::{LoadReport, ParamError};
use thiserror::Error;

/// What can go wrong when saving or loading tensors and parameters. Every variant names the
/// file.
#[derive(Debug, Error)]
pub enum IoError {
    /// The file system refused (missing file, a directory, no permission, disk full, …). A
    /// save that fails so left its path untouched.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file was renamed into place — every reader sees the new content — but its
    /// directory could not be fsynced, so after a power loss it may hold its previous content
    /// (see [`write_atomic`](crate::write_atomic)).
    #[error("{path}: saved, but not durably (the directory could not be synced: {source})")]
    NotDurable {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a valid safetensors or PyTorch file (truncated, corrupted header,
    /// sizes that do not add up, a pickle that is not a state dict, …).
    #[error("{path}: not a valid {format} file: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// `safetensors` or `PyTorch`.
        format: &'static str,
        /// What the reader found wrong.
        reason: String,
    },
    /// A tensor that cannot be stored or used as asked (an unsupported dtype, a wrong rank).
    #[error("{path}: tensor `{key}`: {reason}")]
    Tensor {
        /// The file.
        path: PathBuf,
        /// The tensor's key.
        key: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The keys of the file are not the layout asked for (a list needs keys `0`, `1`, …).
    #[error("{path}: expected {expected}, found keys {found:?}")]
    Layout {
        /// The file.
        path: PathBuf,
        /// The layout asked for.
        expected: String,
        /// The keys found.
        found: Vec<String>,
    },
    /// A state dict that does not fit the model; the model is unchanged.
    #[error("{path}: {report}")]
    Load {
        /// The file.
        path: PathBuf,
        /// Every missing, unexpected, mismatched and untied key.
        report: LoadReport,
    },
    /// An architecture that cannot be saved or rebuilt (an unregistered block type, a tie, no
    /// or an invalid architecture in the file).
    #[error("{path}: {reason}")]
    Architecture {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the block's path and type.
        reason: String,
    },
    /// Writing the parameters failed (not expected after a clean report).
    #[error("{path}: {source}")]
    Param {
        /// The file.
        path: PathBuf,
        /// The parameter error.
        #[source]
        source: ParamError,
    },
}

impl From<core::convert::Infallible> for IoError {
    fn from(never: core::convert::Infallible) -> Self {
        match never {}
    }
}
