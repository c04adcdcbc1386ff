//! A model's float tensors as one flat buffer and back: the bucket one collective step moves.

use std::collections::HashSet;

use burn::module::{AutodiffModule, Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;
use burn::tensor::backend::AutodiffBackend;
use d2l_blocks::buffer::is_buffer;

/// Which of a model's float tensors a bucket holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Select {
    /// Parameters and buffers (the state rank 0 broadcasts at start-up).
    State,
    /// Buffers only (batch norm's running statistics).
    Buffers,
}

impl Select {
    fn takes(self, id: ParamId) -> bool {
        match self {
            Self::State => true,
            Self::Buffers => is_buffer(id),
        }
    }
}

/// The selected tensors of `model`, flattened and concatenated in the module's order (each
/// tensor once, tied ones included), on the inner backend; `None` when nothing is selected.
pub(super) fn gather<B: AutodiffBackend, M: Module<B>>(
    model: &M,
    select: Select,
) -> Option<Tensor<B::InnerBackend, 1>> {
    struct Gather<B: AutodiffBackend> {
        select: Select,
        seen: HashSet<ParamId>,
        parts: Vec<Tensor<B::InnerBackend, 1>>,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Gather<B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if self.select.takes(param.id) && self.seen.insert(param.id) {
                let value = param.val().inner();
                let n = value.shape().num_elements();
                self.parts.push(value.reshape([n]));
            }
        }
    }
    let mut visitor = Gather::<B> {
        select,
        seen: HashSet::new(),
        parts: Vec::new(),
    };
    model.visit(&mut visitor);
    (!visitor.parts.is_empty()).then(|| Tensor::cat(visitor.parts, 0))
}

/// `model` with its selected tensors replaced, in [`gather`]'s order, by the slices of `flat`
/// (each keeps its id, device and `requires_grad`).
pub(super) fn scatter<B: AutodiffBackend, M: Module<B>>(
    model: M,
    select: Select,
    flat: Tensor<B::InnerBackend, 1>,
) -> M {
    struct Scatter<B: AutodiffBackend> {
        select: Select,
        seen: HashSet<ParamId>,
        flat: Tensor<B::InnerBackend, 1>,
        offset: usize,
    }
    impl<B: AutodiffBackend> ModuleMapper<B> for Scatter<B> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
            if !self.select.takes(param.id) || !self.seen.insert(param.id) {
                return param;
            }
            let (id, old, mapper) = param.consume();
            let shape = old.shape();
            let n = shape.num_elements();
            let slice = self.flat.clone().slice(self.offset..self.offset + n);
            self.offset += n;
            let value = slice.reshape(shape).to_device(&old.device());
            let value = Tensor::<B, D>::from_inner(value);
            let value = if old.is_require_grad() {
                value.require_grad()
            } else {
                value
            };
            Param::from_mapped_value(id, value, mapper)
        }
    }
    model.map(&mut Scatter::<B> {
        select,
        seen: HashSet::new(),
        flat,
        offset: 0,
    })
}

/// The gradients of `model`'s trainable parameters (not buffers), flattened in the module's
/// order: a parameter without a gradient on this rank counts as zeros.
pub(super) fn gather_grads<B: AutodiffBackend, M: AutodiffModule<B>>(
    model: &M,
    grads: &mut GradientsParams,
) -> Option<Tensor<B::InnerBackend, 1>> {
    struct Grads<'a, B: AutodiffBackend> {
        grads: &'a mut GradientsParams,
        seen: HashSet<ParamId>,
        parts: Vec<Tensor<B::InnerBackend, 1>>,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Grads<'_, B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if is_buffer(param.id) || !self.seen.insert(param.id) {
                return;
            }
            let value = param.val();
            if !value.is_require_grad() {
                return;
            }
            let n = value.shape().num_elements();
            let grad = (self.grads.remove::<B::InnerBackend, D>(param.id))
                .unwrap_or_else(|| value.inner().zeros_like());
            self.parts.push(grad.reshape([n]));
        }
    }
    let mut visitor = Grads::<B> {
        grads,
        seen: HashSet::new(),
        parts: Vec::new(),
    };
    model.visit(&mut visitor);
    (!visitor.parts.is_empty()).then(|| Tensor::cat(visitor.parts, 0))
}

/// [`gather_grads`]' inverse: the slices of `flat` registered as the parameters' gradients.
pub(super) fn scatter_grads<B: AutodiffBackend, M: AutodiffModule<B>>(
    model: &M,
    flat: Tensor<B::InnerBackend, 1>,
) -> GradientsParams {
    struct Grads<B: AutodiffBackend> {
        out: GradientsParams,
        seen: HashSet<ParamId>,
        flat: Tensor<B::InnerBackend, 1>,
        offset: usize,
    }
    impl<B: AutodiffBackend> ModuleVisitor<B> for Grads<B> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if is_buffer(param.id) || !self.seen.insert(param.id) {
                return;
            }
            let value = param.val();
            if !value.is_require_grad() {
                return;
            }
            let shape = value.shape();
            let n = shape.num_elements();
            let slice = self.flat.clone().slice(self.offset..self.offset + n);
            self.offset += n;
            let grad = slice.reshape(shape).to_device(&value.device());
            self.out.register::<B::InnerBackend, D>(param.id, grad);
        }
    }
    let mut visitor = Grads::<B> {
        out: GradientsParams::new(),
        seen: HashSet::new(),
        flat,
        offset: 0,
    };
    model.visit(&mut visitor);
    visitor.out
}
