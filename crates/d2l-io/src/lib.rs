//! Files for d2l-burn: D2L §5.5 ("File I/O") on Burn.
//!
//! - Tensors, lists and name → tensor maps ([`save_tensor`], [`save_list`],
//!   [`save_tensors`] and their `load_*` twins): safetensors files whose dtype, shape and
//!   values round-trip exactly; [`tensor_on`] puts host data on a device (`map_location`).
//!   The `load_*` functions also read PyTorch's `torch.save` files of a tensor, a list or
//!   tuple, or a dict of tensors (the book's `x-file`, `x-files`, `mydict`, state dicts),
//!   through burn-store's pickle reader.
//! - Model parameters ([`save_state`], [`load_state`]): PyTorch's keys and orientation, so a
//!   file saved here loads into the PyTorch twin and a PyTorch state dict loads here. Loading
//!   is strict and transactional: one [`LoadReport`] lists every missing, unexpected (with the
//!   closest key), mismatched and untied key, and a failed load leaves the model unchanged.
//! - Optimizer state by parameter name ([`save_optimizer`], [`load_optimizer`]): resume
//!   training in a fresh process, bit for bit.
//! - Architecture and parameters in one file ([`save_model`], [`load_model`]) for networks of
//!   block types a [`Registry`] knows (D2L §5.5 exercise 3; see [`Arch`] for the restriction).
//! - [`Checkpointer`]: checkpoints written off the compute path by a thread of its own, for
//!   sync and async (tokio) callers, with a bounded queue; errors reported at the next call.
//! - Every save is atomic ([`write_atomic`]): a crash leaves the previous file whole, and the
//!   next save of the same path reclaims what a killed save left ([`reclaim_temporaries`]).
//!
//! ```
//! use burn::backend::NdArray;
//! use burn::tensor::{Tensor, TensorData};
//!
//! let dir = std::env::temp_dir().join(format!("d2l-io-crate-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! // x = torch.arange(4); torch.save(x, 'x-file'); x2 = torch.load('x-file')
//! let x = TensorData::new(vec![0i64, 1, 2, 3], [4]);
//! d2l_io::save_tensor(dir.join("x-file"), x.clone()).unwrap();
//! assert_eq!(d2l_io::load_tensor(dir.join("x-file")).unwrap(), x);
//! // torch.save([x, y], 'x-files')
//! let y = Tensor::<NdArray, 1>::zeros([4], &Default::default()).into_data();
//! d2l_io::save_list(dir.join("x-files"), [x.clone(), y.clone()]).unwrap();
//! assert_eq!(d2l_io::load_list(dir.join("x-files")).unwrap(), [x, y]);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```
//!
//! Sibling crates: builds on `d2l-params` (keys, orientation, the one write path) and
//! `d2l-blocks`; never on `d2l-layers`.

mod arch;
mod checkpoint;
mod error;
mod file;
mod optim;
mod state;
mod tensors;

pub use arch::{ARCH_KEY, Arch, Registry, load_model, save_model};
pub use checkpoint::Checkpointer;
pub use d2l_params::{LoadReport, Mismatch};
pub use error::IoError;
pub use file::atomic::{reclaim_temporaries, write_atomic};
pub use optim::{load_optimizer, save_optimizer};
pub use state::{load_state, rename_prefix, save_state, state_tensors};
pub use tensors::{
    TensorMap, load_list, load_tensor, load_tensors, save_list, save_tensor, save_tensors,
    tensor_on,
};
