// SPDX-License-Identifier: GPL-2.0

//! Per-CPU counter arrays (`NR_SLOTS` u64 per CPU) and the handle through
//! which the I/O path adds a bio's increments with one out-of-line call.

#[cfg(not(dmp_acct_variant))]
use crate::bindings as b;
#[cfg(not(dmp_acct_variant))]
use crate::stats::{Counters, NR_SLOTS};
use crate::stats::{SlotAdd, Update};
#[cfg(not(dmp_acct_variant))]
use kernel::ffi::{c_int, c_uint, c_void};
#[cfg(not(dmp_acct_variant))]
use core::ptr::{self, NonNull};
use core::ops::Deref;
#[cfg(not(dmp_acct_variant))]
use kernel::error::{code, Result};
use kernel::sync::Arc;

// Benchmark builds with shared counters replace both types (bench.rs).
#[cfg(dmp_acct_variant)]
pub(crate) use super::bench::{PerCpuBase, PerCpuSlots};

/// `NR_SLOTS` 64-bit counters per CPU. The I/O path adds one bio's
/// increments to the current CPU's copy with one call of a C helper doing
/// three `this_cpu_add` (one instruction each, safe against preemption and
/// interrupts, no cache line shared between CPUs); readers sum all copies.
/// (Benchmark builds may replace it: see bench.rs.)
#[cfg(not(dmp_acct_variant))]
pub(crate) struct PerCpuSlots {
    base: PerCpuBase,
}

/// The base pointer of a live per-CPU array of `NR_SLOTS` u64, copied into a
/// target's context by [`StatsRef`] so that the I/O path reaches the counters
/// with no further load. Only made from a live [`PerCpuSlots`], and never
/// outlives it (see [`StatsRef`]).
#[cfg(not(dmp_acct_variant))]
#[derive(Clone, Copy)]
pub(crate) struct PerCpuBase(pub(super) NonNull<u64>);

#[cfg(not(dmp_acct_variant))]
// SAFETY: the per-CPU area is only modified with this_cpu_add on the owning
// CPU and read with volatile 64-bit loads; nothing else aliases it.
unsafe impl Send for PerCpuBase {}
#[cfg(not(dmp_acct_variant))]
// SAFETY: see `Send`; `add` is safe concurrently on every CPU.
unsafe impl Sync for PerCpuBase {}

// The helpers add the flush count and the in-flight count to their own
// constant slots; `dmp_slot_add` is `SlotAdd`.
#[cfg(not(dmp_acct_variant))]
const _: () = assert!(b::DMP_FLUSH_SLOT as usize == crate::stats::FLUSH_CNT);
#[cfg(not(dmp_acct_variant))]
const _: () = assert!(b::DMP_IN_FLIGHT_SLOT as usize == crate::stats::IN_FLIGHT);
// `SlotAdd` is `#[repr(C)] { slot: usize, value: u64 }` (stats.rs): slot at
// 0, value at 8, 16 bytes; so must the C struct be.
#[cfg(not(dmp_acct_variant))]
const _: () = assert!(
    core::mem::size_of::<SlotAdd>() == 16
        && core::mem::align_of::<SlotAdd>() == 8
        && core::mem::size_of::<b::dmp_slot_add>() == 16
        && core::mem::offset_of!(b::dmp_slot_add, slot) == 0
        && core::mem::offset_of!(b::dmp_slot_add, value) == 8
);

#[cfg(not(any(dmp_acct_variant, dmp_acct_percpu_each)))]
impl PerCpuBase {
    /// Adds one bio's increments to this CPU's copy: one out-of-line call,
    /// with six arguments (all in registers). The third increment of an
    /// `Update` is always the flush count (stats.rs), whose slot the helper
    /// knows.
    #[inline]
    pub(super) fn add(self, update: &Update) {
        let [x, y, flush] = update.adds();
        // SAFETY: `self.0` is a live per-CPU array of NR_SLOTS u64 (see the
        // type), and an `Update` only holds slots below NR_SLOTS (its fields
        // are private to stats.rs, which builds them from slot constants and
        // `bucket()`, at most NR_BUCKETS - 1); DMP_FLUSH_SLOT is FLUSH_CNT
        // (asserted above). this_cpu_add is safe in any context.
        unsafe { b::dmp_percpu_add_bio(self.0.as_ptr(), x.slot(), x.value(), y.slot(), y.value(), flush.value()) };
    }
}

#[cfg(not(dmp_acct_variant))]
impl PerCpuBase {
    /// Like [`PerCpuBase::add`] for a request that is timed to its
    /// completion: also counts it in flight.
    #[inline]
    pub(super) fn add_started(self, update: &Update) {
        let [x, y, flush] = update.adds();
        // SAFETY: as in `add`; DMP_IN_FLIGHT_SLOT is IN_FLIGHT (asserted
        // above), below NR_SLOTS.
        unsafe { b::dmp_percpu_add_bio_start(self.0.as_ptr(), x.slot(), x.value(), y.slot(), y.value(), flush.value()) };
    }

