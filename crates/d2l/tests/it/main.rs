//! Integration tests of the facade: examples run on the selected backend, the examples index
//! matches the manifest, PyTorch-style printing, and the crates together (lazy loads).

mod book;
mod cnn;
mod examples;
mod lazy_load;
mod lazy_table;
mod tidy;

/// This package's folder: cargo's `CARGO_MANIFEST_DIR` at run time (the prepared GPU run sets it
/// to the checkout it carried), else where the test was built.
pub fn manifest_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(
        || env!("CARGO_MANIFEST_DIR").into(),
        std::path::PathBuf::from,
    )
}
