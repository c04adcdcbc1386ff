//! A [`Lazy`] layer is a Burn module: before it is built it has no parameters, after it is the
//! layer it built; a record builds it.

use std::sync::OnceLock;

use burn::module::{
    AutodiffModule, Content, Devices, Module, ModuleDisplay, ModuleDisplayDefault, ModuleMapper,
    ModuleVisitor,
};
use burn::tensor::backend::{AutodiffBackend, Backend};

use super::{Deferred, Lazy};

impl<B: Backend, S: Deferred> Module<B> for Lazy<B, S> {
    type Record = Option<<S::Block<B> as Module<B>>::Record>;

    fn collect_devices(&self, devices: Devices<B>) -> Devices<B> {
        match self.block.get() {
            Some(block) => block.collect_devices(devices),
            None => devices,
        }
    }

    fn fork(self, device: &B::Device) -> Self {
        self.map_block(|b| b.map(&mut d2l_blocks::d2l_device::Relocate::fork(device)))
    }

    fn to_device(self, device: &B::Device) -> Self {
        self.map_block(|b| b.map(&mut d2l_blocks::d2l_device::Relocate::to(device)))
    }

    fn visit<V: ModuleVisitor<B>>(&self, visitor: &mut V) {
        if let Some(block) = self.block.get() {
            block.visit(visitor);
        }
    }

    /// Maps the built layer; a layer not built yet builds itself first if
    /// [`materialize`](d2l_blocks::materialize::materialize) gives shapes for it.
    fn map<M: ModuleMapper<B>>(self, mapper: &mut M) -> Self {
        if self.block.get().is_none() {
            if let Some((shapes, device)) = d2l_blocks::materialize::pending::<B>() {
                if let Some(inferred) = self.spec.from_shapes(&shapes) {
                    let _ = self.materialize(inferred, &device);
                }
            }
        }
        self.map_block(|b| b.map(mapper))
    }

    fn into_record(self) -> Self::Record {
        self.block.into_inner().map(Module::into_record)
    }

    /// Loads a record: a layer not built yet is built from it (on the record's device), as a
    /// first forward would build it; a record of another size than the built layer's, or one
    /// that does not fit the spec, is ignored (strict loading with errors is d2l-io's).
    fn load_record(self, record: Self::Record) -> Self {
        let Some(record) = record else { return self };
        let Some((inferred, device)) = self.spec.from_record::<B>(&record) else {
            return self;
        };
        if self.materialize(inferred, &device).is_err() {
            return self;
        }
        self.map_block(|b| b.load_record(record))
    }
}

impl<B: AutodiffBackend, S: Deferred> AutodiffModule<B> for Lazy<B, S> {
    type InnerModule = Lazy<B::InnerBackend, S>;

    /// The validation twin; its mode is unset, so it evaluates ([`d2l_blocks::mode`]).
    fn valid(&self) -> Self::InnerModule {
        let inner = Lazy {
            training: None,
            ..self.same_config()
        };
        match self.block.get() {
            Some(block) => Lazy {
                block: OnceLock::from(S::valid::<B>(block)),
                ..inner
            },
            None => inner,
        }
    }

    fn from_inner(module: Self::InnerModule) -> Self {
        let outer = Lazy {
            training: None,
            ..module.same_config()
        };
        match module.block.into_inner() {
            Some(block) => Self {
                block: OnceLock::from(S::from_inner::<B>(block)),
                ..outer
            },
            None => outer,
        }
    }
}

impl<B: Backend, S: Deferred> ModuleDisplayDefault for Lazy<B, S> {
    fn content(&self, content: Content) -> Option<Content> {
        Some(content.set_top_level_type("Lazy"))
    }
}

impl<B: Backend, S: Deferred> ModuleDisplay for Lazy<B, S> {}