    /// Adds a list of increments (a completion's) to this CPU's copy.
    #[inline]
    pub(super) fn add_slots(self, adds: &[SlotAdd]) {
        // SAFETY: `self.0` is a live per-CPU array of NR_SLOTS u64; every
        // `SlotAdd` holds a slot below NR_SLOTS (its fields are private to
        // stats.rs, which builds them from slot constants and bucket
        // functions that stay in range), and has `dmp_slot_add`'s layout
        // (asserted above); the helper reads `adds.len()` of them.
        unsafe { b::dmp_percpu_add_slots(self.0.as_ptr(), adds.as_ptr().cast(), adds.len()) };
    }
}

#[cfg(not(dmp_acct_variant))]
impl PerCpuSlots {
    /// Slot `slot` summed over every possible CPU (wrapping).
    pub(crate) fn sum_slot(&self, slot: usize) -> u64 {
        if slot >= NR_SLOTS {
            return 0;
        }
        let mut total = 0u64;
        let mut cpu: c_int = -1;
        loop {
            // SAFETY: iterates cpu_possible_mask; returns -1 at the end.
            cpu = unsafe { b::dmp_next_possible_cpu(cpu) };
            if cpu < 0 {
                break;
            }
            // SAFETY: `cpu` is a possible CPU and `base` a live per-CPU
            // array of NR_SLOTS u64; `slot < NR_SLOTS`; one aligned volatile
            // 64-bit load, as in `sum`.
            total = total.wrapping_add(unsafe {
                ptr::read_volatile(b::dmp_per_cpu_ptr(self.base.0.as_ptr(), cpu as c_uint).add(slot))
            });
        }
        total
    }

    pub(crate) fn new() -> Result<Self> {
        // SAFETY: a plain allocation request; the result is checked for NULL.
        let base = unsafe { b::dmp_alloc_percpu_u64(NR_SLOTS) };
        Ok(PerCpuSlots {
            base: PerCpuBase(NonNull::new(base).ok_or(code::ENOMEM)?),
        })
    }

    /// The base pointer, for [`StatsRef`] (and the microbenchmark).
    pub(super) fn base(&self) -> PerCpuBase {
        self.base
    }

    /// The sum over every possible CPU.
    pub(crate) fn sum(&self) -> Counters {
        let mut total = Counters::zero();
        let mut cpu: c_int = -1;
        loop {
            // SAFETY: iterates cpu_possible_mask; returns -1 at the end.
            cpu = unsafe { b::dmp_next_possible_cpu(cpu) };
            if cpu < 0 {
                break;
            }
            // SAFETY: `cpu` is a possible CPU and `base` a live per-CPU array.
            let copy = unsafe { b::dmp_per_cpu_ptr(self.base.0.as_ptr(), cpu as c_uint) };
            let mut slots = [0u64; NR_SLOTS];
            for (i, s) in slots.iter_mut().enumerate() {
                // SAFETY: `copy` points to NR_SLOTS aligned u64; a volatile
                // aligned 64-bit load is a single access (READ_ONCE) on the
                // 64-bit architectures dmp supports.
                *s = unsafe { ptr::read_volatile(copy.add(i)) };
            }
            total.add_percpu(&slots);
        }
        total
    }
}

#[cfg(not(dmp_acct_variant))]
impl Drop for PerCpuSlots {
    fn drop(&mut self) {
        // SAFETY: allocated by dmp_alloc_percpu_u64 and no longer used: every
        // copy of the base lives in a `StatsRef` that keeps this owner alive.
        unsafe { b::free_percpu(self.base.0.as_ptr().cast::<c_void>()) };
    }
}

/// A reference to a shared object that owns per-CPU counters, with the
/// counters' base pointer kept beside it: the I/O path adds through
/// [`StatsRef::add`] without dereferencing the object.
///
/// Sound because `obj` keeps the object alive, and the `PerCpuSlots` the
/// base came from cannot be dropped or replaced while the object lives:
/// `counters` returns it borrowed for as long as the object is, which safe
/// code can only do for a value that stays in place that long, and nobody
/// gets `&mut T` out of an `Arc` that is shared.
pub(crate) struct StatsRef<T> {
    base: PerCpuBase,
    obj: Arc<T>,
}

impl<T> StatsRef<T> {
    pub(crate) fn new(obj: Arc<T>, counters: for<'a> fn(&'a T) -> &'a PerCpuSlots) -> Self {
        StatsRef {
            base: counters(&obj).base(),
            obj,
        }
    }

    /// Adds one bio's increments to this CPU's copy.
    #[inline]
    pub(crate) fn add(&self, update: &Update) {
        self.base.add(update);
    }

    /// Adds one bio's increments and counts it in flight, for a request
    /// whose completion [`StatsRef::add_slots`] will add.
    #[inline]
    pub(crate) fn add_started(&self, update: &Update) {
        self.base.add_started(update);
    }

    /// Adds a list of increments (a completion's) to this CPU's copy.
    #[inline]
    pub(crate) fn add_slots(&self, adds: &[SlotAdd]) {
        self.base.add_slots(adds);
    }

    /// The object reference.
    pub(crate) fn arc(&self) -> &Arc<T> {
        &self.obj
    }

    /// Gives back the object reference.
    pub(crate) fn into_inner(self) -> Arc<T> {
        self.obj
    }
}

impl<T> Deref for StatsRef<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.obj
    }
}
