//! What a load found: PyTorch's `_IncompatibleKeys` and its strict errors, in one report.

use core::fmt;

/// A key whose tensor in the state does not fit the model's parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The key.
    pub key: String,
    /// The parameter's shape (PyTorch orientation) and dtype kind.
    pub expected: String,
    /// What the state holds.
    pub actual: String,
}

/// What loading a state dict found: PyTorch's `_IncompatibleKeys` and its strict errors, in one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Keys whose values were (or would be) loaded, every position of a tied parameter.
    pub loaded: Vec<String>,
    /// Model keys the state lacks.
    pub missing: Vec<String>,
    /// State keys the model lacks, each with the closest model key (a typo's likely fix).
    pub unexpected: Vec<(String, Option<String>)>,
    /// Keys whose shape or dtype does not fit.
    pub mismatched: Vec<Mismatch>,
    /// Pairs of keys of one tied parameter that the state gives different values.
    pub untied: Vec<(String, String)>,
}

impl LoadReport {
    /// Whether every model key was found and fits, and the state has nothing else.
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
