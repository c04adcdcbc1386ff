//! Integration tests of the facade: examples run on the selected backend, the examples index
//! matches the manifest, PyTorch-style printing, and the crates together (lazy loads).

mod cnn;
mod examples;
mod lazy_load;
mod lazy_table;
mod tidy;
