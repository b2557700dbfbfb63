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
//! them up.

use crate::bindings as b;
use crate::kapi::{
    init_ktype, init_uevent_ops, kobj_container, kobject_add, wait_for_kobject_releases, AttrSpec,
    AttrTable, InitOnce, KObj, KobjRef, KobjectField, KobjectFirst, StatKset, SysfsOps,
};
use crate::registry::{self, DevStats};
use crate::stats::{parse_reset, write_summary, SliceWriter, StatFile};
use core::ffi::CStr;
use kernel::error::{code, Result};

/// The C names of the stat files, in `StatFile::ALL` order (checked at load).
const STAT_NAMES: [&CStr; 13] = [
    c"read_cnt",
    c"write_cnt",
    c"total_cnt",
    c"read_avr_bs",
    c"write_avr_bs",
    c"total_avr_bs",
    c"summary",
    c"read_bytes",
    c"write_bytes",
    c"discard_cnt",
    c"discard_bytes",
    c"flush_cnt",
    c"histogram",
];
const NR_STAT: usize = STAT_NAMES.len();
/// Index of `name` and `reset` in a device directory.
const DEV_NAME: usize = NR_STAT;
const DEV_RESET: usize = NR_STAT + 1;
/// Index of `volumes` and `reset` in the top directory.
const TOP_VOLUMES: usize = 0;
const TOP_RESET: usize = 1;

const RO: u16 = 0o400;
const WO: u16 = 0o200;

static UEVENT_OPS: InitOnce<b::kset_uevent_ops> = InitOnce::zeroed();
static KSET: InitOnce<Option<StatKset>> = InitOnce::zeroed();
static ALL_DEVS: InitOnce<Option<KobjRef<AggDir>>> = InitOnce::zeroed();

static TOP_ATTRS: InitOnce<AttrTable> = InitOnce::zeroed();
static TOP_GROUP: InitOnce<b::attribute_group> = InitOnce::zeroed();

static DEV_ATTRS: InitOnce<AttrTable> = InitOnce::zeroed();
static DEV_GROUP: InitOnce<b::attribute_group> = InitOnce::zeroed();
static DEV_GROUPS: InitOnce<[*const b::attribute_group; 2]> = InitOnce::zeroed();
static DEV_KTYPE: InitOnce<b::kobj_type> = InitOnce::zeroed();

static AGG_ATTRS: InitOnce<AttrTable> = InitOnce::zeroed();
static AGG_GROUP: InitOnce<b::attribute_group> = InitOnce::zeroed();
static AGG_GROUPS: InitOnce<[*const b::attribute_group; 2]> = InitOnce::zeroed();
static AGG_KTYPE: InitOnce<b::kobj_type> = InitOnce::zeroed();

/// The ktype of device directories (used by the registry).
pub(crate) fn device_ktype() -> &'static InitOnce<b::kobj_type> {
    &DEV_KTYPE
}

/// The `stat` kset, parent of every directory.
pub(crate) fn kset() -> Result<&'static StatKset> {
    KSET.get().as_ref().ok_or(code::ENODEV)
}

fn render(file: usize, c: &crate::stats::Counters, out: &mut SliceWriter<'_>) -> Result {
    let file = StatFile::ALL.get(file).ok_or(code::EIO)?;
    file.render(c, out).map_err(|_| code::EFBIG)
}

/// Device directories: /sys/module/dmp/stat/dm-N.
struct DevDir;

impl SysfsOps for DevDir {
    type Obj = DevStats;

    fn attrs() -> &'static AttrTable {
        DEV_ATTRS.get()
    }

    unsafe fn obj<'a>(kobj: *mut b::kobject) -> &'a DevStats {
        // SAFETY: forwarded guarantee: a live device directory's kobject.
        unsafe { kobj_container::<DevStats>(kobj) }
    }

    fn show(dev: &DevStats, index: usize, out: &mut SliceWriter<'_>) -> Result {
        match index {
            DEV_NAME => dev.mapped_device().write_name(out),
            i => render(i, &dev.snapshot(), out),
        }
    }

    fn store(dev: &DevStats, index: usize, input: &[u8]) -> Result {
        match index {
            DEV_RESET => {
                parse_reset(input).map_err(|_| code::EINVAL)?;
                dev.reset();
                Ok(())
            }
            _ => Err(code::EACCES),
        }
    }
}

