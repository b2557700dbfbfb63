// SPDX-License-Identifier: GPL-2.0

//! The statistics of dmp devices (and nothing else: their sysfs directories
//! are sysfs.rs's).
//!
//! Statistics belong to the mapped device, not to a table: every dmp target of
//! every table of one mapped device (a reloaded table, several dmp segments)
//! shares one [`DevStats`], found by the mapped device's identity. It is
//! created by the first constructor and retired by the destructor of its last
//! target. The aggregate covers every device since module load or the last
//! global reset, including removed ones.
//!
//! Counting uses per-CPU counters that only ever grow; a reset records a
//! baseline instead of writing the counters, so readers see `now - baseline`,
//! which is never torn into a negative value and needs no lock on the I/O path.

use crate::kapi::{DataGuard, Locked, MappedDevice, PerCpuSlots, StatsRef, TableGuard};
use crate::stats::{in_flight_gauge, BusyStamp, Counters, IN_FLIGHT};
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::Result;
use kernel::sync::Arc;

/// Baselines recorded by resets.
struct Baselines {
    /// Subtracted for the device's own files (device or global reset).
    device: Counters,
    /// Subtracted for the aggregate (global reset only).
    aggregate: Counters,
}

/// The statistics of one mapped device.
pub(crate) struct DevStats {
    md: MappedDevice,
    counters: PerCpuSlots,
    /// The busy-time stamp (diskstats' io_ticks), shared by the device's
    /// CPUs but written at most once per millisecond.
    pub(crate) busy: BusyStamp,
    /// Number of dmp targets using this device.
    users: Locked<u32, TableGuard>,
    base: Locked<Baselines, DataGuard>,
}

/// Every live dmp device, one reference each. A removed device leaves a
/// `None` that the next one reuses (the vector never shrinks: 6.12's `KVec`
/// cannot remove); freed by [`Registry`]'s drop.
static DEVICES: Locked<KVec<Option<Arc<DevStats>>>, DataGuard> = Locked::new(KVec::new());

/// What removed devices counted since load or the last global reset.
static RETIRED: Locked<Counters, DataGuard> = Locked::new(Counters::zero());

impl DevStats {
    /// The counters, for the I/O path's [`StatsRef`].
    fn counters(&self) -> &PerCpuSlots {
        &self.counters
    }

    /// The device's counters since its last reset.
    pub(crate) fn snapshot(&self) -> Counters {
        let g = DataGuard::lock();
        self.counters.sum().since(&self.base.get(&g).device)
    }

    /// Requests mapped and not completed yet (sums every CPU: only asked
    /// when the busy stamp moves, at most once per millisecond).
    pub(crate) fn in_flight(&self) -> u64 {
        in_flight_gauge(self.counters.sum_slot(IN_FLIGHT))
    }

    /// Zeroes this device's counters (not the aggregate's).
    pub(crate) fn reset(&self) {
        let mut g = DataGuard::lock();
        let now = self.counters.sum();
        self.base.get_mut(&mut g).device = now;
    }

    pub(crate) fn mapped_device(&self) -> MappedDevice {
        self.md
    }
}

/// The aggregate over every dmp device since load or the last global reset.
pub(crate) fn aggregate() -> Counters {
    let g = DataGuard::lock();
    let mut total = *RETIRED.get(&g);
    for dev in DEVICES.get(&g).iter().flatten() {
        total.merge(&dev.counters.sum().since(&dev.base.get(&g).aggregate));
    }
    total
}

/// Zeroes every counter: the aggregate, removed devices' share, every device.
pub(crate) fn reset_all() {
    let mut g = DataGuard::lock();
    *RETIRED.get_mut(&mut g) = Counters::zero();
    // Clone the references out first: `base` needs the guard mutably.
    let n = DEVICES.get(&g).len();
    for i in 0..n {
        let Some(dev) = DEVICES.get(&g).get(i).and_then(Option::clone) else {
            continue;
        };
        let now = dev.counters.sum();
        let base = dev.base.get_mut(&mut g);
        base.device = now;
        base.aggregate = now;
    }
}

/// Attaches a new dmp target to the statistics of `md`, creating them for
/// the device's first target (then `.1` is true: the caller adds the sysfs
/// directory). The returned reference keeps the statistics allocated and
/// carries their per-CPU base pointer for the I/O path.
pub(crate) fn attach(t: &mut TableGuard, md: MappedDevice) -> Result<(StatsRef<DevStats>, bool)> {
    let existing = {
        let g = DataGuard::lock();
        DEVICES.get(&g).iter().flatten().find(|d| d.md == md).cloned()
    };
    if let Some(dev) = existing {
        *dev.users.get_mut(t) += 1;
        return Ok((StatsRef::new(dev, DevStats::counters), false));
    }
    let dev = Arc::new(
        DevStats {
            md,
            counters: PerCpuSlots::new()?,
            busy: BusyStamp::new(),
            users: Locked::new(1),
            base: Locked::new(Baselines {
                device: Counters::zero(),
                aggregate: Counters::zero(),
            }),
        },
        GFP_KERNEL,
    )?;
    let mut g = DataGuard::lock();
    let devices = DEVICES.get_mut(&mut g);
    match devices.as_mut_slice().iter_mut().find(|d| d.is_none()) {
        Some(free) => *free = Some(dev.clone()),
        None => devices.push(Some(dev.clone()), GFP_KERNEL)?,
    }
    Ok((StatsRef::new(dev, DevStats::counters), true))
}

/// Detaches a dmp target. The last target of a device folds its counters into
/// the aggregate's share of removed devices and returns the device (the
/// caller then removes its sysfs directory).
pub(crate) fn detach(t: &mut TableGuard, stats: StatsRef<DevStats>) -> Option<MappedDevice> {
    let dev = stats.into_inner();
    let users = dev.users.get_mut(t);
    *users = users.saturating_sub(1);
    if *users > 0 {
        return None;
    }
    let mut g = DataGuard::lock();
    let final_counts = dev.counters.sum().since(&dev.base.get(&g).aggregate);
    RETIRED.get_mut(&mut g).merge(&final_counts);
    let listed = DEVICES
        .get_mut(&mut g)
        .as_mut_slice()
        .iter_mut()
        .find(|d| d.as_ref().is_some_and(|d| Arc::ptr_eq(d, &dev)))
        .and_then(Option::take);
    drop(g);
    drop(listed);
    Some(dev.md)
}

/// Frees the registry's memory at module exit (after the target type is
/// unregistered: no device is left).
pub(crate) struct Registry(());

impl Registry {
    pub(crate) fn new() -> Self {
        Registry(())
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let mut g = DataGuard::lock();
        let old = core::mem::replace(DEVICES.get_mut(&mut g), KVec::new());
        drop(g);
        drop(old);
    }
}
