// SPDX-License-Identifier: GPL-2.0

//! Benchmark builds only (Kbuild `DMP_ACCOUNTING`, `DMP_MICROBENCH`; used by
//! scripts/bench). None of this is compiled into the dmp.ko that ships: the
//! comparison counter designs, which replace `PerCpuSlots`/`PerCpuBase` of
//! the safe layer, and what the microbenchmark needs.

#[cfg(dmp_acct_percpu_each)]
use super::percpu::PerCpuBase;
#[cfg(all(dmp_microbench, not(dmp_acct_variant)))]
use super::percpu::PerCpuSlots;
#[allow(unused_imports)]
use crate::bindings as b;
#[allow(unused_imports)]
use crate::stats::{Counters, Update, NR_SLOTS};
#[allow(unused_imports)]
use core::{cell::UnsafeCell, ffi::c_void, ptr::{self, NonNull}, sync::atomic::Ordering};
#[allow(unused_imports)]
use kernel::error::Result;

/// Comparison variant (`percpu_each`): dmp's per-CPU counters, with one call
/// to C per increment (three per bio) instead of one call per bio (dmp's
/// design before issue 13).
#[cfg(dmp_acct_percpu_each)]
impl PerCpuBase {
    #[inline]
    pub(super) fn add(self, update: &Update) {
        for a in update.adds() {
            // SAFETY: `self.0` is a live per-CPU array of NR_SLOTS u64 and an
            // `Update`'s slots are below NR_SLOTS (see the shipped `add`).
            unsafe { b::dmp_this_cpu_add(self.0.as_ptr(), a.slot(), a.value()) };
        }
    }
}

/// The microbenchmark adds straight to a `PerCpuSlots` of its own (the
/// shared-counter variants below have their own `add`).
#[cfg(all(dmp_microbench, not(dmp_acct_variant)))]
impl PerCpuSlots {
    #[inline]
    pub(crate) fn add(&self, update: &Update) {
        self.base().add(update);
    }
}

/// The shared-counter variants' handle: the counters themselves, which live
/// in the object a `StatsRef` keeps alive.
#[cfg(dmp_acct_variant)]
#[derive(Clone, Copy)]
pub(crate) struct PerCpuBase(NonNull<PerCpuSlots>);

#[cfg(dmp_acct_variant)]
// SAFETY: only `add` uses it, which is safe concurrently (see each variant).
unsafe impl Send for PerCpuBase {}
#[cfg(dmp_acct_variant)]
// SAFETY: as above.
unsafe impl Sync for PerCpuBase {}

#[cfg(dmp_acct_variant)]
impl PerCpuBase {
    #[inline]
    pub(super) fn add(self, update: &Update) {
        // SAFETY: the counters live as long as the `StatsRef` holding this
        // copy (see there).
        unsafe { self.0.as_ref() }.add(update);
    }
}

#[cfg(dmp_acct_variant)]
impl PerCpuSlots {
    pub(super) fn base(&self) -> PerCpuBase {
        PerCpuBase(NonNull::from(self))
    }

    /// One slot of the sum (only read when requests are timed, which
    /// variant builds never do: target.rs `TIMED`).
    pub(crate) fn sum_slot(&self, slot: usize) -> u64 {
        self.sum().slots.get(slot).copied().unwrap_or(0)
    }
}

// Variant builds compare ways of counting a bio at map; they never time
// requests (target.rs `TIMED` is false), so these two are never called.
#[cfg(dmp_acct_variant)]
impl PerCpuBase {
    #[inline]
    pub(super) fn add_started(self, update: &Update) {
        self.add(update);
    }

    #[inline]
    pub(super) fn add_slots(self, _adds: &[crate::stats::SlotAdd]) {}
}

/// Comparison variant: one set of counters shared by every CPU, protected by
/// one global spinlock (the design of the earlier C modules).
#[cfg(dmp_acct_spinlock)]
pub(crate) struct PerCpuSlots {
    slots: UnsafeCell<crate::stats::Slots>,
}

// SAFETY: the slots are only accessed with dmp_acct_lock held.
#[cfg(dmp_acct_spinlock)]
unsafe impl Sync for PerCpuSlots {}

#[cfg(dmp_acct_spinlock)]
impl PerCpuSlots {
    pub(crate) fn new() -> Result<Self> {
        Ok(PerCpuSlots {
            slots: UnsafeCell::new([0; NR_SLOTS]),
        })
    }

