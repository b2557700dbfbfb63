// SPDX-License-Identifier: GPL-2.0

//! Raw bindings to the C APIs dmp uses, generated at build time by bindgen
//! from the headers of the kernel being built against (see Kbuild and
//! bindgen.params), plus the wrappers declared in helpers.h.

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

include!("bindings_generated.rs");
