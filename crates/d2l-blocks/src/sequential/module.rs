//! A [`Sequential`] is a real Burn module: `Module` (visit, map, devices, records) and
//! `AutodiffModule` (`valid()` and back).

use core::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use burn::module::{
    AutodiffModule, Devices, Module, ModuleDisplay, ModuleDisplayDefault, ModuleMapper,
    ModuleVisitor, ParamId,
};
use burn::tensor::TensorMetadata;
use burn::tensor::backend::{AutodiffBackend, Backend};

use super::{CONTAINER, ParamItem, Sequential, SequentialRecord};
use crate::block::{EraseMapper, EraseVisitor};
use crate::path::{ParamSlot, map_params, visit_params};
use crate::session::session;
use crate::{Forward, Lift, tensor};

impl<B: Backend> Module<B> for Sequential<B> {
    type Record = SequentialRecord<B>;

    fn collect_devices(&self, devices: Devices<B>) -> Devices<B> {
        self.children
            .iter()
            .fold(devices, |d, (_, c)| c.collect_devices_erased(d))
    }

    /// Like [`to_device`](Module::to_device), and each parameter starts a fresh autodiff graph.
    fn fork(self, device: &B::Device) -> Self {
        self.map(&mut d2l_device::Relocate::fork(device))
    }

    /// Moves every parameter, staging copies through the host ([`d2l_device::transfer`]): Burn
    /// 0.21's own `to_device` panics between two wgpu devices.
    fn to_device(self, device: &B::Device) -> Self {
        self.map(&mut d2l_device::Relocate::to(device))
    }

    fn visit<V: ModuleVisitor<B>>(&self, visitor: &mut V) {
        for (name, child) in &self.children {
            visitor.enter_module(name, CONTAINER);
            child.visit_erased(&mut EraseVisitor(visitor));
            visitor.exit_module(name, CONTAINER);
        }
    }

    /// Maps every child; a [`Shared`](crate::Shared) child is mapped once per walk.
    fn map<M: ModuleMapper<B>>(mut self, mapper: &mut M) -> Self {
        session(|| {
            self.children = self
                .children
                .into_iter()
                .map(|(name, child)| {
                    mapper.enter_module(&name, CONTAINER);
                    let child = child.map_erased(&mut EraseMapper(mapper));
                    mapper.exit_module(&name, CONTAINER);
                    (name, child)
                })
                .collect();
            self
        })
    }

    /// Counts each parameter once, even if a [`Shared`](crate::Shared) block holds it at
    /// several positions, and no [`Buffer`](crate::Buffer) — PyTorch's count.
    fn num_params(&self) -> usize {
        let mut seen = HashSet::new();
        let mut count = 0;
        visit_params(self, |_, p: ParamSlot<B>| {
            if !p.is_buffer() && seen.insert(p.id) {
                count += p.value.shape().num_elements();
            }
        });
        count
    }

    fn into_record(self) -> Self::Record {
        let mut params = Vec::new();
        visit_params(&self, |path, p: ParamSlot<B>| {
            params.push(ParamItem {
                path: path.key().to_owned(),
                id: p.id.val(),
                data: tensor::to_data(&p.value),
            });
        });
        SequentialRecord {
            params,
            _backend: core::marker::PhantomData,
        }
    }

    /// Loads parameters by path; lazy children first create the parameters the record has
    /// shapes for ([`Forward::materialize_for`]).
    fn load_record(self, record: Self::Record) -> Self {
        let shapes: Vec<(String, Vec<usize>)> = record
            .params
            .iter()
            .map(|p| (p.path.clone(), p.data.shape.to_vec()))
            .collect();
        // On the device of the parameters the network has, else the default one.
        let device = self.devices().into_iter().next().unwrap_or_default();
        Forward::materialize_for(&self, &shapes, &device);
        let by_path: HashMap<&str, &ParamItem> =
            record.params.iter().map(|p| (p.path.as_str(), p)).collect();
        map_params(self, |path, p: ParamSlot<B>| {
            let item = by_path.get(path.key())?;
            if item.data.shape.as_slice() != p.shape().as_slice() {
                return None;
            }
            let device = tensor::device(&p.value);
            Some(ParamSlot {
                id: ParamId::from(item.id),
                value: tensor::from_data(item.data.clone(), &device),
                requires_grad: p.requires_grad,
            })
        })
    }
}

impl<B: AutodiffBackend> AutodiffModule<B> for Sequential<B> {
    type InnerModule = Sequential<B::InnerBackend>;

    fn valid(&self) -> Self::InnerModule {
        session(|| {
            let mut inner = Sequential::new();
            for (name, child) in &self.children {
                let (valid, lift) = child.valid_boxed();
                inner.insert(name.clone(), valid);
                if let Some(slot) = inner.lifts.last_mut() {
                    *slot = Some(Arc::new(lift) as Arc<dyn Any + Send + Sync>);
                }
            }
            inner
        })
    }

    /// The autodiff twin of a `Sequential` that [`valid`](AutodiffModule::valid) produced.
    ///
    /// # Panics
    /// For a child that did not come from `valid()` (a `Sequential` built directly on the
    /// inner backend): a `dyn` child cannot name the autodiff backend to convert itself to.
    fn from_inner(module: Self::InnerModule) -> Self {
        session(|| Self::lift_children(module))
    }
}

impl<B: AutodiffBackend> Sequential<B> {
    fn lift_children(module: Sequential<B::InnerBackend>) -> Self {
        let mut outer = Sequential::new();
        for ((name, child), lift) in module.children.into_iter().zip(module.lifts) {
            let lifted = lift
                .and_then(|l| l.downcast::<Lift<B>>().ok())
                .and_then(|lift| lift(child));
            match lifted {
                Some(child) => outer.insert(name, child),
                None => panic!(
                    "Sequential::from_inner: child `{name}` was not produced by valid(); \
                     build the network on the autodiff backend instead"
                ),
            }
        }
        outer
    }
}

impl<B: Backend> ModuleDisplayDefault for Sequential<B> {
    fn content(&self, content: burn::module::Content) -> Option<burn::module::Content> {
        Some(content.set_top_level_type("Sequential"))
    }
}

impl<B: Backend> ModuleDisplay for Sequential<B> {}
