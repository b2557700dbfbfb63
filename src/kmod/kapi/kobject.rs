// SPDX-License-Identifier: GPL-2.0

//! Objects with an embedded kobject ([`KobjBox`]), the references that keep
//! them allocated ([`KobjRef`]), the unique handle that removes their sysfs
//! directory ([`KobjDir`]), and the wait for their releases at module exit.

use super::compat::{ARef, AlwaysRefCounted};
use crate::bindings as b;
use core::ops::Deref;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::alloc::KBox;
use kernel::types::Opaque;

/// A `T` with a kobject in front of it: allocated as a `KBox` and freed by
/// the kobject's release ([`release`]), never before the last reference.
/// The layout (`repr(C)`, kobject first) is what the callbacks rely on to get
/// from a `struct kobject *` back to the `T`.
#[repr(C)]
pub(super) struct KobjBox<T> {
    kobj: Opaque<b::kobject>,
    value: T,
}

// SAFETY: the kobject is only handled by the kobject core, which synchronises
// itself; Rust code only passes its address. `value` is shared as `T` is.
unsafe impl<T: Sync> Sync for KobjBox<T> {}
// SAFETY: as above; the last reference may drop `value` on any CPU.
unsafe impl<T: Send> Send for KobjBox<T> {}

impl<T> KobjBox<T> {
    /// A box whose kobject is left uninitialised: `KobjDir::add` zeroes it
    /// in place, as `kobject_init` requires, before initialising it.
    pub(super) fn new(value: T) -> Self {
        KobjBox {
            kobj: Opaque::uninit(),
            value,
        }
    }

    pub(super) fn kobj(&self) -> *mut b::kobject {
        self.kobj.get()
    }

    /// # Safety
    /// `kobj` is the kobject of a live `KobjBox<T>`; the returned reference
    /// is used only while it stays live.
    pub(super) unsafe fn from_kobj<'a>(kobj: *mut b::kobject) -> &'a T {
        // SAFETY: `KobjBox` is repr(C) with the kobject first (an `Opaque`
        // has the layout of what it wraps), so the pointers are equal.
        unsafe { &(*kobj.cast::<KobjBox<T>>()).value }
    }
}

/// `kobj_type.release` of a `KobjBox<T>`: frees it when the last reference
/// to its kobject goes away (not before, not twice).
pub(super) unsafe extern "C" fn release<T>(kobj: *mut b::kobject) {
    if !kobj.is_null() {
        // SAFETY: the kobject is the first field of a `KobjBox<T>` allocated
        // as a KBox and handed to the kobject in `KobjDir::add`; release
        // runs once, after the last kobject_put.
        drop(unsafe { KBox::from_raw(kobj.cast::<KobjBox<T>>()) });
    }
    kobject_released();
}

/// dmp's kobjects whose release ([`release`], module code) has not run yet,
/// plus one held by the module until [`wait_for_kobject_releases`].
///
/// A release can run long after the last `kobject_put` we see: a sysfs
/// reader may hold the last reference, and with CONFIG_DEBUG_KOBJECT_RELEASE
/// the kobject core delays every release by 1-4 s. The module's code (and
/// the static ktypes) must stay until the last one has run.
static UNRELEASED_KOBJECTS: AtomicUsize = AtomicUsize::new(1);

/// Counts a kobject whose release will run [`release`].
pub(super) fn kobject_will_release() {
    UNRELEASED_KOBJECTS.fetch_add(1, Ordering::AcqRel);
}

/// Counts one release done; the last one (after module exit dropped the
/// module's own count) wakes module exit.
fn kobject_released() {
    if UNRELEASED_KOBJECTS.fetch_sub(1, Ordering::AcqRel) == 1 {
        // SAFETY: the completion is a static of helpers.c, initialised by
        // DECLARE_COMPLETION; completing it has no other precondition.
        unsafe { b::complete(b::dmp_kobjects_released_completion()) };
    }
}

