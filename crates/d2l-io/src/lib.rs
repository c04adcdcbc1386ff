//! Files for d2l-burn: D2L §5.5 ("File I/O") on Burn.
//!
//! **Status: skeleton.** This crate will save and load tensors, lists and name→tensor maps,
//! and model parameters as safetensors with PyTorch's keys and orientation (readable by
//! `safetensors.torch.load_file`, loadable with `load_state_dict(strict=True)`), read PyTorch
//! `.pt` state dicts, report missing/unexpected/mismatched keys in one error while leaving the
//! model unchanged, and save atomically.
//!
//! It builds on `d2l-params` (parameter names) and never on `d2l-layers`.

pub use d2l_params;
