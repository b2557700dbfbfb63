// SPDX-License-Identifier: GPL-2.0

//! The differences between the supported kernels (6.12 and 7.x), detected by
//! Kbuild from the headers of the kernel being built against (distributions
//! backport, so no version numbers): the one place that knows.

use crate::bindings as b;

/// The kernel crate's reference-counting types (moved in 7.x).
#[cfg(dmp_sync_aref)]
pub(super) use kernel::sync::aref::{ARef, AlwaysRefCounted};
#[cfg(not(dmp_sync_aref))]
pub(super) use kernel::types::{ARef, AlwaysRefCounted};

/// A sysfs `show` callback of a `kobj_attribute`.
pub(super) type ShowFn =
    unsafe extern "C" fn(*mut b::kobject, *mut b::kobj_attribute, *mut kernel::ffi::c_char) -> isize;
/// A sysfs `store` callback of a `kobj_attribute`.
pub(super) type StoreFn =
    unsafe extern "C" fn(*mut b::kobject, *mut b::kobj_attribute, *const kernel::ffi::c_char, usize) -> isize;

// 7.x puts the sysfs callbacks and the attribute array in anonymous unions
// (const and non-const variants).

#[cfg(dmp_kobj_attr_union)]
pub(super) fn set_attr_callbacks(a: &mut b::kobj_attribute, show: Option<ShowFn>, store: Option<StoreFn>) {
    a.__bindgen_anon_1.show = show;
    a.__bindgen_anon_2.store = store;
}

#[cfg(not(dmp_kobj_attr_union))]
pub(super) fn set_attr_callbacks(a: &mut b::kobj_attribute, show: Option<ShowFn>, store: Option<StoreFn>) {
    a.show = show;
    a.store = store;
}

#[cfg(all(dmp_group_attrs_union, dmp_group_visible_union))]
pub(super) fn set_group_attrs(g: &mut b::attribute_group, attrs: *mut *mut b::attribute) {
    g.__bindgen_anon_2.attrs = attrs;
}

#[cfg(all(dmp_group_attrs_union, not(dmp_group_visible_union)))]
pub(super) fn set_group_attrs(g: &mut b::attribute_group, attrs: *mut *mut b::attribute) {
    g.__bindgen_anon_1.attrs = attrs;
}

#[cfg(not(dmp_group_attrs_union))]
pub(super) fn set_group_attrs(g: &mut b::attribute_group, attrs: *mut *mut b::attribute) {
    g.attrs = attrs;
}

/// `target_type.prepare_ioctl`: 7.x adds `cmd`, `arg` and `forward`.
#[cfg(dmp_ioctl_forward)]
pub(super) unsafe extern "C" fn prepare_ioctl_tramp<T: super::TargetOps>(
    ti: *mut b::dm_target,
    bdev: *mut *mut b::block_device,
    _cmd: kernel::ffi::c_uint,
    _arg: kernel::ffi::c_ulong,
    _forward: *mut bool,
) -> kernel::ffi::c_int {
    // SAFETY: forwarded from dm core's call, with its guarantees.
    unsafe { super::dm_tramp::prepare_ioctl::<T>(ti, bdev) }
}

/// `target_type.prepare_ioctl` of 6.12.
#[cfg(not(dmp_ioctl_forward))]
pub(super) unsafe extern "C" fn prepare_ioctl_tramp<T: super::TargetOps>(
    ti: *mut b::dm_target,
    bdev: *mut *mut b::block_device,
) -> kernel::ffi::c_int {
    // SAFETY: forwarded from dm core's call, with its guarantees.
    unsafe { super::dm_tramp::prepare_ioctl::<T>(ti, bdev) }
}

/// `DM_TARGET_ATOMIC_WRITES` (7.x), or nothing where the kernel lacks it.
#[cfg(dmp_atomic_writes)]
pub(super) const ATOMIC_WRITES: u64 = b::DM_TARGET_ATOMIC_WRITES as u64;
#[cfg(not(dmp_atomic_writes))]
pub(super) const ATOMIC_WRITES: u64 = 0;