/// Waits until every kobject dmp ever added has been released, so that no
/// release function runs after the module's code is freed. Called once, as
/// the last step of module exit (or of a failed init that added kobjects),
/// when nothing can add a kobject any more.
///
/// (The release that wakes us still runs the few instructions that return
/// from it after `complete`; the code is freed only after exit has returned
/// and the module loader has torn down the module's own sysfs directory,
/// which leaves far more than that window, as for any release in a module.)
pub(crate) fn wait_for_kobject_releases() {
    if UNRELEASED_KOBJECTS.fetch_sub(1, Ordering::AcqRel) != 1 {
        // SAFETY: the static completion from helpers.c; we are in module
        // exit (process context, may sleep) and it is completed exactly once,
        // by the release that brings the count to zero.
        unsafe { b::wait_for_completion(b::dmp_kobjects_released_completion()) };
    }
}

// SAFETY: kobject_get and kobject_put maintain the kobject's reference count,
// and the object is freed (by `release`) only when it drops to zero, so it
// stays allocated while any `ARef` holds a count.
unsafe impl<T> AlwaysRefCounted for KobjBox<T> {
    fn inc_ref(&self) {
        // SAFETY: the kobject is live (`self` is borrowed from a counted
        // reference); take another count.
        unsafe { b::kobject_get(self.kobj()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller hands over one count of a live object; the last
        // one frees it through `release::<T>`.
        unsafe { b::kobject_put(obj.as_ref().kobj()) };
    }
}

/// One reference to the kobject of a [`KobjBox`] (the kernel crate's `ARef`):
/// the object stays allocated while any `KobjRef` to it exists. Send and
/// Sync, as `ARef`, only for `T: Send + Sync` (the last reference may drop
/// `T` on any CPU).
#[repr(transparent)]
pub(crate) struct KobjRef<T>(ARef<KobjBox<T>>);

impl<T> KobjRef<T> {
    /// # Safety
    /// `p` is a kobject-initialised `KobjBox<T>` and the caller hands over
    /// one reference to it.
    pub(super) unsafe fn from_raw(p: NonNull<KobjBox<T>>) -> Self {
        // SAFETY: by the caller's guarantee.
        KobjRef(unsafe { ARef::from_raw(p) })
    }

    fn boxed(&self) -> &KobjBox<T> {
        &self.0
    }
}

impl<T> Deref for KobjRef<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.boxed().value
    }
}

impl<T> Clone for KobjRef<T> {
    fn clone(&self) -> Self {
        KobjRef(self.0.clone())
    }
}

/// The sysfs directory of a [`KobjBox`]: one unique handle per directory
/// (not `Clone`), made by `KobjDir::add` (sysfs.rs). Dropping it removes the
/// directory (the `remove` uevent, then `kobject_del`, which waits for
/// running sysfs callbacks) and drops its reference: removal happens once,
/// by construction.
#[repr(transparent)]
pub(crate) struct KobjDir<T>(KobjRef<T>);

impl<T> KobjDir<T> {
    /// # Safety
    /// `r` refers to a kobject added to sysfs, and no other `KobjDir` for
    /// it exists.
    pub(super) unsafe fn from_added(r: KobjRef<T>) -> Self {
        KobjDir(r)
    }

    /// Another reference to the object (which may outlive the directory).
    #[allow(dead_code)]
    pub(crate) fn new_ref(&self) -> KobjRef<T> {
        self.0.clone()
    }
}

impl<T> Deref for KobjDir<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Drop for KobjDir<T> {
    fn drop(&mut self) {
        let kobj = self.0.boxed().kobj();
        // SAFETY: the kobject was added to sysfs and this unique handle
        // removes it, once; kobject_del waits for active sysfs callbacks
        // (kernfs drains them). Our reference is dropped afterwards.
        unsafe {
            b::kobject_uevent(kobj, b::KOBJ_REMOVE);
            b::kobject_del(kobj);
        }
    }
}
