// SPDX-License-Identifier: GPL-2.0

//! The clock requests are timed with.

use crate::bindings as b;

/// The monotonic clock (`ktime_get()`, CLOCK_MONOTONIC) in nanoseconds: the
/// clock the block layer times requests with. Safe in any context dmp runs
/// in (process, softirq, hard interrupt).
#[inline]
pub(crate) fn now_ns() -> u64 {
    // SAFETY: ktime_get takes no argument and only reads the timekeeper; it
    // never sleeps. Monotonic time since boot is never negative.
    unsafe { b::ktime_get() as u64 }
}
