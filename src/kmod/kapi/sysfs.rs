// SPDX-License-Identifier: GPL-2.0

//! sysfs attribute tables described by a [`SysfsOps`] type, on a kset's own
//! directory ([`KsetGroup`]) or on directories of objects ([`SysfsType`],
//! `KobjDir::add` in kset.rs), and their callbacks.
//!
//! The C tables (`kobj_attribute`s, their NULL-terminated pointer array, the
//! group, the ktype) live in statics that dmp declares, are filled once
//! under the table lock before their first use, and are never written again.
//! Callbacks find the attribute's index next to its `kobj_attribute`, and
//! the object behind a kobject through [`KobjBox`]'s layout.

use super::compat::{self, ShowFn, StoreFn};
use super::kobject::{release, KobjBox};
use super::sync::TableGuard;
use crate::bindings as b;
use crate::stats::SliceWriter;
use core::cell::UnsafeCell;
use core::ffi::CStr;
use kernel::ffi::{c_char};
use core::marker::PhantomData;
use core::ptr;
use kernel::error::{code, Result};

/// Size of the buffer sysfs hands to a `show` callback.
const SYSFS_BUF_LEN: usize = kernel::page::PAGE_SIZE;

/// One attribute: its file name and mode (readable: `show`, writable: `store`).
pub(crate) struct AttrSpec {
    pub(crate) name: &'static CStr,
    pub(crate) mode: u16,
}

/// The files of one kind of directory and how to show and store them (by
/// index in [`SysfsOps::ATTRS`]).
pub(crate) trait SysfsOps: 'static {
    /// The object of one directory.
    type Obj: Send + Sync + 'static;
    const ATTRS: &'static [AttrSpec];
    fn show(obj: &Self::Obj, index: usize, out: &mut SliceWriter<'_>) -> Result;
    fn store(obj: &Self::Obj, index: usize, input: &[u8]) -> Result;
}

/// A `kobj_attribute` with its index in the table.
#[repr(C)]
struct Attr {
    attr: b::kobj_attribute,
    index: usize,
}

/// The C tables of `N` attributes: `ptrs` and `end` form the NULL-terminated
/// array sysfs expects (repr(C), same alignment: no padding between them).
#[repr(C)]
pub(super) struct Tables<const N: usize> {
    attrs: [Attr; N],
    ptrs: [*mut b::attribute; N],
    end: *mut b::attribute,
    pub(super) group: b::attribute_group,
    groups: [*const b::attribute_group; 2],
    ktype: b::kobj_type,
    ready: bool,
}

/// Static tables for `O`, filled at first use.
pub(super) struct StaticTables<const N: usize>(UnsafeCell<Tables<N>>);

// SAFETY: written only by `fill`, under the table lock (`&mut TableGuard`)
// and only before `ready` is set, that is before any pointer into the tables
// was handed out; afterwards only read (by sysfs and the kobject core).
unsafe impl<const N: usize> Sync for StaticTables<N> {}

impl<const N: usize> StaticTables<N> {
    const fn new() -> Self {
        // SAFETY: all-zero C tables are empty ones (null pointers, `None`
        // callbacks, zero modes), and `ready` is false.
        StaticTables(UnsafeCell::new(unsafe { core::mem::zeroed() }))
    }

    /// Fills the tables once; returns them.
    pub(super) fn fill<O: SysfsOps>(
        &'static self,
        _lock: &mut TableGuard,
        show: ShowFn,
        store: StoreFn,
        release: Option<unsafe extern "C" fn(*mut b::kobject)>,
    ) -> *mut Tables<N> {
        const { assert!(O::ATTRS.len() == N, "the table size must be the number of attributes") };
        let t = self.0.get();
        // SAFETY: the table lock is held, so nobody else is in `fill`; when
        // `ready` is false nothing points into the tables yet, so this is
        // the only access. After `ready` is set, nothing writes them again.
        unsafe {
            if !(*t).ready {
                let t = &mut *t;
                for (i, spec) in O::ATTRS.iter().enumerate() {
                    let a = &mut t.attrs[i];
                    a.index = i;
                    a.attr.attr.name = spec.name.as_ptr().cast();
                    a.attr.attr.mode = spec.mode;
                    compat::set_attr_callbacks(
                        &mut a.attr,
                        (spec.mode & 0o444 != 0).then_some(show),
                        (spec.mode & 0o222 != 0).then_some(store),
                    );
                    t.ptrs[i] = ptr::addr_of_mut!(a.attr.attr);
                }
                t.end = ptr::null_mut();
                compat::set_group_attrs(&mut t.group, t.ptrs.as_mut_ptr());
                t.groups = [ptr::addr_of!(t.group), ptr::null()];
                t.ktype.release = release;
                t.ktype.sysfs_ops = ptr::addr_of!(b::kobj_sysfs_ops);
                t.ktype.default_groups = t.groups.as_mut_ptr();
                t.ready = true;
            }
        }
        t
    }
}

