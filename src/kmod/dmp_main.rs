// SPDX-License-Identifier: GPL-2.0

//! dmp: a device-mapper proxy target that forwards every bio to one underlying
//! device and keeps exact I/O statistics, per mapped device and in total, in
//! sysfs under /sys/module/dmp/stat/.
//!
//! Layout: `bindings` (generated from the target kernel's headers) and `kapi`
//! (the thin safe layer over them and the C wrappers in helpers.c) hold every
//! `unsafe`; `target`, `registry` and `sysfs` are the logic; `stats` is plain
//! Rust shared with the host tool and unit-tested there.

use kernel::prelude::*;

mod bindings;
mod kapi;
// Benchmark builds only (Kbuild DMP_MICROBENCH=y, scripts/bench).
#[cfg(dmp_microbench)]
mod microbench;
mod registry;
// Shared with the host crate dmp-stats, which uses more of it.
#[allow(dead_code, unreachable_pub)]
#[path = "../stats/src/stats.rs"]
mod stats;
mod sysfs;
mod target;

module! {
    type: DmpModule,
    name: "dmp",
    description: "device-mapper proxy target with I/O statistics",
    license: "GPL",
    alias: ["dm-dmp"],
}

/// Fields drop in declaration order: the target type is unregistered (no
/// table can use dmp any more) before the statistics tree goes away.
struct DmpModule {
    _target: target::Registration,
    _sysfs: sysfs::StatTree,
    #[cfg(dmp_microbench)]
    _microbench: microbench::Microbench,
}

impl kernel::Module for DmpModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // The statistics tree must exist before the first table can be loaded.
        let sysfs = sysfs::StatTree::new()?;
        let target = target::Registration::new()?;
        Ok(DmpModule {
            _target: target,
            _sysfs: sysfs,
            #[cfg(dmp_microbench)]
            _microbench: microbench::Microbench::new()?,
        })
    }
}
