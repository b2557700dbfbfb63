// SPDX-License-Identifier: GPL-2.0

//! dmp's two global locks (`DEFINE_MUTEX` in helpers.c) and data reachable
//! only through a live guard of its lock.

use crate::bindings as b;
use core::cell::UnsafeCell;
use core::marker::PhantomData;

/// Holds dmp's table lock: it serialises constructors and destructors (the
/// device registry's membership and sysfs directories) and module init/exit.
/// Taken before the data lock, never inside a sysfs callback.
pub(crate) struct TableGuard(PhantomData<*mut ()>);

impl TableGuard {
    pub(crate) fn lock() -> Self {
        // SAFETY: a plain mutex_lock in process context (ctr/dtr/module
        // init and exit, the only callers).
        unsafe { b::dmp_table_lock() };
        TableGuard(PhantomData)
    }
}

impl Drop for TableGuard {
    fn drop(&mut self) {
        // SAFETY: this guard took the lock in the same task (the guard is
        // neither Send nor Clone).
        unsafe { b::dmp_table_unlock() };
    }
}

/// Holds dmp's data lock: it protects baselines, the device list and the
/// counters of removed devices. Never held across calls into kobject/sysfs.
pub(crate) struct DataGuard(PhantomData<*mut ()>);

impl DataGuard {
    pub(crate) fn lock() -> Self {
        // SAFETY: a plain mutex_lock in process context.
        unsafe { b::dmp_data_lock() };
        DataGuard(PhantomData)
    }
}

impl Drop for DataGuard {
    fn drop(&mut self) {
        // SAFETY: this guard took the lock in the same task.
        unsafe { b::dmp_data_unlock() };
    }
}

/// The guards of dmp's global locks: at most one value of each exists at a
/// time, held by the task that took the lock.
pub(crate) trait GlobalGuard: private::Sealed {}
impl GlobalGuard for TableGuard {}
impl GlobalGuard for DataGuard {}
mod private {
    pub(crate) trait Sealed {}
    impl Sealed for super::TableGuard {}
    impl Sealed for super::DataGuard {}
}

/// A value protected by the global lock whose guard is `G`: reachable only
/// through a borrow of a live guard, exclusively through an exclusive borrow.
pub(crate) struct Locked<T, G: GlobalGuard> {
    value: UnsafeCell<T>,
    _guard: PhantomData<G>,
}

// SAFETY: all access goes through a guard of the one global lock `G`, so at
// most one task reaches the value at a time; `T: Send` because that task may
// be any.
unsafe impl<T: Send, G: GlobalGuard> Sync for Locked<T, G> {}
// SAFETY: moving the container moves the value; `T: Send` suffices.
unsafe impl<T: Send, G: GlobalGuard> Send for Locked<T, G> {}

impl<T, G: GlobalGuard> Locked<T, G> {
    pub(crate) const fn new(value: T) -> Self {
        Locked {
            value: UnsafeCell::new(value),
            _guard: PhantomData,
        }
    }

    pub(crate) fn get<'a>(&'a self, _guard: &'a G) -> &'a T {
        // SAFETY: the lock is held (a guard exists only while it is, and
        // only one exists: `G` is one of the sealed global guards); writers
        // need `&mut G`, which cannot coexist with this shared borrow.
        unsafe { &*self.value.get() }
    }

    #[allow(clippy::mut_from_ref)]
    pub(crate) fn get_mut<'a>(&'a self, _guard: &'a mut G) -> &'a mut T {
        // SAFETY: the lock is held and its one guard is borrowed
        // exclusively, so no other reference obtained through it is alive.
        unsafe { &mut *self.value.get() }
    }
}
