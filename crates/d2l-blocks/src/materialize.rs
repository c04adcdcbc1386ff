//! Building the lazy layers of any model from the shapes about to be loaded — whatever holds
//! them: a `Sequential`, a `#[derive(Module)]` struct, or a mix.
//!
//! [`materialize`] runs a Burn mapper over the model that tracks the path it is at; a lazy
//! layer that meets it while not built yet ([`pending`]) takes the shapes under its own path
//! and builds itself on the given device. Nothing else changes: parameters map to themselves.

use core::any::Any;
use core::cell::RefCell;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::Tensor;
use burn::tensor::backend::Backend;

use crate::key::{Path, SEPARATOR};

struct Context {
    /// `(key, shape)` relative to the model, PyTorch's orientation.
    shapes: Vec<(String, Vec<usize>)>,
    /// The device, a `B::Device`.
    device: Box<dyn Any>,
    path: Path,
}

thread_local! {
    static CONTEXT: RefCell<Option<Context>> = const { RefCell::new(None) };
}

struct Walk;

impl<B: Backend> ModuleMapper<B> for Walk {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        CONTEXT.with(|c| {
            if let Some(c) = c.borrow_mut().as_mut() {
                c.path.enter(name, container_type);
            }
        });
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        CONTEXT.with(|c| {
            if let Some(c) = c.borrow_mut().as_mut() {
                c.path.exit();
            }
        });
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        param
    }
}

/// `module` with every lazy layer that has shapes among `shapes` (keys relative to `module`,
/// PyTorch's orientation, as a state dict holds them) built on `device`; the rest as it was.
pub fn materialize<B: Backend, M: Module<B>>(
    module: M,
    shapes: &[(String, Vec<usize>)],
    device: &B::Device,
) -> M {
    let context = Context {
        shapes: shapes.to_vec(),
        device: Box::new(device.clone()),
        path: Path::default(),
    };
    struct Restore(Option<Context>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            CONTEXT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let _restore = Restore(CONTEXT.with(|c| c.borrow_mut().replace(context)));
    module.map(&mut Walk)
}

/// For a lazy layer's `Module::map`: while [`materialize`] runs, the shapes under the layer's
/// path (relative to it) and the device to build on; `None` otherwise.
pub fn pending<B: Backend>() -> Option<(Vec<(String, Vec<usize>)>, B::Device)> {
    CONTEXT.with(|c| {
        let c = c.borrow();
        let c = c.as_ref()?;
        let device = c.device.downcast_ref::<B::Device>()?.clone();
        let here = c.path.key();
        let part = c
            .shapes
            .iter()
            .filter_map(|(key, shape)| {
                let rest = if here.is_empty() {
                    key.as_str()
                } else {
                    key.strip_prefix(here)?.strip_prefix(SEPARATOR)?
                };
                Some((rest.to_owned(), shape.clone()))
            })
            .collect();
        Some((part, device))
    })
}
