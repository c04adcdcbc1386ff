//! [`DistributedSampler`]: PyTorch's `torch.utils.data.DistributedSampler`.

use crate::ParallelError;

/// Each epoch's indices of a dataset of `len` samples, sharded by rank: PyTorch's
/// `DistributedSampler`.
///
/// Every rank computes the same order (unshuffled, or shuffled by `seed + epoch`), pads it by
/// repeating its start until it divides evenly (or, with [`drop_last`](Self::drop_last), drops
/// the tail), and takes every `world_size`-th index from its rank: the shards are disjoint,
/// equal in size, and together cover the dataset. Unshuffled, the indices are PyTorch's
/// exactly; shuffled, the permutation is this crate's own (PyTorch's comes from its generator).
///
/// ```
/// use d2l_parallel::DistributedSampler;
///
/// // 10 samples on 4 ranks: padded to 12 with indices 0 and 1.
/// let shard = |rank| DistributedSampler::new(10, 4, rank).unwrap().indices();
/// assert_eq!(shard(0), [0, 4, 8]);
/// assert_eq!(shard(1), [1, 5, 9]);
/// assert_eq!(shard(2), [2, 6, 0]);
/// assert_eq!(shard(3), [3, 7, 1]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributedSampler {
    len: usize,
    world_size: usize,
    rank: usize,
    seed: Option<u64>,
    drop_last: bool,
    epoch: u64,
}

impl DistributedSampler {
    /// The shard of `rank` among `world_size` ranks over `len` samples, unshuffled.
    ///
    /// # Errors
    /// [`ParallelError::Config`] for a world size of zero or a rank outside it.
    pub fn new(len: usize, world_size: usize, rank: usize) -> Result<Self, ParallelError> {
        if rank >= world_size {
            return Err(ParallelError::Config(format!(
                "rank {rank} is outside a world of {world_size}"
            )));
        }
        Ok(Self {
            len,
            world_size,
            rank,
            seed: None,
            drop_last: false,
            epoch: 0,
        })
    }

    /// Shuffled every epoch by `seed + epoch` (PyTorch's `shuffle=True, seed=…`).
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Drops the tail that does not divide evenly instead of padding (PyTorch's `drop_last`).
    pub fn drop_last(mut self, drop_last: bool) -> Self {
        self.drop_last = drop_last;
        self
    }

    /// The epoch the next [`indices`](Self::indices) are for (PyTorch's `set_epoch`).
    pub fn set_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
    }

    /// How many indices each rank gets per epoch.
    pub fn num_samples(&self) -> usize {
        if self.drop_last {
            self.len / self.world_size
        } else {
            self.len.div_ceil(self.world_size)
        }
    }

    /// This rank's indices for the current epoch.
    pub fn indices(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len).collect();
        if let Some(seed) = self.seed {
            permute(&mut order, seed.wrapping_add(self.epoch));
        }
        let total = self.num_samples() * self.world_size;
        if total > order.len() && !order.is_empty() {
            let pad: Vec<usize> = order
                .iter()
                .copied()
                .cycle()
                .take(total - order.len())
                .collect();
            order.extend(pad);
        }
        order.truncate(total);
        order
            .into_iter()
            .skip(self.rank)
            .step_by(self.world_size)
            .collect()
    }
}

/// A Fisher–Yates shuffle driven by SplitMix64: the same on every rank for a seed.
fn permute(order: &mut [usize], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..order.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
}
