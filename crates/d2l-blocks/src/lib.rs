//! Blocks for d2l-burn: D2L §5.1 ("Layers and Modules") on Burn.
//!
//! **Status: skeleton.** This crate will hold the `Block` abstraction (forward + registered
//! children + registered parameters), a heterogeneous, dynamic `Sequential` that is a real Burn
//! `Module` (optimizers, `fork`/`to_device`, `Autodiff::valid`, burn-store), PyTorch's
//! `print(net)` tree, and the book's blocks (`MLP`, `MySequential`, `FixedHiddenMLP`,
//! `NestMLP`). It is the core the other crates build on; see `docs/ARCHITECTURE.md`.
//!
//! It depends on `d2l-device` (device checks between children) and nothing else of ours.
//! Sibling crates: `d2l-device` (§5.6), `d2l-params` (§5.2), `d2l-layers` (§5.3–5.4),
//! `d2l-io` (§5.5).

pub use d2l_device;
