// SPDX-License-Identifier: GPL-2.0

//! A kset under the module's directory whose uevents name a subsystem
//! ([`Kset`], [`UeventOps`]), and object directories in it ([`KobjDir::add`]).

use super::kobject::{kobject_will_release, KobjBox, KobjDir, KobjRef};
use super::sync::TableGuard;
use super::sysfs::{show_kset, store_kset, KsetGroup, SysfsOps, SysfsType};
use crate::bindings as b;
use core::ffi::CStr;
use kernel::ffi::{c_char};
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::error::{code, to_result, Error, Result};
use kernel::ThisModule;

/// The subsystem name uevents of a kset's directories carry (`SUBSYSTEM=`).
pub(crate) trait UeventSubsystem: 'static {
    const NAME: &'static CStr;
}

/// `kset_uevent_ops` naming the subsystem `S`.
#[repr(transparent)]
pub(crate) struct UeventOps<S>(b::kset_uevent_ops, PhantomData<S>);

// SAFETY: a constant C table of function pointers, never written.
unsafe impl<S> Sync for UeventOps<S> {}

impl<S: UeventSubsystem> UeventOps<S> {
    pub(crate) const fn new() -> Self {
        UeventOps(
            b::kset_uevent_ops {
                filter: None,
                name: Some(uevent_name::<S>),
                uevent: None,
            },
            PhantomData,
        )
    }
}

unsafe extern "C" fn uevent_name<S: UeventSubsystem>(_kobj: *const b::kobject) -> *const c_char {
    S::NAME.as_ptr().cast()
}

/// A kset directory under the module's directory, unregistered on drop.
#[repr(transparent)]
pub(crate) struct Kset(NonNull<b::kset>);

// SAFETY: the kset is only passed to kobject APIs, which lock internally.
unsafe impl Send for Kset {}
// SAFETY: as above.
unsafe impl Sync for Kset {}

impl Kset {
    /// /sys/module/<module>/<name>.
    pub(crate) fn new<S: UeventSubsystem>(
        module: &'static ThisModule,
        name: &CStr,
        uevent: &'static UeventOps<S>,
    ) -> Result<Self> {
        let m = module.as_ptr();
        if m.is_null() {
            return Err(code::EINVAL);
        }
        // SAFETY: `m` is this (loaded) module, whose kobject lives while the
        // module does, and so while any of its ksets.
        let parent = unsafe { ptr::addr_of_mut!((*m).mkobj.kobj) };
        // SAFETY: the parent is live (above); the name is copied; the uevent
        // ops are static.
        let kset = unsafe { b::kset_create_and_add(name.as_ptr().cast(), ptr::addr_of!(uevent.0), parent) };
        Ok(Kset(NonNull::new(kset).ok_or(code::ENOMEM)?))
    }

    fn kobj(&self) -> *mut b::kobject {
        // SAFETY: `kobj` is a field of the live kset.
        unsafe { ptr::addr_of_mut!((*self.0.as_ptr()).kobj) }
    }

    /// Adds files to the kset's own directory (removed with it).
    pub(crate) fn add_group<O: SysfsOps<Obj = ()>, const N: usize>(
        &self,
        lock: &mut TableGuard,
        group: &'static KsetGroup<O, N>,
    ) -> Result {
        let t = group.0.fill::<O>(lock, show_kset::<O>, store_kset::<O>, None);
        // SAFETY: the kset's kobject is live; the group is static and filled.
        to_result(unsafe { b::sysfs_create_group(self.kobj(), ptr::addr_of!((*t).group)) })
    }
}

impl Drop for Kset {
    fn drop(&mut self) {
        // SAFETY: created in `new`; unregistering drops our reference.
        unsafe { b::kset_unregister(self.0.as_ptr()) };
    }
}

impl<T: Send + Sync + 'static> KobjDir<T> {
    /// Adds `value` as directory `name` in `kset`, with the files of `ty`
    /// (prepared: `EINVAL` otherwise), and sends the `add` uevent. On
    /// failure `value` is dropped.
    pub(crate) fn add<O: SysfsOps<Obj = T>, const N: usize>(
        value: T,
        ty: &'static SysfsType<O, N>,
        lock: &TableGuard,
        kset: &Kset,
        name: &CStr,
    ) -> Result<Self> {
        let ktype = ty.ktype(lock)?;
        let p = KBox::into_raw(KBox::new(KobjBox::new(value), GFP_KERNEL)?);
        // SAFETY: `p` is a fresh allocation.
        let kobj = unsafe { (*p).kobj() };
        // From here on the box is freed by `release`, which counts it down.
        kobject_will_release();
        // SAFETY: `kobj` is the first field of a fresh `KobjBox`, zeroed here
        // as kobject_init expects. After kobject_init_and_add, even on
        // failure, the kobject owns the memory and kobject_put frees it
        // through `release::<T>` (the ktype's).
        unsafe {
            ptr::write_bytes(kobj, 0, 1);
            (*kobj).kset = kset.0.as_ptr();
            let ret = b::kobject_init_and_add(kobj, ktype, ptr::null_mut(), c"%s".as_ptr().cast(), name.as_ptr().cast::<c_char>());
            if ret != 0 {
                b::kobject_put(kobj);
                return Err(Error::from_errno(ret));
            }
            b::kobject_uevent(kobj, b::KOBJ_ADD);
        }
        // SAFETY: `p` is initialised and added; the initial reference and the
        // directory are handed to the one handle made here.
        Ok(unsafe { KobjDir::from_added(KobjRef::from_raw(NonNull::new_unchecked(p))) })
    }
}
