//! Layers for d2l-burn: D2L §5.3 ("Lazy Initialization") and §5.4 ("Custom Layers") on Burn.
//!
//! **Status: skeleton.** This crate will provide `CenteredLayer`, `MyLinear`, `LazyLinear`
//! (input width inferred on the first forward, typed errors on later mismatches), and the
//! section's exercise layers (tensor reduction, Fourier coefficients).
//!
//! It builds on `d2l-params` (names, initializers) and never on `d2l-io`.

pub use d2l_params;
