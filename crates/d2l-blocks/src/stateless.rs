//! Burn's `Module` traits for the parameter-less fields a block carries beside its
//! parameters ([`Mode`](crate::mode::Mode), the batch norm's `StatsSync`): nothing to visit,
//! map, record or move between devices, and an empty value (`$empty()`) in the `valid()`
//! twin and from `from_inner`.

/// Implements `Module`, `AutodiffModule` and `HasAutodiffModule` for `$ty<B>`, a field
/// without tensors whose empty value is `$ty::$empty()`.
macro_rules! stateless_module {
    ($ty:ident, $empty:ident) => {
        impl<B: burn::tensor::backend::Backend> burn::module::Module<B> for $ty<B> {
            type Record = burn::module::EmptyRecord;

            fn collect_devices(
                &self,
                devices: burn::module::Devices<B>,
            ) -> burn::module::Devices<B> {
                devices
            }

            fn fork(self, _: &B::Device) -> Self {
                self
            }

            fn to_device(self, _: &B::Device) -> Self {
                self
            }

            fn visit<V: burn::module::ModuleVisitor<B>>(&self, _: &mut V) {}

            fn map<M: burn::module::ModuleMapper<B>>(self, _: &mut M) -> Self {
                self
            }

            fn load_record(self, _: Self::Record) -> Self {
                self
            }

            fn into_record(self) -> Self::Record {
                burn::module::EmptyRecord
            }
        }

        impl<B: burn::tensor::backend::AutodiffBackend> burn::module::AutodiffModule<B> for $ty<B> {
            type InnerModule = $ty<B::InnerBackend>;

            fn valid(&self) -> Self::InnerModule {
                $ty::$empty()
            }

            fn from_inner(_: Self::InnerModule) -> Self {
                Self::$empty()
            }
        }

        impl<B: burn::tensor::backend::AutodiffBackend> burn::module::HasAutodiffModule<B>
            for $ty<B::InnerBackend>
        {
            type TrainModule = $ty<B>;
        }
    };
}

pub(crate) use stateless_module;
