// SPDX-License-Identifier: GPL-2.0

//! dmp's kernel log messages, printed by `helpers.c` with `%s`: the kernel
//! crate's `pr_*` macros print with `%pA`, which a kernel built without Rust
//! (where dmp.ko is self-contained) does not implement.

use crate::bindings as b;

/// Logs `text` at KERN_WARNING, prefixed "dmp: " (cut at i32::MAX bytes, `%.*s` takes an int; never reached).
pub(crate) fn warn(text: &[u8]) {
    let len = text.len().min(i32::MAX as usize);
    // SAFETY: `text` is valid for reads of `len` bytes for the duration of
    // the call; the helper prints exactly that many bytes (`%.*s`) and keeps
    // no reference to them.
    unsafe { b::dmp_log_warn(text.as_ptr().cast(), len) }
}
