//! [`ParallelError`]: why a collective step, or a data-parallel run, failed.

use std::time::Duration;

/// Why a collective operation or a data-parallel run failed. Every failure of one rank reaches
/// the others as an error within a bounded time: no rank hangs on a peer that is gone.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParallelError {
    /// A peer returned an error or panicked; the others stop at their next collective step.
    #[error("rank {rank} failed: {reason}")]
    PeerFailed {
        /// The rank that failed first.
        rank: usize,
        /// Its error or panic message.
        reason: String,
    },
    /// A collective step waited longer than the group's timeout for its peers.
    #[error("rank {rank} waited {waited:?} for its peers in `{op}` (timeout {timeout:?})")]
    Timeout {
        /// The rank that gave up.
        rank: usize,
        /// The collective operation.
        op: &'static str,
        /// How long it waited.
        waited: Duration,
        /// The group's limit.
        timeout: Duration,
    },
    /// The ranks' models differ: the first differing name (PyTorch key) and what each side has.
    #[error(
        "rank {rank}'s model differs from rank 0's at `{key}`: rank 0 has {expected}, rank {rank} has {actual}"
    )]
    ModelMismatch {
        /// The first rank whose model differs.
        rank: usize,
        /// The first differing PyTorch key (parameter or buffer).
        key: String,
        /// What rank 0 has there (`shape [..]` or `nothing`).
        expected: String,
        /// What that rank has there.
        actual: String,
    },
    /// A lazy layer has not seen an input yet: its parameters do not exist, so they cannot be
    /// broadcast (PyTorch's DDP refuses uninitialized parameters too).
    #[error(
        "`{path}` is a lazy layer that has not seen an input yet: run one forward pass (or load a state) before wrapping the model"
    )]
    Uninitialized {
        /// The pending parameter's key.
        path: String,
    },
    /// Two ranks passed buffers of different lengths to one collective step.
    #[error("`{op}`: rank {rank} passed {actual} values, another rank {expected}")]
    Length {
        /// The collective operation.
        op: &'static str,
        /// The rank.
        rank: usize,
        /// The length another rank passed.
        expected: usize,
        /// The length this rank passed.
        actual: usize,
    },
    /// A world size, rank or root outside the group.
    #[error("{0}")]
    Config(String),
    /// The collective engine reported an error.
    #[error("collective engine on rank {rank}: {message}")]
    Engine {
        /// The rank.
        rank: usize,
        /// The engine's message.
        message: String,
    },
}