/// The aggregate directory, /sys/module/dmp/stat/all_devs.
#[repr(C)]
struct AggDir {
    kobj: KobjectField,
}

// SAFETY: repr(C) with the kobject first; allocated only through kobject_add.
unsafe impl KobjectFirst for AggDir {}

impl SysfsOps for AggDir {
    type Obj = AggDir;

    fn attrs() -> &'static AttrTable {
        AGG_ATTRS.get()
    }

    unsafe fn obj<'a>(kobj: *mut b::kobject) -> &'a AggDir {
        // SAFETY: forwarded guarantee: the live all_devs kobject.
        unsafe { kobj_container::<AggDir>(kobj) }
    }

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

    fn attrs() -> &'static AttrTable {
        TOP_ATTRS.get()
    }

    unsafe fn obj<'a>(_: *mut b::kobject) -> &'a () {
        &()
    }

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

/// The statistics tree; removed when dropped (module exit).
pub(crate) struct StatTree(());

impl StatTree {
    pub(crate) fn new() -> Result<Self> {
        for (f, name) in StatFile::ALL.iter().zip(STAT_NAMES) {
            if f.name().as_bytes() != name.to_bytes() {
                return Err(code::EINVAL);
            }
        }
        let stat = |name| AttrSpec { name, mode: RO };
        let mut dev = [const { AttrSpec { name: c"", mode: 0 } }; NR_STAT + 2];
        let mut agg = [const { AttrSpec { name: c"", mode: 0 } }; NR_STAT];
        for (i, name) in STAT_NAMES.iter().enumerate() {
            dev[i] = stat(name);
            agg[i] = stat(name);
        }
        dev[DEV_NAME] = AttrSpec { name: c"name", mode: RO };
        dev[DEV_RESET] = AttrSpec { name: c"reset", mode: WO };
        let top = [
            AttrSpec { name: c"volumes", mode: RO },
            AttrSpec { name: c"reset", mode: WO },
        ];
        AttrTable::init::<DevDir>(&DEV_ATTRS, &DEV_GROUP, &dev)?;
        AttrTable::init::<AggDir>(&AGG_ATTRS, &AGG_GROUP, &agg)?;
        AttrTable::init::<TopDir>(&TOP_ATTRS, &TOP_GROUP, &top)?;
        init_ktype::<DevStats>(&DEV_KTYPE, &DEV_GROUPS, &DEV_GROUP);
        init_ktype::<AggDir>(&AGG_KTYPE, &AGG_GROUPS, &AGG_GROUP);
        init_uevent_ops(&UEVENT_OPS);

        // From here on, dropping `tree` undoes whatever was done.
        let tree = StatTree(());
        let stat = StatKset::new(c"stat", &UEVENT_OPS)?;
        stat.add_group(&TOP_GROUP)?;
        // SAFETY: module init; nothing can reach KSET before it is set.
        unsafe { KSET.replace(Some(stat)) };
        let all = kobject_add(
            KObj::new(AggDir {
                kobj: KobjectField::new(),
            })?,
            &AGG_KTYPE,
            kset()?,
            c"all_devs",
        )?;
        // SAFETY: module init, as above.
        unsafe { ALL_DEVS.replace(Some(all)) };
        Ok(tree)
    }
}

impl Drop for StatTree {
    fn drop(&mut self) {
        // SAFETY: module init failure or exit: the target type is not (or no
        // longer) registered, so no constructor can reach these statics.
        if let Some(all) = unsafe { ALL_DEVS.replace(None) } {
            all.remove();
        }
        // SAFETY: as above.
        drop(unsafe { KSET.replace(None) });
        // The directories' releases (module code) may still be pending: the
        // module's code must outlive them.
        wait_for_kobject_releases();
    }
}

