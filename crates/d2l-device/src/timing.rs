//! Timing for the project's benchmarks: the one median helper they share.
//!
//! Benchmarks compare as ratios measured in one run (the machines they run on are shared and
//! noisy); every timed closure should end with a read-back (`into_data`) so that asynchronous
//! GPU backends are synchronized before the clock stops.

use std::time::{Duration, Instant};

/// The median of `reps` timings of `f`, after `reps / 10 + 1` untimed warm-up calls.
///
/// ```
/// let t = d2l_device::timing::median(5, || { std::hint::black_box(1 + 1); });
/// assert!(t < std::time::Duration::from_secs(1));
/// ```
pub fn median(reps: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..reps / 10 + 1 {
        f();
    }
    let mut times: Vec<Duration> = (0..reps.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}
