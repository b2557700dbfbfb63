// SPDX-License-Identifier: GPL-2.0

//! dmp: a device-mapper proxy target that forwards every bio to one underlying
//! device and keeps exact I/O statistics, per mapped device and in total, in
//! sysfs under /sys/module/dmp/stat/.
//!
//! Layout, from the C boundary up: `bindings` (generated from the target
//! kernel's headers) and helpers.c (wrappers of static inlines and macros);
//! `kapi/` (the thin safe layer over them, holding every `unsafe`); then the
//! logic, safe Rust: `target` (the dm target), `registry` (statistics per
//! mapped device), `sysfs` (the tree, which uses the registry); `stats` is
//! plain Rust shared with the host tool and unit-tested there.

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
/// table can use dmp any more) before the registry and the statistics tree
/// go away.
struct DmpModule {
    _target: target::Registration,
    _registry: registry::Registry,
    _sysfs: sysfs::StatTree,
    #[cfg(dmp_microbench)]
    _microbench: microbench::Microbench,
}

impl kernel::Module for DmpModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        // The statistics tree must exist before the first table can be loaded.
        let sysfs = sysfs::StatTree::new(module)?;
        let registry = registry::Registry::new();
        let target = target::Registration::new(module)?;
        Ok(DmpModule {
            _target: target,
            _registry: registry,
            _sysfs: sysfs,
            #[cfg(dmp_microbench)]
            _microbench: microbench::Microbench::new(module)?,
        })
    }
}
