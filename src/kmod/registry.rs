// SPDX-License-Identifier: GPL-2.0

//! The statistics of dmp devices.
//!
//! Statistics belong to the mapped device, not to a table: every dmp target of
//! every table of one mapped device (a reloaded table, several dmp segments)
//! shares one [`DevStats`], found by the mapped device's identity. It is
//! created, with its sysfs directory, by the first constructor and removed by
//! the destructor of its last target. The aggregate covers every device since
//! module load or the last global reset, including removed ones.
//!
//! Counting uses per-CPU counters that only ever grow; a reset records a
//! baseline instead of writing the counters, so readers see `now - baseline`,
//! which is never torn into a negative value and needs no lock on the I/O path.

use crate::kapi::{
    kobject_add, DataGuard, KList, KObj, KobjRef, KobjectField, KobjectFirst, Link, Linked, Locked,
    MappedDevice, PerCpuSlots, StatsRef, TableGuard,
};
use crate::stats::Counters;
use crate::sysfs;
use kernel::error::Result;

/// Baselines recorded by resets.
struct Baselines {
    /// Subtracted for the device's own files (device or global reset).
    device: Counters,
    /// Subtracted for the aggregate (global reset only).
    aggregate: Counters,
}

/// The statistics of one mapped device; also its sysfs directory.
#[repr(C)]
pub(crate) struct DevStats {
    kobj: KobjectField,
    md: MappedDevice,
    counters: PerCpuSlots,
    /// Number of dmp targets using this device (protected by the table lock).
    users: Locked<u32, TableGuard>,
    base: Locked<Baselines, DataGuard>,
    link: Locked<Link<DevStats>, DataGuard>,
}

// SAFETY: `DevStats` is repr(C) with its kobject first, and is only ever
// allocated through `kobject_add` (in `attach`).
unsafe impl KobjectFirst for DevStats {}

impl Linked for DevStats {
    fn link(&self) -> &Locked<Link<Self>, DataGuard> {
        &self.link
    }
}

/// Every live dmp device. Owns one reference to each.
static DEVICES: KList<DevStats> = KList::new();

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

    /// Zeroes this device's counters (not the aggregate's).
    pub(crate) fn reset(&self) {
        let mut g = DataGuard::lock();
        let now = self.counters.sum();
        self.base.get_mut(&mut g).device = now;
    }

    pub(crate) fn mapped_device(&self) -> &MappedDevice {
        &self.md
    }
}

/// The aggregate over every dmp device since load or the last global reset.
pub(crate) fn aggregate() -> Counters {
    let mut g = DataGuard::lock();
    let mut total = *RETIRED.get(&g);
    DEVICES.for_each(&mut g, |dev, g| {
        total.merge(&dev.counters.sum().since(&dev.base.get(g).aggregate));
    });
    total
}

/// Zeroes every counter: the aggregate, removed devices' share, every device.
pub(crate) fn reset_all() {
    let mut g = DataGuard::lock();
    *RETIRED.get_mut(&mut g) = Counters::zero();
    DEVICES.for_each(&mut g, |dev, g| {
        let now = dev.counters.sum();
        let base = dev.base.get_mut(g);
        base.device = now;
        base.aggregate = now;
    });
}

/// Attaches a new dmp target to the statistics of `md`, creating them (and
/// the sysfs directory /sys/module/dmp/stat/dm-N) for the device's first
/// target. The returned reference keeps the statistics allocated, and
/// carries their per-CPU base pointer for the I/O path (`StatsRef::add`).
pub(crate) fn attach(md: MappedDevice) -> Result<StatsRef<DevStats>> {
    Ok(StatsRef::new(attach_dev(md)?, DevStats::counters))
}

fn attach_dev(md: MappedDevice) -> Result<KobjRef<DevStats>> {
    let mut t = TableGuard::lock();
    let existing = {
        let mut g = DataGuard::lock();
        DEVICES.find(&mut g, |d| d.md == md)
    };
    if let Some(dev) = existing {
        *dev.users.get_mut(&mut t) += 1;
        return Ok(dev);
    }

    // New device: build it outside the data lock (kobject calls may sleep
    // and wait for sysfs readers, which take the data lock).
    let obj = KObj::new(DevStats {
        kobj: KobjectField::new(),
        md,
        counters: PerCpuSlots::new()?,
        users: Locked::new(1),
        base: Locked::new(Baselines {
            device: Counters::zero(),
            aggregate: Counters::zero(),
        }),
        link: Locked::new(Link::new()),
    })?;
    let dev = kobject_add(obj, sysfs::device_ktype(), sysfs::kset()?, md.kernel_name())?;
    let mut g = DataGuard::lock();
    DEVICES.push(&mut g, dev.clone());
    Ok(dev)
}

/// Detaches a dmp target. The last target of a device folds its counters into
/// the aggregate's share of removed devices and removes its sysfs directory
/// (waiting for running readers) before the mapped device can go away.
pub(crate) fn detach(dev: StatsRef<DevStats>) {
    let dev = dev.into_inner();
    let mut t = TableGuard::lock();
    let users = dev.users.get_mut(&mut t);
    *users = users.saturating_sub(1);
    if *users > 0 {
        return;
    }
    let listed = {
        let mut g = DataGuard::lock();
        let final_counts = dev.counters.sum().since(&dev.base.get(&g).aggregate);
        RETIRED.get_mut(&mut g).merge(&final_counts);
        DEVICES.remove(&mut g, &dev)
    };
    if let Some(listed) = listed {
        listed.remove();
    }
    drop(t);
    drop(dev);
}
