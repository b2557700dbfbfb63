// SPDX-License-Identifier: GPL-2.0

//! Raw bindings to the C APIs dmp uses, generated at build time by bindgen
//! from the headers of the kernel being built against (see Kbuild and
//! bindgen.params), plus the wrappers declared in helpers.h: device-mapper
//! and what the kernel crate's own bindings lack; every other type is the
//! kernel crate's (`kernel::bindings`).

#![allow(
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unsafe_op_in_unsafe_fn,
    unused_imports,
    unreachable_pub,
    clippy::all,
    clippy::pedantic,
    clippy::undocumented_unsafe_blocks
)]

// What the kernel crate binds already (bindgen.params: --blocklist-type) is
// its own type; what is generated here shadows this glob import.
pub(crate) use kernel::bindings::*;

include!("bindings_generated.rs");
