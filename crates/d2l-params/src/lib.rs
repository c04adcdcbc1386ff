//! Parameters for d2l-burn: D2L §5.2 ("Parameter Management") on Burn.
//!
//! **Status: skeleton.** This crate will provide `named_parameters()` with PyTorch's dotted
//! keys (`0.weight`, `0.block 0.0.weight`), per-block `state_dict()`, gradients joined from
//! Burn's `Gradients`, built-in and custom initializers, `apply`-style visits with the concrete
//! block type, and parameter tying (one storage at two positions).
//!
//! It builds on `d2l-blocks`; `d2l-layers` and `d2l-io` build on it.

pub use d2l_blocks;