/// The ktype and files of directories of `O::Obj` objects ([`KobjDir::add`]).
pub(crate) struct SysfsType<O, const N: usize>(StaticTables<N>, PhantomData<O>);

// SAFETY: see `StaticTables`; `O` is only a type-level tag.
unsafe impl<O, const N: usize> Sync for SysfsType<O, N> {}

impl<O: SysfsOps, const N: usize> SysfsType<O, N> {
    pub(crate) const fn new() -> Self {
        SysfsType(StaticTables::new(), PhantomData)
    }

    /// Fills the tables (once): needed before the first [`KobjDir::add`].
    pub(crate) fn prepare(&'static self, lock: &mut TableGuard) {
        self.0.fill::<O>(lock, show_dir::<O>, store_dir::<O>, Some(release::<O::Obj>));
    }

    /// The ktype, once [`SysfsType::prepare`] has run. The lock (held: the
    /// guard exists) keeps `prepare` from running meanwhile.
    pub(super) fn ktype(&'static self, _lock: &TableGuard) -> Result<*mut b::kobj_type> {
        let t = self.0 .0.get();
        // SAFETY: reading `ready` cannot race with `fill`, which needs the
        // lock exclusively while we hold a borrow of its guard.
        if unsafe { (*t).ready } {
            // SAFETY: `t` points to the static tables.
            Ok(unsafe { ptr::addr_of_mut!((*t).ktype) })
        } else {
            Err(code::EINVAL)
        }
    }
}

/// Files on a kset's own directory, whose object is `()`.
pub(crate) struct KsetGroup<O, const N: usize>(pub(super) StaticTables<N>, PhantomData<O>);

// SAFETY: see `StaticTables`; `O` is only a type-level tag.
unsafe impl<O, const N: usize> Sync for KsetGroup<O, N> {}

impl<O: SysfsOps<Obj = ()>, const N: usize> KsetGroup<O, N> {
    pub(crate) const fn new() -> Self {
        KsetGroup(StaticTables::new(), PhantomData)
    }
}

/// The index stored next to a `kobj_attribute` of our tables.
///
/// # Safety
/// `attr` is a `kobj_attribute` of a [`Tables`] (sysfs only calls our
/// callbacks with the attributes we registered them in).
unsafe fn attr_index(attr: *mut b::kobj_attribute) -> usize {
    // SAFETY: `Attr` is repr(C) with the `kobj_attribute` first.
    unsafe { (*attr.cast::<Attr>()).index }
}

fn show_common<O: SysfsOps>(obj: &O::Obj, index: usize, page: &mut [u8]) -> isize {
    let mut out = SliceWriter::new(page);
    match O::show(obj, index, &mut out) {
        Ok(()) => out.len() as isize,
        Err(e) => e.to_errno() as isize,
    }
}

fn store_common<O: SysfsOps>(obj: &O::Obj, index: usize, input: &[u8], count: usize) -> isize {
    match O::store(obj, index, input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

unsafe extern "C" fn show_dir<O: SysfsOps>(kobj: *mut b::kobject, attr: *mut b::kobj_attribute, buf: *mut c_char) -> isize {
    // SAFETY: sysfs calls show with a live kobject of this ktype (a
    // `KobjBox<O::Obj>`; kobject_del waits for us), one of its attributes,
    // and a PAGE_SIZE buffer.
    let (obj, index, page) = unsafe {
        (
            KobjBox::<O::Obj>::from_kobj(kobj),
            attr_index(attr),
            core::slice::from_raw_parts_mut(buf.cast::<u8>(), SYSFS_BUF_LEN),
        )
    };
    show_common::<O>(obj, index, page)
}

unsafe extern "C" fn store_dir<O: SysfsOps>(
    kobj: *mut b::kobject,
    attr: *mut b::kobj_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: as for `show_dir`, with `count` readable bytes at `buf`.
    let (obj, index, input) = unsafe {
        (
            KobjBox::<O::Obj>::from_kobj(kobj),
            attr_index(attr),
            core::slice::from_raw_parts(buf.cast::<u8>(), count),
        )
    };
    store_common::<O>(obj, index, input, count)
}

pub(super) unsafe extern "C" fn show_kset<O: SysfsOps<Obj = ()>>(
    _kobj: *mut b::kobject,
    attr: *mut b::kobj_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: sysfs calls show with one of the group's attributes and a
    // PAGE_SIZE buffer.
    let (index, page) = unsafe {
        (
            attr_index(attr),
            core::slice::from_raw_parts_mut(buf.cast::<u8>(), SYSFS_BUF_LEN),
        )
    };
    show_common::<O>(&(), index, page)
}

pub(super) unsafe extern "C" fn store_kset<O: SysfsOps<Obj = ()>>(
    _kobj: *mut b::kobject,
    attr: *mut b::kobj_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs calls store with one of the group's attributes and
    // `count` readable bytes at `buf`.
    let (index, input) = unsafe { (attr_index(attr), core::slice::from_raw_parts(buf.cast::<u8>(), count)) };
    store_common::<O>(&(), index, input, count)
}
