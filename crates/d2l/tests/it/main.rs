//! Integration tests of the facade: examples run on the selected backend, the examples index
//! matches the manifest, and PyTorch-style printing.

mod examples;
mod tidy;
