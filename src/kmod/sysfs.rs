// SPDX-License-Identifier: GPL-2.0

//! The statistics tree, /sys/module/dmp/stat/:
//!
//! ```text
//! volumes                 aggregate in the old `volumes` format     0400
//! reset                   write 1: zero every counter               0200
//! all_devs/<stat files>   aggregate, same numbers as volumes        0400
//! dm-N/<stat files>       one mapped device                         0400
//! dm-N/name               its dmsetup name                          0400
//! dm-N/reset              write 1: zero this device's counters      0200
//! ```
//!
//! `<stat files>` are read_cnt write_cnt total_cnt read_avr_bs write_avr_bs
//! total_avr_bs summary read_bytes write_bytes discard_cnt discard_bytes
//! flush_cnt histogram (see stats.rs for their formats). Files are root-only;
//! directories send uevents with SUBSYSTEM=dmp so that a udev rule can open
//! them up. This module creates and removes the device directories; the
//! statistics themselves are registry.rs's.

use crate::kapi::{
    wait_for_kobject_releases, AttrSpec, KobjDir, Kset, KsetGroup, Locked, MappedDevice, SysfsOps, SysfsType,
    TableGuard, UeventOps, UeventSubsystem,
};
use crate::registry::{self, DevStats};
use crate::stats::{parse_reset, write_summary, Counters, SliceWriter, StatFile};
use core::ffi::CStr;
use kernel::alloc::{flags::GFP_KERNEL, KVec};
use kernel::error::{code, Result};
use kernel::sync::Arc;
use kernel::ThisModule;

const RO: u16 = 0o400;
const WO: u16 = 0o200;

const fn ro(name: &'static CStr) -> AttrSpec {
    AttrSpec { name, mode: RO }
}

/// The stat files, in `StatFile::ALL` order (checked at load).
const NR_STAT: usize = 15;
const STAT_FILES: [AttrSpec; NR_STAT] = [
    ro(c"read_cnt"),
    ro(c"write_cnt"),
    ro(c"total_cnt"),
    ro(c"read_avr_bs"),
    ro(c"write_avr_bs"),
    ro(c"total_avr_bs"),
    ro(c"summary"),
    ro(c"read_bytes"),
    ro(c"write_bytes"),
    ro(c"discard_cnt"),
    ro(c"discard_bytes"),
    ro(c"flush_cnt"),
    ro(c"histogram"),
    ro(c"stat"),
    ro(c"latency"),
];
/// A device directory: the stat files, then `name` and `reset`.
const DEV_FILES: [AttrSpec; NR_STAT + 2] = {
    let mut f = [const { ro(c"") }; NR_STAT + 2];
    let mut i = 0;
    while i < NR_STAT {
        f[i] = AttrSpec {
            name: STAT_FILES[i].name,
            mode: RO,
        };
        i += 1;
    }
    f[DEV_NAME] = ro(c"name");
    f[DEV_RESET] = AttrSpec { name: c"reset", mode: WO };
    f
};
const DEV_NAME: usize = NR_STAT;
const DEV_RESET: usize = NR_STAT + 1;
/// The top directory's own files.
const TOP_FILES: [AttrSpec; 2] = [ro(c"volumes"), AttrSpec { name: c"reset", mode: WO }];
const TOP_VOLUMES: usize = 0;
const TOP_RESET: usize = 1;

/// dmp's uevents carry SUBSYSTEM=dmp (the packaged udev rule matches it).
struct Dmp;
impl UeventSubsystem for Dmp {
    const NAME: &'static CStr = c"dmp";
}
static UEVENT_OPS: UeventOps<Dmp> = UeventOps::new();

static DEV_TYPE: SysfsType<DevDir, { NR_STAT + 2 }> = SysfsType::new();
static AGG_TYPE: SysfsType<AggDir, NR_STAT> = SysfsType::new();
static TOP_GROUP: KsetGroup<TopDir, 2> = KsetGroup::new();

fn render(file: usize, c: &Counters, out: &mut SliceWriter<'_>) -> Result {
    let file = StatFile::ALL.get(file).ok_or(code::EIO)?;
    file.render(c, out).map_err(|_| code::EFBIG)
}

/// A device directory, /sys/module/dmp/stat/dm-N: it keeps the device's
/// statistics allocated while it exists (readers may hold it open).
struct DevDir {
    stats: Arc<DevStats>,
}

impl SysfsOps for DevDir {
    type Obj = DevDir;
    const ATTRS: &'static [AttrSpec] = &DEV_FILES;

    fn show(dir: &DevDir, index: usize, out: &mut SliceWriter<'_>) -> Result {
        match index {
            DEV_NAME => dir.stats.mapped_device().write_name(out),
            i => render(i, &dir.stats.snapshot(), out),
        }
    }

