//! Building a [`Sequential`]: positional and named children, boxed or not, with one check.

use burn::tensor::backend::Backend;

use super::Sequential;
use crate::path::check_name;
use crate::{Block, BlockError};

impl<B: Backend> Sequential<B> {
    /// Appends `block` under the next positional name (`"0"`, `"1"`, …).
    ///
    /// A block with a parameter of a rank that cannot cross a `dyn Block` boundary (above
    /// [`MAX_RANK`](crate::MAX_RANK)) is kept, but the chain's [`forward`](Self::forward)
    /// returns [`BlockError::UnsupportedRank`] and visitors skip that parameter;
    /// [`try_add`](Self::try_add) rejects such a block instead.
    pub fn add(mut self, block: impl Block<B>) -> Self {
        self.push_boxed(Box::new(block));
        self
    }

    /// [`add`](Self::add), rejecting a block whose parameters cannot all cross a `dyn Block`
    /// boundary.
    ///
    /// # Errors
    /// [`BlockError::UnsupportedRank`] naming the parameter and its rank.
    pub fn try_add(mut self, block: impl Block<B>) -> Result<Self, BlockError> {
        let name = self.next_name();
        self.check_child(&name, &block)?;
        self.insert(name, Box::new(block));
        Ok(self)
    }

    /// Appends an already boxed block under the next positional name (see [`add`](Self::add)).
    pub fn push_boxed(&mut self, block: Box<dyn Block<B>>) {
        let name = self.next_name();
        self.insert(name, block);
    }

    /// Appends `block` under `name` (PyTorch's `add_module`), e.g. `"block 0"`.
    ///
    /// # Errors
    /// [`BlockError::InvalidName`] for an empty name or one containing `.` (the path
    /// separator), [`BlockError::DuplicateName`] if a child already has that name,
    /// [`BlockError::UnsupportedRank`] as [`try_add`](Self::try_add).
    pub fn add_named(
        mut self,
        name: impl Into<String>,
        block: impl Block<B>,
    ) -> Result<Self, BlockError> {
        self.push_named_boxed(name, Box::new(block))?;
        Ok(self)
    }

    /// Appends an already boxed block under `name` (see [`add_named`](Self::add_named)).
    ///
    /// # Errors
    /// As [`add_named`](Self::add_named).
    pub fn push_named_boxed(
        &mut self,
        name: impl Into<String>,
        block: Box<dyn Block<B>>,
    ) -> Result<(), BlockError> {
        let name = name.into();
        self.check_child(&name, block.as_ref())?;
        self.insert(name, block);
        Ok(())
    }

    /// The first positional name not taken (`"3"` after three children).
    fn next_name(&self) -> String {
        (self.children.len()..)
            .map(|i| i.to_string())
            .find(|name| !self.index.contains_key(name))
            .unwrap_or_default()
    }

    pub(super) fn insert(&mut self, name: String, block: Box<dyn Block<B>>) {
        if self.invalid.is_none() {
            self.invalid = block.check_ranks().err().map(|e| e.within(&name));
        }
        self.index.insert(name.clone(), self.children.len());
        self.children.push((name, block));
        self.lifts.push(None);
    }

    /// The one check of a child about to be added under `name`: a valid, unused name and
    /// parameters whose ranks can cross a `dyn Block` boundary.
    fn check_child(&self, name: &str, block: &dyn Block<B>) -> Result<(), BlockError> {
        check_name(name)?;
        if self.index.contains_key(name) {
            return Err(BlockError::DuplicateName {
                name: name.to_owned(),
            });
        }
        block.check_ranks().map_err(|e| e.within(name))
    }
}
