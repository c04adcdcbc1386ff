//! [`DistributedDataParallel`]: PyTorch's DDP semantics over any [`Communicator`].

mod flat;
mod manifest;

use std::marker::PhantomData;
use std::sync::Arc;

use burn::module::AutodiffModule;
use burn::optim::GradientsParams;
use burn::tensor::backend::AutodiffBackend;
use d2l_blocks::Block;
use d2l_params::Parameters;

use crate::{Communicator, GroupSum, ParallelError, SyncBackend};
use flat::{Select, gather, gather_grads, scatter, scatter_grads};

/// PyTorch's `DistributedDataParallel` for a model trained on `B` (an autodiff backend), over
/// a communicator on its inner backend.
///
/// - [`new`](Self::new) checks that every rank holds the same model (same keys and shapes, else
///   [`ParallelError::ModelMismatch`] with the first differing key, on every rank), refuses lazy
///   layers that have not seen an input, and gives every replica rank 0's parameters and
///   buffers, whatever each rank initialized.
/// - [`average_gradients`](Self::average_gradients): one bucketed all-reduce of the
///   gradients per step, averaged over the ranks, so `k` ranks on batches of `B/k` take the
///   step one rank takes on the batch of `B`.
/// - [`sync_buffers`](Self::sync_buffers): rank 0's buffers (batch norm's running statistics)
///   on every rank — PyTorch's `broadcast_buffers=True`, done before each forward pass.
///
/// Every rank makes the same calls in the same order. A rank that fails makes the others fail
/// (the communicator's contract). Rank 0 ([`is_main`](Self::is_main)) saves checkpoints: the
/// model's keys are plain PyTorch keys, no `module.` prefix.
#[derive(Debug)]
pub struct DistributedDataParallel<B: AutodiffBackend, C: Communicator<B::InnerBackend>> {
    comm: Arc<C>,
    device: burn::tensor::Device<B::InnerBackend>,
    backend: PhantomData<B>,
}

impl<B: AutodiffBackend, C: Communicator<B::InnerBackend>> DistributedDataParallel<B, C> {
    /// Wraps `model` (this rank's replica): checks the ranks hold the same model and returns it
    /// with rank 0's parameters and buffers.
    ///
    /// # Errors
    /// [`ParallelError::Uninitialized`] for a lazy layer with no input yet (the same on every
    /// rank, before any communication); [`ParallelError::ModelMismatch`]; a communication
    /// failure.
    pub fn new<M>(comm: C, model: M) -> Result<(Self, M), ParallelError>
    where
        M: AutodiffModule<B> + Block<B>,
    {
        if let Some((path, _)) = d2l_layers::parameter_shapes(&model as &dyn Block<B>)
            .into_iter()
            .find(|(_, shape)| shape.contains(&-1))
        {
            return Err(ParallelError::Uninitialized { path });
        }
        let state = gather::<B, M>(&model, Select::State);
        let device = state.as_ref().map(|t| t.device()).unwrap_or_default();
        let manifest: Vec<(String, Vec<usize>)> = (model.state_dict().iter())
            .map(|view| (view.key().to_owned(), view.shape()))
            .collect();
        manifest::check_same(&comm, &manifest, &device)?;
        let ddp = Self {
            comm: Arc::new(comm),
            device,
            backend: PhantomData,
        };
        let model = match state {
            Some(state) => scatter::<B, M>(model, Select::State, ddp.comm.broadcast(state, 0)?),
            None => model,
        };
        Ok((ddp, model))
    }

    /// This rank.
    pub fn rank(&self) -> usize {
        self.comm.rank()
    }

    /// How many ranks train together.
    pub fn world_size(&self) -> usize {
        self.comm.world_size()
    }

    /// Whether this is rank 0, the one that saves checkpoints and prints.
    pub fn is_main(&self) -> bool {
        self.comm.is_main()
    }

    /// The communicator, for the caller's own collective steps (a loss averaged for printing).
    pub fn comm(&self) -> &C {
        &self.comm
    }

    /// `model` with every batch norm computing its training statistics over the whole group
    /// (PyTorch's `SyncBatchNorm`; see [`convert_sync_batchnorm`](crate::convert_sync_batchnorm)).
    ///
    /// # Errors
    /// [`ParallelError::Uninitialized`] for a lazy batch norm that has not seen an input.
    pub fn convert_sync_batchnorm<M: Block<B>>(&self, model: M) -> Result<M, ParallelError>
    where
        B: SyncBackend,
        C: Send + Sync + 'static,
    {
        crate::convert_sync_batchnorm(model, GroupSum::new(self.comm.clone()))
    }

    /// The device of the communication buffers (the replica's device, on the inner backend).
    pub fn device(&self) -> &burn::tensor::Device<B::InnerBackend> {
        &self.device
    }

    /// The gradients averaged over the ranks, from this rank's `grads` of `model`: one
    /// all-reduce of every trainable parameter's gradient in one flat bucket (a parameter
    /// without a gradient here counts as zeros, tied parameters once).
    ///
    /// # Errors
    /// A communication failure (a failed or late peer, buckets of different sizes).
    pub fn average_gradients<M: AutodiffModule<B>>(
        &self,
        model: &M,
        mut grads: GradientsParams,
    ) -> Result<GradientsParams, ParallelError> {
        let Some(bucket) = gather_grads::<B, M>(model, &mut grads) else {
            return Ok(grads);
        };
        let mean = self.comm.all_reduce_mean(bucket)?;
        Ok(scatter_grads::<B, M>(model, mean))
    }

    /// `model` with rank 0's buffers (PyTorch's `broadcast_buffers=True`: call it before each
    /// forward pass in training; a model without buffers is returned as is).
    ///
    /// # Errors
    /// A communication failure.
    pub fn sync_buffers<M: AutodiffModule<B>>(&self, model: M) -> Result<M, ParallelError> {
        self.broadcast(model, Select::Buffers)
    }

    /// `model` with rank 0's parameters and buffers: after loading a checkpoint on rank 0 only,
    /// or to re-synchronize replicas.
    ///
    /// # Errors
    /// A communication failure.
    pub fn broadcast_state<M: AutodiffModule<B>>(&self, model: M) -> Result<M, ParallelError> {
        self.broadcast(model, Select::State)
    }

    fn broadcast<M: AutodiffModule<B>>(
        &self,
        model: M,
        select: Select,
    ) -> Result<M, ParallelError> {
        let Some(bucket) = gather::<B, M>(&model, select) else {
            return Ok(model);
        };
        let bucket = bucket.to_device(&self.device);
        let bucket = self.comm.broadcast(bucket, 0)?;
        Ok(scatter::<B, M>(model, select, bucket))
    }
}