    #[inline]
    pub(crate) fn add(&self, update: &Update) {
        // SAFETY: a plain spin_lock; the I/O path never runs in hard IRQ
        // context, and nothing sleeps before the unlock below.
        unsafe { b::dmp_acct_lock() };
        // SAFETY: the lock is held, so this is the only reference.
        let slots = unsafe { &mut *self.slots.get() };
        for a in update.adds() {
            slots[a.slot() % NR_SLOTS] = slots[a.slot() % NR_SLOTS].wrapping_add(a.value());
        }
        // SAFETY: taken above by this task.
        unsafe { b::dmp_acct_unlock() };
    }

    pub(crate) fn sum(&self) -> Counters {
        // SAFETY: as in `add`.
        unsafe { b::dmp_acct_lock() };
        // SAFETY: the lock is held; a copy is taken.
        let copy = unsafe { *self.slots.get() };
        // SAFETY: taken above by this task.
        unsafe { b::dmp_acct_unlock() };
        let mut c = Counters::zero();
        c.add_percpu(&copy);
        c
    }
}

/// Comparison variant: one set of counters shared by every CPU, each slot a
/// 64-bit atomic (one locked add per increment).
#[cfg(dmp_acct_atomic)]
pub(crate) struct PerCpuSlots {
    slots: [AtomicU64; NR_SLOTS],
}

#[cfg(dmp_acct_atomic)]
use core::sync::atomic::AtomicU64;

#[cfg(dmp_acct_atomic)]
impl PerCpuSlots {
    pub(crate) fn new() -> Result<Self> {
        Ok(PerCpuSlots {
            slots: [const { AtomicU64::new(0) }; NR_SLOTS],
        })
    }

    #[inline]
    pub(crate) fn add(&self, update: &Update) {
        for a in update.adds() {
            if let Some(s) = self.slots.get(a.slot()) {
                s.fetch_add(a.value(), Ordering::Relaxed);
            }
        }
    }

    pub(crate) fn sum(&self) -> Counters {
        let mut copy = [0u64; NR_SLOTS];
        for (d, s) in copy.iter_mut().zip(self.slots.iter()) {
            *d = s.load(Ordering::Relaxed);
        }
        let mut c = Counters::zero();
        c.add_percpu(&copy);
        c
    }
}

/// Measurement variant: no statistics at all, to see what the target costs
/// without them. Every counter reads 0.
#[cfg(dmp_acct_none)]
pub(crate) struct PerCpuSlots;

#[cfg(dmp_acct_none)]
impl PerCpuSlots {
    pub(crate) fn new() -> Result<Self> {
        Ok(PerCpuSlots)
    }

    #[inline]
    pub(crate) fn add(&self, _update: &Update) {}

    pub(crate) fn sum(&self) -> Counters {
        Counters::zero()
    }
}

/// Number of online CPUs.
#[cfg(dmp_microbench)]
pub(crate) fn online_cpus() -> u32 {
    // SAFETY: reads cpu_online_mask's weight.
    unsafe { b::dmp_num_online_cpus() }
}

/// Runs `f(cpu)` on every online CPU at the same time and returns when every
/// call has returned (`on_each_cpu` with wait). `f` runs with interrupts off
/// (in the IPI handler on the other CPUs), so it must not sleep and should
/// not run for long.
#[cfg(dmp_microbench)]
pub(crate) fn run_on_each_cpu<F: Fn(u32) + Sync>(f: &F) {
    let info = ptr::from_ref(f).cast_mut().cast::<c_void>();
    // SAFETY: on_each_cpu with wait=1 returns only after `each_cpu_tramp::<F>`
    // has returned on every CPU, so `info`, a `&F`, outlives every use; the
    // call is made from process context (a sysfs store).
    unsafe { b::dmp_on_each_cpu(Some(each_cpu_tramp::<F>), info, 1) };
}

#[cfg(dmp_microbench)]
unsafe extern "C" fn each_cpu_tramp<F: Fn(u32) + Sync>(info: *mut c_void) {
    // SAFETY: runs in on_each_cpu's callback with interrupts off, so the CPU
    // cannot change under us.
    let cpu = unsafe { b::dmp_smp_processor_id() };
    // SAFETY: `info` is the live `&F` passed by `run_on_each_cpu::<F>` (see
    // there); `F: Sync` allows the CPUs to share it.
    if let Some(f) = unsafe { info.cast::<F>().as_ref() } {
        f(cpu);
    }
}
