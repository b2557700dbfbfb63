#![no_std]
//! I/O statistics of the `dmp` device-mapper target.
//!
//! All logic lives in `stats.rs`, which the kernel module includes directly
//! (`#[path = "../stats/src/stats.rs"] mod stats;`); this crate wraps the same
//! file so that the host tool `dmpstat` and the tests use exactly the code the
//! kernel uses: one formatter and one parser for the sysfs text.

#[cfg(test)]
extern crate std;

#[path = "stats.rs"]
mod stats;

pub use stats::*;
