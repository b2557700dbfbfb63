// SPDX-License-Identifier: GPL-2.0

//! The thin safe layer between the C boundary (`bindings`, generated from the
//! target kernel's headers, and the wrappers of `helpers.c`) and dmp's logic.
//! Every `unsafe` of the module lives in this folder, one concept per file:
//!
//! | file | what |
//! |---|---|
//! | `compat.rs` | the differences between the supported kernels (6.12, 7.x): the one place that knows |
//! | `sync.rs` | dmp's two global locks and data reachable only through their guards |
//! | `percpu.rs` | per-CPU counter arrays and the handle the I/O path adds through |
//! | `bio.rs` | a bio seen from `map` |
//! | `dm.rs` | device-mapper: the target trait, its registration, the target's views |
//! | `dm_dev.rs` | the mapped device and the underlying device of a target |
//! | `dm_tramp.rs` | the C callbacks of a target type |
//! | `kobject.rs` | reference-counted objects with a kobject, and their directories |
//! | `kset.rs` | a kset with its uevent subsystem, object directories in it |
//! | `sysfs.rs` | attribute tables and their callbacks |
//! | `log.rs` | kernel log messages (printed by C with `%s`, never `%pA`) |
//! | `time.rs` | the clock requests are timed with, and the parameter that turns timing on |
//! | `bench.rs` | benchmark builds only (cfg-gated, never in the shipped dmp.ko) |
//!
//! Safe functions here are sound for any caller: the types carry what C
//! expects (constructor-time access, unique handles for removal, lock guards).

mod bio;
mod compat;
mod dm;
mod dm_dev;
mod dm_tramp;
mod kobject;
mod kset;
mod log;
mod percpu;
mod sync;
mod sysfs;
mod time;

// Benchmark builds only (Kbuild DMP_ACCOUNTING, DMP_MICROBENCH; scripts/bench):
// never compiled into the dmp.ko that ships.
#[cfg(any(dmp_acct_variant, dmp_acct_percpu_each, dmp_microbench))]
mod bench;
#[cfg(dmp_microbench)]
pub(crate) use bench::{online_cpus, run_on_each_cpu};

pub(crate) use bio::Bio;
pub(crate) use dm::{
    features, register, Args, CtrTarget, DmDev, MapResult, MappedDevice, StatusKind, Target,
    TargetOps, TargetRegistration,
};
pub(crate) use kobject::{wait_for_kobject_releases, KobjDir};
pub(crate) use percpu::{PerCpuSlots, StatsRef};
pub(crate) use log::warn as log_warn;
pub(crate) use time::{latency_param, now_ns};
pub(crate) use sync::{DataGuard, Locked, TableGuard};
pub(crate) use kset::{Kset, UeventOps, UeventSubsystem};
pub(crate) use sysfs::{AttrSpec, KsetGroup, SysfsOps, SysfsType};

// What the counters and the FFI casts assume, checked by the compiler (Kbuild
// also refuses every architecture but x86-64): a reader sums other CPUs' u64
// slots with one plain load each, which is whole (never torn) only where a
// 64-bit load is a single access; and pointers, `usize` and the C `long`
// carried through the bindings are 64 bits wide.
const _: () = assert!(core::mem::size_of::<usize>() == 8, "dmp assumes 64-bit pointers");
const _: () = assert!(core::mem::size_of::<kernel::ffi::c_ulong>() == 8, "dmp assumes a 64-bit C long");
const _: () = assert!(core::mem::align_of::<u64>() == 8, "per-CPU u64 slots must be naturally aligned");
#[cfg(not(target_has_atomic = "64"))]
compile_error!("dmp reads 64-bit per-CPU counters whole: the target needs single-access 64-bit loads");