    fn store(dir: &DevDir, index: usize, input: &[u8]) -> Result {
        match index {
            DEV_RESET => {
                parse_reset(input).map_err(|_| code::EINVAL)?;
                dir.stats.reset();
                Ok(())
            }
            _ => Err(code::EACCES),
        }
    }
}

/// The aggregate directory, /sys/module/dmp/stat/all_devs.
struct AggDir;

impl SysfsOps for AggDir {
    type Obj = AggDir;
    const ATTRS: &'static [AttrSpec] = &STAT_FILES;

    fn show(_: &AggDir, index: usize, out: &mut SliceWriter<'_>) -> Result {
        render(index, &registry::aggregate(), out)
    }

    fn store(_: &AggDir, _: usize, _: &[u8]) -> Result {
        Err(code::EACCES)
    }
}

/// The top directory's own files (`volumes`, `reset`).
struct TopDir;

impl SysfsOps for TopDir {
    type Obj = ();
    const ATTRS: &'static [AttrSpec] = &TOP_FILES;

    fn show(_: &(), index: usize, out: &mut SliceWriter<'_>) -> Result {
        match index {
            TOP_VOLUMES => write_summary(&registry::aggregate(), out).map_err(|_| code::EFBIG),
            _ => Err(code::EIO),
        }
    }

    fn store(_: &(), index: usize, input: &[u8]) -> Result {
        match index {
            TOP_RESET => {
                parse_reset(input).map_err(|_| code::EINVAL)?;
                registry::reset_all();
                Ok(())
            }
            _ => Err(code::EACCES),
        }
    }
}

/// What exists of the tree while the module is loaded. Dropping it removes
/// the directories (waiting for running readers) and the kset.
struct Tree {
    /// Device directories; a removed one leaves a `None` (6.12's `KVec`
    /// cannot remove), reused by the next.
    devices: KVec<Option<KobjDir<DevDir>>>,
    _all_devs: KobjDir<AggDir>,
    kset: Kset,
}

static TREE: Locked<Option<Tree>, TableGuard> = Locked::new(None);

/// Adds the directory of a new device, `stat/<name>`.
pub(crate) fn add_device(t: &mut TableGuard, stats: &Arc<DevStats>, name: &CStr) -> Result {
    // Make room first, so that a directory once added is never dropped for
    // lack of it.
    let free = {
        let tree = TREE.get_mut(t).as_mut().ok_or(code::ENODEV)?;
        match tree.devices.as_slice().iter().position(Option::is_none) {
            Some(i) => i,
            None => {
                tree.devices.push(None, GFP_KERNEL)?;
                tree.devices.len() - 1
            }
        }
    };
    let dir = {
        let tree = TREE.get(t).as_ref().ok_or(code::ENODEV)?;
        KobjDir::add(DevDir { stats: stats.clone() }, &DEV_TYPE, t, &tree.kset, name)?
    };
    if let Some(tree) = TREE.get_mut(t).as_mut() {
        if let Some(slot) = tree.devices.as_mut_slice().get_mut(free) {
            *slot = Some(dir);
        }
    }
    Ok(())
}

/// Removes the directory of `md` (waiting for its running readers).
pub(crate) fn remove_device(t: &mut TableGuard, md: MappedDevice) {
    let Some(tree) = TREE.get_mut(t).as_mut() else {
        return;
    };
    let dir = tree
        .devices
        .as_mut_slice()
        .iter_mut()
        .find(|d| d.as_ref().is_some_and(|d| d.stats.mapped_device() == md))
        .and_then(Option::take);
    drop(dir);
}

/// The statistics tree; removed when dropped (module exit).
pub(crate) struct StatTree(());

impl StatTree {
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        for (f, spec) in StatFile::ALL.iter().zip(STAT_FILES.iter()) {
            if f.name().as_bytes() != spec.name.to_bytes() {
                return Err(code::EINVAL);
            }
        }
        // From here on, dropping `tree` undoes whatever was done.
        let tree = StatTree(());
        let mut t = TableGuard::lock();
        let kset = Kset::new(module, c"stat", &UEVENT_OPS)?;
        kset.add_group(&mut t, &TOP_GROUP)?;
        DEV_TYPE.prepare(&mut t);
        AGG_TYPE.prepare(&mut t);
        let all_devs = KobjDir::add(AggDir, &AGG_TYPE, &t, &kset, c"all_devs")?;
        *TREE.get_mut(&mut t) = Some(Tree {
            devices: KVec::new(),
            _all_devs: all_devs,
            kset,
        });
        Ok(tree)
    }
}

impl Drop for StatTree {
    fn drop(&mut self) {
        // Module init failure or exit: the target type is not (or no longer)
        // registered, so no device directory is left or can be added.
        let tree = TREE.get_mut(&mut TableGuard::lock()).take();
        drop(tree);
        // The directories' releases (module code) may still be pending: the
        // module's code must outlive them.
        wait_for_kobject_releases();
    }
}
