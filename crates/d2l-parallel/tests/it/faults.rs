//! A rank that fails, panics, leaves early, comes late or sends the wrong length: the others
//! fail with an error naming it, within a bounded time — never a hang.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use burn::backend::NdArray;
use burn::tensor::Tensor;
use d2l_parallel::{Communicator, ParallelError, ThreadComm, ThreadGroup};

type B = NdArray;
/// A timeout no healthy step reaches, even on a loaded machine.
const LONG: Duration = Duration::from_secs(20);
/// The late rank's test: short enough to keep the test fast.
const SHORT: Duration = Duration::from_millis(500);

/// Runs `peer` on two ranks with a short timeout; returns the run's error, what rank 0 saw,
/// and how long it took from the peers' start (groups in one process run one at a time, so
/// the wait for another test's group is not counted).
fn two_ranks(
    timeout: Duration,
    peer: impl Fn(&ThreadComm<B>) -> Result<(), String> + Sync,
) -> (ParallelError, Option<String>, Duration) {
    let device = Default::default();
    let seen = Mutex::new(None);
    let start = std::sync::OnceLock::new();
    let err = ThreadGroup::new(2)
        .unwrap()
        .with_timeout(timeout)
        .run::<B, _, _, String>(&[device, device], |comm| {
            start.get_or_init(Instant::now);
            let out = peer(&comm);
            if comm.rank() == 0 {
                *seen.lock().unwrap() = out.clone().err();
            }
            out
        })
        .unwrap_err();
    let took = start.get().map_or(Duration::ZERO, Instant::elapsed);
    (err, seen.into_inner().unwrap(), took)
}

fn all_reduce(comm: &ThreadComm<B>, len: usize) -> Result<(), String> {
    let x = Tensor::<B, 1>::ones([len], comm.device());
    comm.all_reduce_mean(x).map(drop).map_err(|e| e.to_string())
}

#[test]
fn a_rank_that_errors_stops_the_others_waiting_in_an_all_reduce() {
    let (err, seen, took) = two_ranks(LONG, |comm| {
        if comm.rank() == 1 {
            std::thread::sleep(Duration::from_millis(100));
            return Err("disk full".into());
        }
        all_reduce(comm, 3)
    });
    let expected = ParallelError::PeerFailed {
        rank: 1,
        reason: "disk full".into(),
    };
    assert_eq!(err, expected);
    assert_eq!(seen, Some(expected.to_string()));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_rank_that_panics_stops_the_others() {
    let (err, seen, took) = two_ranks(LONG, |comm| {
        all_reduce(comm, 3)?;
        if comm.rank() == 1 {
            panic!("killed");
        }
        all_reduce(comm, 3)
    });
    assert_eq!(
        err,
        ParallelError::PeerFailed {
            rank: 1,
            reason: "panicked: killed".into()
        }
    );
    assert_eq!(seen.as_deref(), Some("rank 1 failed: panicked: killed"));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_rank_that_returns_early_is_named_by_the_one_left_waiting() {
    let (err, seen, took) = two_ranks(LONG, |comm| {
        if comm.rank() == 1 {
            return Ok(());
        }
        all_reduce(comm, 3)
    });
    let ParallelError::PeerFailed { rank: 1, reason } = &err else {
        panic!("{err:?}");
    };
    assert!(
        reason
            .contains("returned after 1 collective steps while rank 0 waits in `all_reduce_mean`"),
        "{reason}"
    );
    assert_eq!(seen, Some(err.to_string()));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn a_late_rank_times_the_others_out() {
    let (err, seen, took) = two_ranks(SHORT, |comm| {
        if comm.rank() == 1 {
            std::thread::sleep(Duration::from_millis(1500));
        }
        all_reduce(comm, 3)
    });
    let ParallelError::Timeout {
        rank: 0,
        op: "all_reduce_mean",
        waited,
        timeout,
    } = err
    else {
        panic!("{err:?}");
    };
    assert_eq!(timeout, SHORT);
    assert!(
        waited >= timeout && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert!(seen.is_some_and(|s| s.starts_with("rank 0 waited")));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn buffers_of_different_lengths_are_an_error_on_every_rank() {
    let (err, seen, took) = two_ranks(LONG, |comm| all_reduce(comm, 3 + comm.rank()));
    // Both ranks fail with the lengths (the run reports whichever failed first).
    let ParallelError::PeerFailed { rank, reason } = &err else {
        panic!("{err:?}");
    };
    let (mine, other) = if *rank == 0 { (3, 4) } else { (4, 3) };
    let expected = ParallelError::Length {
        op: "all_reduce_mean",
        rank: *rank,
        expected: other,
        actual: mine,
    };
    assert_eq!(reason, &expected.to_string());
    // Rank 0 reports its own lengths, or rank 1's failure if rank 1 finished first.
    let own = "`all_reduce_mean`: rank 0 passed 3 values, another rank 4";
    let other = "rank 1 failed: `all_reduce_mean`: rank 1 passed 4 values, another rank 3";
    let seen = seen.unwrap_or_default();
    assert!(seen == own || seen == other, "{seen}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}
