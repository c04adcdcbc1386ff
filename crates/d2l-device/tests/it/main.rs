//! Integration tests of d2l-device, run once per backend by `cargo xtask test-all-backends`.

mod devices;
mod kernels;
mod probe;
