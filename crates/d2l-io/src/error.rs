//! The one error type of this crate, and the report of a state load.

use core::fmt;
use std::path::PathBuf;

use d2l_params::ParamError;
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

/// A key whose tensor in the file does not fit the model's parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The key.
    pub key: String,
    /// The parameter's shape (PyTorch orientation) and dtype kind.
    pub expected: String,
    /// What the file holds.
    pub actual: String,
}

/// What loading a state dict found: PyTorch's `_IncompatibleKeys` and its strict errors, in one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Keys whose values were (or would be) loaded, every position of a tied parameter.
    pub loaded: Vec<String>,
    /// Model keys the file lacks.
    pub missing: Vec<String>,
    /// File keys the model lacks, each with the closest model key (a typo's likely fix).
    pub unexpected: Vec<(String, Option<String>)>,
    /// Keys whose shape or dtype does not fit.
    pub mismatched: Vec<Mismatch>,
    /// Pairs of keys of one tied parameter that the file gives different values.
    pub untied: Vec<(String, String)>,
}

impl LoadReport {
    /// Whether every model key was found and fits, and the file has nothing else.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.unexpected.is_empty() && self.is_consistent()
    }

    /// Whether nothing would be loaded wrongly: no mismatched and no untied keys (what a
    /// non-strict load needs; PyTorch's `strict=False` also refuses size mismatches).
    pub fn is_consistent(&self) -> bool {
        self.mismatched.is_empty() && self.untied.is_empty()
    }
}

impl fmt::Display for LoadReport {
    /// PyTorch's `Error(s) in loading state_dict`, with the closest key for each unexpected one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let quoted = |keys: &mut dyn Iterator<Item = &String>| {
            keys.map(|k| format!("\"{k}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        write!(f, "Error(s) in loading state_dict:")?;
        if !self.missing.is_empty() {
            write!(f, " Missing key(s): {}.", quoted(&mut self.missing.iter()))?;
        }
        if !self.unexpected.is_empty() {
            let keys: Vec<String> = self
                .unexpected
                .iter()
                .map(|(key, closest)| match closest {
                    Some(c) => format!("\"{key}\" (did you mean \"{c}\"?)"),
                    None => format!("\"{key}\""),
                })
                .collect();
            write!(f, " Unexpected key(s): {}.", keys.join(", "))?;
        }
        for m in &self.mismatched {
            write!(
                f,
                " size mismatch for {}: copying a param with {} from checkpoint, the {} in current model.",
                m.key, m.actual, m.expected
            )?;
        }
        for (a, b) in &self.untied {
            write!(
                f,
                " tied parameters \"{a}\" and \"{b}\" have different values in the checkpoint."
            )?;
        }
        Ok(())
    }
}
