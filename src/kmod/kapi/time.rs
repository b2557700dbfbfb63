// SPDX-License-Identifier: GPL-2.0

//! Timing requests: the clock, and the module parameter that turns it on.

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

/// The module parameter `latency` (`modprobe dmp latency=1`, read-only once
/// loaded): whether requests are timed to their completion.
pub(crate) fn latency_param() -> bool {
    // SAFETY: returns a bool the module loader set before init; never written
    // afterwards (the parameter is read-only in sysfs).
    unsafe { b::dmp_latency_param() }
}
