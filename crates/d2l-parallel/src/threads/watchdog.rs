//! What a [`ThreadGroup`](super::ThreadGroup)'s peers are doing, and the watchdog that turns a
//! failed, finished-early or late peer into errors on the others: burn-collective's calls
//! block without a limit, and its `reset` releases every waiting call.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use burn::tensor::backend::Backend;

use crate::ParallelError;

/// How often the watchdog looks.
const TICK: Duration = Duration::from_millis(5);

#[derive(Debug)]
struct Pending {
    op: &'static str,
    since: Instant,
}

#[derive(Debug)]
struct Inner {
    /// The step each rank is waiting in.
    pending: Vec<Option<Pending>>,
    /// How many collective steps each rank has begun.
    steps: Vec<usize>,
    /// Each rank's latest step and the length it passed.
    lens: Vec<(usize, usize)>,
    finished: Vec<bool>,
    /// The first failure: the cause every other rank reports.
    failure: Option<ParallelError>,
    closed: bool,
}

/// Shared by a group's peers and its watchdog.
#[derive(Debug)]
pub(super) struct State(Mutex<Inner>);

impl State {
    pub(super) fn new(world_size: usize) -> Self {
        Self(Mutex::new(Inner {
            pending: (0..world_size).map(|_| None).collect(),
            steps: vec![0; world_size],
            lens: vec![(0, 0); world_size],
            finished: vec![false; world_size],
            failure: None,
            closed: false,
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn enter(&self, rank: usize, op: &'static str, len: usize) {
        let mut inner = self.lock();
        inner.steps[rank] += 1;
        inner.lens[rank] = (inner.steps[rank], len);
        inner.pending[rank] = Some(Pending {
            op,
            since: Instant::now(),
        });
    }

    pub(super) fn leave(&self, rank: usize) {
        self.lock().pending[rank] = None;
    }

    /// Another length than `rank`'s that a rank gave to the same step.
    pub(super) fn other_len(&self, rank: usize) -> Option<usize> {
        let inner = self.lock();
        let (step, len) = inner.lens[rank];
        (inner.lens.iter())
            .find(|&&(s, l)| s == step && l != len)
            .map(|&(_, l)| l)
    }

    /// The group's failure, if there is one, as `rank` reports it.
    pub(super) fn failure_seen_by(&self, _rank: usize) -> Option<ParallelError> {
        self.lock().failure.clone()
    }

    pub(super) fn finish(&self, rank: usize, error: Option<&ParallelError>) {
        let mut inner = self.lock();
        inner.finished[rank] = true;
        inner.pending[rank] = None;
        if inner.failure.is_none() {
            inner.failure = error.cloned();
        }
    }

    pub(super) fn close(&self) {
        self.lock().closed = true;
    }

    pub(super) fn first_failure(&self) -> Option<ParallelError> {
        self.lock().failure.clone()
    }

    /// Whether the waiting peers must be released now (recording why, the first time).
    fn check(&self, timeout: Duration) -> Option<bool> {
        let mut inner = self.lock();
        if inner.closed {
            return None;
        }
        let waiting: Vec<(usize, &Pending)> = (inner.pending.iter().enumerate())
            .filter_map(|(r, p)| p.as_ref().map(|p| (r, p)))
            .collect();
        if waiting.is_empty() {
            return Some(false);
        }
        if inner.failure.is_some() {
            return Some(true);
        }
        // A peer that finished before the step another waits in will never join it.
        let gone = waiting.iter().find_map(|&(r, p)| {
            let step = inner.steps[r];
            (0..inner.steps.len())
                .find(|&f| inner.finished[f] && inner.steps[f] < step)
                .map(|f| (f, r, p.op))
        });
        let failure = if let Some((f, r, op)) = gone {
            Some(ParallelError::PeerFailed {
                rank: f,
                reason: format!(
                    "it returned after {} collective steps while rank {r} waits in `{op}` (step {})",
                    inner.steps[f], inner.steps[r]
                ),
            })
        } else {
            waiting
                .iter()
                .find(|(_, p)| p.since.elapsed() > timeout)
                .map(|&(rank, p)| ParallelError::Timeout {
                    rank,
                    op: p.op,
                    waited: p.since.elapsed(),
                    timeout,
                })
        };
        let release = failure.is_some();
        if release {
            inner.failure = failure;
        }
        Some(release)
    }
}

/// Watches `state` until the group closes, releasing waiting peers once the group has failed.
pub(super) fn watch<B: Backend>(state: &State, timeout: Duration) {
    while let Some(release) = state.check(timeout) {
        if release {
            burn_collective::reset_collective::<B>();
        }
        std::thread::sleep(TICK);
    }
}
