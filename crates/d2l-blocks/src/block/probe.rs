//! [`RankProbe`]: the check that every parameter of a block can cross a `dyn Block` boundary.

use burn::module::{ModuleVisitor, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Bool, Int, Tensor};

use super::erased::crosses;
use crate::BlockError;

/// Finds the first parameter of a rank that cannot cross a `dyn Block` boundary. Not public
/// API: [`impl_block!`](crate::impl_block) runs it on the concrete module, where every rank is
/// nameable.
#[doc(hidden)]
#[derive(Default)]
pub struct RankProbe {
    path: crate::key::Path,
    found: Option<BlockError>,
}

impl RankProbe {
    fn see(&mut self, rank: usize) {
        if self.found.is_none() && !crosses(rank) {
            self.found = Some(BlockError::UnsupportedRank {
                path: self.path.key().to_owned(),
                rank,
            });
        }
    }

    /// The result of the walk.
    pub fn finish(self) -> Result<(), BlockError> {
        self.found.map_or(Ok(()), Err)
    }
}

impl<B: Backend> ModuleVisitor<B> for RankProbe {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.path.exit();
    }
    fn visit_float<const D: usize>(&mut self, _: &Param<Tensor<B, D>>) {
        self.see(D);
    }
    fn visit_int<const D: usize>(&mut self, _: &Param<Tensor<B, D, Int>>) {
        self.see(D);
    }
    fn visit_bool<const D: usize>(&mut self, _: &Param<Tensor<B, D, Bool>>) {
        self.see(D);
    }
}
