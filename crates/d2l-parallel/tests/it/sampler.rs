//! `DistributedSampler` against PyTorch's rules, worked by hand.

use std::collections::BTreeSet;

use d2l_parallel::{DistributedSampler, ParallelError};

fn shards(
    len: usize,
    world: usize,
    f: impl Fn(DistributedSampler) -> DistributedSampler,
) -> Vec<Vec<usize>> {
    (0..world)
        .map(|rank| f(DistributedSampler::new(len, world, rank).unwrap()).indices())
        .collect()
}

#[test]
fn unshuffled_shards_are_pytorchs() {
    // torch.utils.data.DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False):
    // padded to 12 with [0, 1], then indices[r::3].
    assert_eq!(
        shards(10, 3, |s| s),
        [vec![0, 3, 6, 9], vec![1, 4, 7, 0], vec![2, 5, 8, 1]]
    );
    // drop_last=True: 10 // 3 = 3 per rank, the tail [9] dropped.
    assert_eq!(
        shards(10, 3, |s| s.drop_last(true)),
        [vec![0, 3, 6], vec![1, 4, 7], vec![2, 5, 8]]
    );
    // Fewer samples than ranks: padding repeats the dataset.
    assert_eq!(shards(2, 4, |s| s), [vec![0], vec![1], vec![0], vec![1]]);
    assert_eq!(shards(0, 2, |s| s), [Vec::<usize>::new(), Vec::new()]);
    assert_eq!(DistributedSampler::new(10, 3, 0).unwrap().num_samples(), 4);
    assert!(matches!(
        DistributedSampler::new(10, 3, 3),
        Err(ParallelError::Config(_))
    ));
}

#[test]
fn shuffled_shards_agree_across_ranks_and_change_per_epoch() {
    let epoch = |e: u64| -> Vec<Vec<usize>> {
        (0..4)
            .map(|rank| {
                let mut s = DistributedSampler::new(100, 4, rank).unwrap().shuffle(7);
                s.set_epoch(e);
                s.indices()
            })
            .collect()
    };
    let first = epoch(0);
    // Disjoint shards of 25 that cover the dataset (100 divides evenly: no padding).
    let all: BTreeSet<usize> = first.iter().flatten().copied().collect();
    assert_eq!(all.len(), 100);
    assert!(first.iter().all(|s| s.len() == 25));
    // Shuffled, and the same for a seed; another epoch, another order.
    assert_ne!(first[0], (0..100).step_by(4).collect::<Vec<_>>());
    assert_eq!(epoch(0), first);
    assert_ne!(epoch(1), first);
}
