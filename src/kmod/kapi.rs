// SPDX-License-Identifier: GPL-2.0

//! The thin safe layer over the generated bindings and the C wrappers of
//! helpers.c. Every `unsafe` block of the module lives in this file; the
//! target, registry and sysfs logic above it is safe Rust.

use crate::bindings as b;
use crate::stats::{Counters, IoKind, SliceWriter, Update, NR_SLOTS};
use core::cell::UnsafeCell;
use core::ffi::{c_char, c_int, c_uint, c_void, CStr};
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ops::Deref;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::error::{code, to_result, Error, Result};

/// Size of the buffer sysfs hands to a `show` callback.
const SYSFS_BUF_LEN: usize = kernel::page::PAGE_SIZE;

// ---------------------------------------------------------------------------
// Memory
// ---------------------------------------------------------------------------

/// An owned `T` in memory from `kzalloc`, freed with `kfree`.
pub(crate) struct KObj<T> {
    ptr: NonNull<T>,
}

impl<T> KObj<T> {
    /// Moves `value` into a new allocation.
    pub(crate) fn new(value: T) -> Result<Self> {
        const { assert!(align_of::<T>() <= 8, "kzalloc guarantees 8-byte alignment") };
        // SAFETY: a plain allocation request; the result is checked for NULL.
        let raw = unsafe { b::dmp_kzalloc(size_of::<T>()) }.cast::<T>();
        let ptr = NonNull::new(raw).ok_or(code::ENOMEM)?;
        // SAFETY: `ptr` is a fresh allocation of `size_of::<T>()` bytes with
        // sufficient alignment (asserted above), so it is valid for a write.
        unsafe { ptr.as_ptr().write(value) };
        Ok(KObj { ptr })
    }

    /// Gives up ownership; [`KObj::from_raw`] takes it back.
    pub(crate) fn into_raw(self) -> NonNull<T> {
        let ptr = self.ptr;
        core::mem::forget(self);
        ptr
    }

    /// Takes back ownership of a pointer from [`KObj::into_raw`].
    ///
    /// # Safety
    /// `ptr` came from `into_raw` and nothing else will use it afterwards.
    pub(crate) unsafe fn from_raw(ptr: NonNull<T>) -> Self {
        KObj { ptr }
    }
}

impl<T> Deref for KObj<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `ptr` is owned by `self` and was initialised in `new`.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> Drop for KObj<T> {
    fn drop(&mut self) {
        // SAFETY: we own the initialised value and the allocation from
        // kzalloc; neither is used after this.
        unsafe {
            ptr::drop_in_place(self.ptr.as_ptr());
            b::kfree(self.ptr.as_ptr().cast::<c_void>());
        }
    }
}

/// A static that the module initialises once, in `init`, before anything
/// else can see it, and only reads afterwards.
pub(crate) struct InitOnce<T>(UnsafeCell<T>);

// SAFETY: written only by `init` (single-threaded, before registration makes
// the value reachable from other contexts), read-only after that.
unsafe impl<T> Sync for InitOnce<T> {}

/// Types for which all-zero bytes are a valid (empty) value.
///
/// # Safety
/// Implementors must be valid when zeroed.
pub(crate) unsafe trait Zeroable {}

// SAFETY: plain C structures of pointers, integers and optional function
// pointers (None is zero); dm core and sysfs expect unused fields zeroed.
unsafe impl Zeroable for b::target_type {}
// SAFETY: as above.
unsafe impl Zeroable for b::attribute_group {}
// SAFETY: as above.
unsafe impl Zeroable for b::kobj_type {}
// SAFETY: as above.
unsafe impl Zeroable for b::kset_uevent_ops {}
// SAFETY: an array of (null) raw pointers.
unsafe impl Zeroable for [*const b::attribute_group; 2] {}
// SAFETY: C attribute structures, null pointers and a zero length.
unsafe impl Zeroable for AttrTable {}
// SAFETY: `StatKset` is a NonNull, so `None` is the zero pattern.
unsafe impl Zeroable for Option<StatKset> {}
// SAFETY: `KobjRef` is a NonNull, so `None` is the zero pattern.
unsafe impl<T: KobjectFirst> Zeroable for Option<KobjRef<T>> {}

impl<T: Zeroable> InitOnce<T> {
    /// The all-zero (empty) value.
    pub(crate) const fn zeroed() -> Self {
        // SAFETY: `T: Zeroable`.
        InitOnce(UnsafeCell::new(unsafe { core::mem::zeroed() }))
    }
}

impl<T> InitOnce<T> {
    /// Mutable access during module init.
    ///
    /// # Safety
    /// Only from module `init`, before the value is published to any other
    /// context, and never twice at the same time.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn init_mut(&self) -> &mut T {
        // SAFETY: exclusive by the caller's guarantee.
        unsafe { &mut *self.0.get() }
    }

    pub(crate) fn get(&self) -> &T {
        // SAFETY: after init nobody writes (see the type's documentation).
        unsafe { &*self.0.get() }
    }

    /// Replaces the value at module exit.
    ///
    /// # Safety
    /// Only from module init or exit, when no other context can read it.
    pub(crate) unsafe fn replace(&self, value: T) -> T {
        // SAFETY: exclusive by the caller's guarantee.
        core::mem::replace(unsafe { &mut *self.0.get() }, value)
    }

    pub(crate) fn as_ptr(&self) -> *mut T {
        self.0.get()
    }
}

// ---------------------------------------------------------------------------
// Locks
// ---------------------------------------------------------------------------

/// Holds dmp's table lock: it serialises constructors and destructors (the
/// device registry's membership and sysfs directories). Taken before the data
/// lock, never inside a sysfs callback.
pub(crate) struct TableGuard(PhantomData<*mut ()>);

impl TableGuard {
    pub(crate) fn lock() -> Self {
        // SAFETY: a plain mutex_lock in process context (ctr/dtr/module init).
        unsafe { b::dmp_table_lock() };
        TableGuard(PhantomData)
    }
}

impl Drop for TableGuard {
    fn drop(&mut self) {
        // SAFETY: this guard took the lock in the same task.
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

/// A value protected by the lock whose guard is `G`: reachable only through
/// a borrow of a live guard, exclusively through an exclusive borrow.
pub(crate) struct Locked<T, G> {
    value: UnsafeCell<T>,
    _guard: PhantomData<G>,
}

// SAFETY: all access goes through a guard of the one global lock `G`.
unsafe impl<T: Send, G> Sync for Locked<T, G> {}
// SAFETY: moving the container moves the value; `T: Send` suffices.
unsafe impl<T: Send, G> Send for Locked<T, G> {}

impl<T, G> Locked<T, G> {
    pub(crate) const fn new(value: T) -> Self {
        Locked {
            value: UnsafeCell::new(value),
            _guard: PhantomData,
        }
    }

    pub(crate) fn get<'a>(&'a self, _guard: &'a G) -> &'a T {
        // SAFETY: the lock is held; writers need `&mut G`, which cannot
        // coexist with this shared borrow, and only one guard exists at a time.
        unsafe { &*self.value.get() }
    }

    #[allow(clippy::mut_from_ref)]
    pub(crate) fn get_mut<'a>(&'a self, _guard: &'a mut G) -> &'a mut T {
        // SAFETY: the lock is held and the guard is borrowed exclusively, so
        // no other reference obtained through it is alive.
        unsafe { &mut *self.value.get() }
    }
}

// ---------------------------------------------------------------------------
// Per-CPU counters
// ---------------------------------------------------------------------------

// What the counters and the FFI casts assume, checked by the compiler (Kbuild
// also refuses every architecture but x86-64): a reader sums other CPUs' u64
// slots with one plain load each, which is whole (never torn) only where a
// 64-bit load is a single access; and pointers, `usize` and the C `long`
// carried through the bindings are 64 bits wide.
const _: () = assert!(core::mem::size_of::<usize>() == 8, "dmp assumes 64-bit pointers");
const _: () = assert!(core::mem::size_of::<core::ffi::c_ulong>() == 8, "dmp assumes a 64-bit C long");
const _: () = assert!(core::mem::align_of::<u64>() == 8, "per-CPU u64 slots must be naturally aligned");
#[cfg(not(target_has_atomic = "64"))]
compile_error!("dmp reads 64-bit per-CPU counters whole: the target needs single-access 64-bit loads");

/// `NR_SLOTS` 64-bit counters per CPU. The I/O path adds one bio's
/// increments to the current CPU's copy with one call of a C helper doing
/// three `this_cpu_add` (one instruction each, safe against preemption and
/// interrupts, no cache line shared between CPUs); readers sum all copies.
/// (Benchmark builds may replace it: see acct_variants.rs.)
#[cfg(not(dmp_acct_variant))]
pub(crate) struct PerCpuSlots {
    base: PerCpuBase,
}

/// The base pointer of a live per-CPU array of `NR_SLOTS` u64, copied into a
/// target's context by [`StatsRef`] so that the I/O path reaches the counters
/// with no further load. Only made from a live [`PerCpuSlots`]; never outlives
/// it (see [`StatsRef`]).
#[cfg(not(dmp_acct_variant))]
#[derive(Clone, Copy)]
pub(crate) struct PerCpuBase(NonNull<u64>);

#[cfg(not(dmp_acct_variant))]
// SAFETY: the per-CPU area is only modified with this_cpu_add on the owning
// CPU and read with volatile 64-bit loads; nothing else aliases it.
unsafe impl Send for PerCpuBase {}
#[cfg(not(dmp_acct_variant))]
// SAFETY: see `Send`; `add` is safe concurrently on every CPU.
unsafe impl Sync for PerCpuBase {}

#[cfg(not(any(dmp_acct_variant, dmp_acct_percpu_each)))]
impl PerCpuBase {
    /// Adds one bio's increments to this CPU's copy: one out-of-line call.
    #[inline]
    pub(crate) fn add(self, update: &Update) {
        let [x, y, z] = update.adds();
        // SAFETY: `self.0` is a live per-CPU array of NR_SLOTS u64 (see the
        // type), and an `Update` only holds slots below NR_SLOTS (its fields
        // are private to stats.rs, which builds them with slot constants and
        // `bucket()`, which is at most NR_BUCKETS - 1). this_cpu_add is safe
        // in any context.
        unsafe {
            b::dmp_percpu_add3(self.0.as_ptr(), x.slot(), x.value(), y.slot(), y.value(), z.slot(), z.value())
        };
    }
}

#[cfg(not(dmp_acct_variant))]
impl PerCpuSlots {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: a plain allocation request; the result is checked for NULL.
        let base = unsafe { b::dmp_alloc_percpu_u64(NR_SLOTS) };
        Ok(PerCpuSlots {
            base: PerCpuBase(NonNull::new(base).ok_or(code::ENOMEM)?),
        })
    }

    /// The base pointer, for [`StatsRef`] only.
    fn base(&self) -> PerCpuBase {
        self.base
    }

    /// The sum over every possible CPU.
    pub(crate) fn sum(&self) -> Counters {
        let mut total = Counters::zero();
        let mut cpu: c_int = -1;
        loop {
            // SAFETY: iterates cpu_possible_mask; returns -1 at the end.
            cpu = unsafe { b::dmp_next_possible_cpu(cpu) };
            if cpu < 0 {
                break;
            }
            // SAFETY: `cpu` is a possible CPU and `base` a live per-CPU array.
            let copy = unsafe { b::dmp_per_cpu_ptr(self.base.0.as_ptr(), cpu as c_uint) };
            let mut slots = [0u64; NR_SLOTS];
            for (i, s) in slots.iter_mut().enumerate() {
                // SAFETY: `copy` points to NR_SLOTS aligned u64; a volatile
                // aligned 64-bit load is a single access (READ_ONCE) on the
                // 64-bit architectures dmp supports.
                *s = unsafe { ptr::read_volatile(copy.add(i)) };
            }
            total.add_percpu(&slots);
        }
        total
    }
}

#[cfg(not(dmp_acct_variant))]
impl Drop for PerCpuSlots {
    fn drop(&mut self) {
        // SAFETY: allocated by dmp_alloc_percpu_u64 and no longer used: every
        // `PerCpuBase` copy lives in a `StatsRef` that keeps this owner alive.
        unsafe { b::free_percpu(self.base.0.as_ptr().cast::<c_void>()) };
    }
}

/// A reference to a kobject object that owns per-CPU counters, with the
/// counters' base pointer kept beside it: the I/O path adds through
/// [`StatsRef::add`] without dereferencing the object.
///
/// Sound because the object cannot go away while `obj` holds its reference,
/// and the `PerCpuSlots` the base came from cannot be dropped or replaced
/// while the object lives: `counters` returns it borrowed for as long as the
/// object is borrowed, which safe code can only do for a value that is not
/// replaced for that long, and nobody gets `&mut T` from a `KobjRef`.
pub(crate) struct StatsRef<T: KobjectFirst> {
    base: PerCpuBase,
    obj: KobjRef<T>,
}

impl<T: KobjectFirst> StatsRef<T> {
    pub(crate) fn new(obj: KobjRef<T>, counters: for<'a> fn(&'a T) -> &'a PerCpuSlots) -> Self {
        StatsRef {
            base: counters(&obj).base(),
            obj,
        }
    }

    /// Adds one bio's increments to this CPU's copy.
    #[inline]
    pub(crate) fn add(&self, update: &Update) {
        self.base.add(update);
    }

    /// Gives back the object reference.
    pub(crate) fn into_inner(self) -> KobjRef<T> {
        self.obj
    }
}

impl<T: KobjectFirst> Deref for StatsRef<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.obj
    }
}

// ---------------------------------------------------------------------------
// Device-mapper
// ---------------------------------------------------------------------------

/// A mapped device, used as the identity of a dmp device across tables.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct MappedDevice(NonNull<b::mapped_device>);

// SAFETY: an identity plus calls into dm core that are safe from any context
// that may sleep; the mapped device outlives every table (and so every dmp
// target) that refers to it.
unsafe impl Send for MappedDevice {}
// SAFETY: see `Send`.
unsafe impl Sync for MappedDevice {}

impl MappedDevice {
    /// The kernel name of its disk, `dm-N` (as in /sys/block/dm-N).
    pub(crate) fn kernel_name(&self) -> &CStr {
        // SAFETY: `md` is live (see the type) and so is its gendisk, whose
        // `disk_name` is a NUL-terminated array set when the md is created.
        let name = unsafe { &(*b::dm_disk(self.0.as_ptr())).disk_name };
        // SAFETY: reinterpreting `c_char` as `u8` of the same size.
        let bytes = unsafe { core::slice::from_raw_parts(name.as_ptr().cast::<u8>(), name.len()) };
        CStr::from_bytes_until_nul(bytes).unwrap_or(c"dm-?")
    }

    /// Writes the dmsetup name into `w`.
    pub(crate) fn write_name(&self, w: &mut SliceWriter<'_>) -> Result {
        let mut name = [0u8; b::DM_NAME_LEN as usize];
        // SAFETY: `md` is live; `name` has the DM_NAME_LEN bytes the API
        // requires; a NULL uuid buffer is allowed.
        to_result(unsafe {
            b::dm_copy_name_and_uuid(
                self.0.as_ptr(),
                name.as_mut_ptr().cast::<c_char>(),
                ptr::null_mut(),
            )
        })?;
        let name = CStr::from_bytes_until_nul(&name).map_err(|_| code::EINVAL)?;
        core::fmt::Write::write_fmt(w, format_args!("{}\n", name.to_str().unwrap_or("?")))
            .map_err(|_| code::EFBIG)
    }
}

/// An underlying device opened with `dm_get_device`, released on drop.
pub(crate) struct DmDev {
    dev: NonNull<b::dm_dev>,
    ti: NonNull<b::dm_target>,
}

// SAFETY: a dm_dev is used read-only from any CPU while the target lives.
unsafe impl Send for DmDev {}
// SAFETY: see `Send`.
unsafe impl Sync for DmDev {}

impl DmDev {
    /// Size in 512-byte sectors.
    pub(crate) fn nr_sectors(&self) -> u64 {
        // SAFETY: the device is open (held by this DmDev).
        unsafe { b::dmp_bdev_nr_sectors(self.dev.as_ref().bdev) }
    }

    /// `MAJ:MIN`, as dm core formats it.
    pub(crate) fn name(&self) -> &str {
        // SAFETY: dm_dev.name is a NUL-terminated array filled by dm core.
        let name = unsafe { &self.dev.as_ref().name };
        // SAFETY: reinterpreting `c_char` as `u8` of the same size.
        let bytes = unsafe { core::slice::from_raw_parts(name.as_ptr().cast::<u8>(), name.len()) };
        CStr::from_bytes_until_nul(bytes)
            .ok()
            .and_then(|s| s.to_str().ok())
            .unwrap_or("?")
    }

    fn bdev(&self) -> *mut b::block_device {
        // SAFETY: the device is open (held by this DmDev).
        unsafe { self.dev.as_ref().bdev }
    }

    /// Hands the device to dm core's `iterate_devices` callout.
    pub(crate) fn iterate(
        &self,
        ti: &Target,
        callout: b::iterate_devices_callout_fn,
        data: *mut c_void,
    ) -> c_int {
        match callout {
            // SAFETY: the callout and `data` come from dm core for this
            // target; the device is held.
            Some(f) => unsafe { f(ti.0.as_ptr(), self.dev.as_ptr(), 0, ti.len(), data) },
            None => 0,
        }
    }

    /// The block device for `prepare_ioctl`.
    pub(crate) fn bdev_for_ioctl(&self) -> *mut b::block_device {
        self.bdev()
    }
}

impl Drop for DmDev {
    fn drop(&mut self) {
        // SAFETY: obtained with dm_get_device for this target, put once.
        unsafe { b::dm_put_device(self.ti.as_ptr(), self.dev.as_ptr()) };
    }
}

/// A `dm_target` seen from a target callback.
pub(crate) struct Target(NonNull<b::dm_target>);

impl Target {
    /// # Safety
    /// `ti` is the live target a dm callback was called for; the returned
    /// view is used only during that callback.
    pub(crate) unsafe fn from_raw(ti: *mut b::dm_target) -> Option<Self> {
        NonNull::new(ti).map(Target)
    }

    fn raw(&self) -> &b::dm_target {
        // SAFETY: live for the callback (see `from_raw`).
        unsafe { self.0.as_ref() }
    }

    /// First sector of this segment in the mapped device.
    pub(crate) fn begin(&self) -> u64 {
        self.raw().begin
    }

    /// Length of this segment in sectors.
    pub(crate) fn len(&self) -> u64 {
        self.raw().len
    }

    /// The mapped device this target's table belongs to.
    pub(crate) fn mapped_device(&self) -> Result<MappedDevice> {
        // SAFETY: the table is live while its target is.
        let md = unsafe { b::dm_table_get_md(self.raw().table) };
        NonNull::new(md).map(MappedDevice).ok_or(code::EINVAL)
    }

    /// Sets the message dm core reports when the constructor fails.
    pub(crate) fn set_error(&self, msg: &'static CStr) {
        // SAFETY: the constructor has exclusive use of the target; dm core
        // only reads `error`, and the string is static.
        unsafe { (*self.0.as_ptr()).error = msg.as_ptr().cast_mut() };
    }

    /// Opens the underlying device (path or MAJ:MIN) with the table's mode.
    pub(crate) fn get_device(&self, path: &CStr) -> Result<DmDev> {
        let mut dev: *mut b::dm_dev = ptr::null_mut();
        // SAFETY: called from the constructor; `path` is NUL-terminated and
        // `dev` receives the result.
        to_result(unsafe {
            b::dm_get_device(
                self.0.as_ptr(),
                path.as_ptr(),
                b::dm_table_get_mode(self.raw().table),
                &mut dev,
            )
        })?;
        Ok(DmDev {
            dev: NonNull::new(dev).ok_or(code::ENODEV)?,
            ti: self.0,
        })
    }

    /// Finishes construction: one flush, discard, secure-erase and
    /// write-zeroes bio per request (like dm-linear), and the private context.
    /// `flush_bypasses_map` stays false: flushes must reach `map` to be counted.
    pub(crate) fn set_private<T>(&self, ctx: KObj<T>) {
        // SAFETY: the constructor has exclusive use of the target.
        let ti = unsafe { &mut *self.0.as_ptr() };
        ti.num_flush_bios = 1;
        ti.num_discard_bios = 1;
        ti.num_secure_erase_bios = 1;
        ti.num_write_zeroes_bios = 1;
        ti.private = ctx.into_raw().as_ptr().cast::<c_void>();
    }

    /// The private context set by [`Target::set_private`].
    ///
    /// # Safety
    /// `T` is the type given to `set_private`, and the context has not been
    /// taken by [`Target::take_private`].
    pub(crate) unsafe fn private<T>(&self) -> &T {
        // SAFETY: by the caller's guarantee the pointer is a live KObj<T>.
        unsafe { &*self.raw().private.cast::<T>() }
    }

    /// Takes back the private context (destructor).
    ///
    /// # Safety
    /// As for [`Target::private`]; called once, from the destructor.
    pub(crate) unsafe fn take_private<T>(&self) -> Option<KObj<T>> {
        // SAFETY: the destructor has exclusive use of the target.
        let ti = unsafe { &mut *self.0.as_ptr() };
        let p = core::mem::replace(&mut ti.private, ptr::null_mut());
        // SAFETY: `p` came from `KObj::into_raw` in `set_private`.
        NonNull::new(p.cast::<T>()).map(|p| unsafe { KObj::from_raw(p) })
    }
}

/// `REQ_OP_MASK` and `REQ_PREFLUSH` of blk_types.h (macros with casts, which
/// bindgen does not translate), from the values it does translate.
const REQ_OP_MASK: u32 = (1 << b::REQ_OP_BITS) - 1;
const REQ_PREFLUSH: u32 = 1 << b::__REQ_PREFLUSH;

/// A bio seen from `map`.
pub(crate) struct Bio(NonNull<b::bio>);

impl Bio {
    /// # Safety
    /// `bio` is the bio dm core passed to `map`, used only during that call.
    pub(crate) unsafe fn from_raw(bio: *mut b::bio) -> Option<Self> {
        NonNull::new(bio).map(Bio)
    }

    /// `bi_opf`: the operation (low REQ_OP_BITS) and the request flags.
    fn opf(&self) -> u32 {
        // SAFETY: the bio is live during map and owned by this call.
        unsafe { self.0.as_ref().bi_opf }
    }

    /// What the statistics count this bio as.
    pub(crate) fn kind(&self) -> IoKind {
        // bio_op(): the operation is the low REQ_OP_BITS bits of bi_opf.
        match self.opf() & REQ_OP_MASK {
            b::REQ_OP_READ => IoKind::Read,
            b::REQ_OP_WRITE | b::REQ_OP_WRITE_ZEROES | b::REQ_OP_SECURE_ERASE | b::REQ_OP_ZONE_APPEND => {
                IoKind::Write
            }
            b::REQ_OP_DISCARD => IoKind::Discard,
            _ => IoKind::Other,
        }
    }

    /// Whether the bio carries REQ_PREFLUSH.
    pub(crate) fn preflush(&self) -> bool {
        self.opf() & REQ_PREFLUSH != 0
    }

    /// Size in bytes.
    pub(crate) fn bytes(&self) -> u64 {
        // SAFETY: the bio is live during map and owned by this call.
        u64::from(unsafe { self.0.as_ref().bi_iter.bi_size })
    }

    /// Start sector in the mapped device.
    pub(crate) fn sector(&self) -> u64 {
        // SAFETY: as for `bytes`.
        unsafe { self.0.as_ref().bi_iter.bi_sector }
    }

    /// Sends the bio to `dev` at `sector`.
    pub(crate) fn remap(&mut self, dev: &DmDev, sector: u64) {
        // SAFETY: map owns the bio until it returns DM_MAPIO_REMAPPED; the
        // device is held by the target.
        unsafe {
            b::dmp_bio_set_dev(self.0.as_ptr(), dev.bdev());
            (*self.0.as_ptr()).bi_iter.bi_sector = sector;
        }
    }
}

/// Arguments of a constructor or message, as byte strings.
pub(crate) struct Args {
    argc: usize,
    argv: *mut *mut c_char,
}

impl Args {
    /// # Safety
    /// `argv` holds `argc` NUL-terminated strings that outlive the callback.
    pub(crate) unsafe fn new(argc: c_uint, argv: *mut *mut c_char) -> Self {
        Args {
            argc: if argv.is_null() { 0 } else { argc as usize },
            argv,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.argc
    }

    pub(crate) fn get(&self, i: usize) -> Option<&CStr> {
        if i >= self.argc {
            return None;
        }
        // SAFETY: `i < argc` and every entry is a NUL-terminated string.
        unsafe { Some(CStr::from_ptr(*self.argv.add(i))) }
    }

    /// Up to `N` arguments as byte slices (the rest are counted, not copied).
    pub(crate) fn words<const N: usize>(&self) -> ([&[u8]; N], usize) {
        let mut out: [&[u8]; N] = [&[]; N];
        for (i, slot) in out.iter_mut().enumerate() {
            if let Some(a) = self.get(i) {
                *slot = a.to_bytes();
            }
        }
        (out, self.argc)
    }
}

/// The output buffer of a `status` callback (DMEMIT's `result`, `maxlen`).
///
/// # Safety
/// `result` is valid for `maxlen` bytes during the callback.
pub(crate) unsafe fn status_buffer<'a>(result: *mut c_char, maxlen: c_uint) -> &'a mut [u8] {
    if result.is_null() || maxlen == 0 {
        return &mut [];
    }
    // SAFETY: by the caller's guarantee.
    unsafe { core::slice::from_raw_parts_mut(result.cast::<u8>(), maxlen as usize) }
}

/// Registers the target type with dm core; unregistered on drop.
pub(crate) struct TargetTypeRegistration(&'static InitOnce<b::target_type>);

impl TargetTypeRegistration {
    /// # Safety
    /// `tt` has been fully initialised and is not modified afterwards.
    pub(crate) unsafe fn register(tt: &'static InitOnce<b::target_type>) -> Result<Self> {
        // SAFETY: dm core links the static target_type into its list until
        // dm_unregister_target; it is never moved or freed.
        to_result(unsafe { b::dm_register_target(tt.as_ptr()) })?;
        Ok(TargetTypeRegistration(tt))
    }
}

impl Drop for TargetTypeRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `register`; module refcounting guarantees no
        // table uses the target any more when the module is unloaded.
        unsafe { b::dm_unregister_target(self.0.as_ptr()) };
    }
}

/// The module pointer (THIS_MODULE) for `target_type.module`.
pub(crate) fn this_module() -> *mut b::module {
    // SAFETY: returns &__this_module of this module.
    unsafe { b::dmp_this_module() }
}

// ---------------------------------------------------------------------------
// kobjects and sysfs
// ---------------------------------------------------------------------------

/// A type whose first field is its kobject: `#[repr(C)]`, allocated with
/// [`KObj`], and freed by its ktype's release ([`release_kobj`]).
///
/// # Safety
/// Implementors must be `#[repr(C)]` with a [`KobjectField`] as their first
/// field, and must be allocated only through [`kobject_add`].
pub(crate) unsafe trait KobjectFirst: Sized + Sync {}

/// `kobj_type.release` for a [`KobjectFirst`] type: frees the object when the
/// last reference to its kobject goes away (not before, not twice).
pub(crate) unsafe extern "C" fn release_kobj<T: KobjectFirst>(kobj: *mut b::kobject) {
    if let Some(p) = NonNull::new(kobj.cast::<T>()) {
        // SAFETY: the kobject is the first field of a `T` that was allocated
        // by `KObj` and handed to the kobject in `kobject_add`; release runs
        // once, after the last kobject_put.
        drop(unsafe { KObj::from_raw(p) });
    }
    kobject_released();
}

/// dmp's kobjects whose release ([`release_kobj`], module code) has not run
/// yet, plus one held by the module until [`wait_for_kobject_releases`].
///
/// A release can run long after the last `kobject_put` we see: a sysfs
/// reader may hold the last reference, and with CONFIG_DEBUG_KOBJECT_RELEASE
/// the kobject core delays every release by 1-4 s. The module's code must
/// stay loaded until the last one has run.
static UNRELEASED_KOBJECTS: AtomicUsize = AtomicUsize::new(1);

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

/// One reference to the kobject of a [`KobjectFirst`] object: the object
/// stays allocated while any `KobjRef` to it exists.
pub(crate) struct KobjRef<T: KobjectFirst>(NonNull<T>);

// SAFETY: `T: Sync`; the reference only gives `&T`, and kobject reference
// counting is atomic.
unsafe impl<T: KobjectFirst> Send for KobjRef<T> {}
// SAFETY: as above.
unsafe impl<T: KobjectFirst> Sync for KobjRef<T> {}

impl<T: KobjectFirst> Deref for KobjRef<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: our kobject reference keeps the object alive.
        unsafe { self.0.as_ref() }
    }
}

impl<T: KobjectFirst> Clone for KobjRef<T> {
    fn clone(&self) -> Self {
        // SAFETY: the kobject is live (we hold a reference); take another.
        unsafe { b::kobject_get(self.kobj()) };
        KobjRef(self.0)
    }
}

impl<T: KobjectFirst> Drop for KobjRef<T> {
    fn drop(&mut self) {
        // SAFETY: drops the reference this KobjRef owns; the last one frees
        // the object through `release_kobj::<T>`.
        unsafe { b::kobject_put(self.kobj()) };
    }
}

impl<T: KobjectFirst> KobjRef<T> {
    fn kobj(&self) -> *mut b::kobject {
        self.0.as_ptr().cast::<b::kobject>()
    }

    /// Removes the directory from sysfs (sending the `remove` uevent) and
    /// waits for every running sysfs callback on it to finish; then drops
    /// this reference. Other references keep the memory until they go.
    pub(crate) fn remove(self) {
        // SAFETY: the kobject was added in `kobject_add`; callers remove a
        // directory once (through the reference its registry owns).
        // kobject_del waits for active sysfs callbacks (kernfs drains them).
        unsafe {
            b::kobject_uevent(self.kobj(), b::KOBJ_REMOVE);
            b::kobject_del(self.kobj());
        }
    }
}

/// The embedded kobject field of a [`KobjectFirst`] type.
#[repr(transparent)]
pub(crate) struct KobjectField(UnsafeCell<b::kobject>);

// SAFETY: the kobject is only handled by the kobject core, which locks
// internally; Rust code never reads it.
unsafe impl Sync for KobjectField {}
// SAFETY: as above.
unsafe impl Send for KobjectField {}

impl KobjectField {
    pub(crate) fn new() -> Self {
        // SAFETY: an all-zero kobject is the state kobject_init expects.
        KobjectField(UnsafeCell::new(unsafe { core::mem::zeroed() }))
    }
}

/// An intrusive singly linked list of kobject objects, protected by the
/// data lock. The list owns one kobject reference per member.
pub(crate) struct KList<T: Linked> {
    head: Locked<Link<T>, DataGuard>,
}

/// The link field of a list member.
pub(crate) struct Link<T>(*const T);

// SAFETY: a link is only followed under the data lock, and members are Sync.
unsafe impl<T: Sync> Send for Link<T> {}

impl<T> Link<T> {
    pub(crate) const fn new() -> Self {
        Link(ptr::null())
    }
}

/// A [`KobjectFirst`] type that can be a member of one [`KList`].
pub(crate) trait Linked: KobjectFirst {
    fn link(&self) -> &Locked<Link<Self>, DataGuard>;
}

// SAFETY: all list state is behind the data lock.
unsafe impl<T: Linked> Sync for KList<T> {}

impl<T: Linked> KList<T> {
    pub(crate) const fn new() -> Self {
        KList {
            head: Locked::new(Link::new()),
        }
    }

    pub(crate) fn push(&self, g: &mut DataGuard, item: KobjRef<T>) {
        let p = item.0.as_ptr().cast_const();
        core::mem::forget(item); // the list now owns this reference
        let old = core::mem::replace(self.head.get_mut(g), Link(p)).0;
        // SAFETY: `p` is a live member (the list owns a reference to it).
        unsafe { (*p).link().get_mut(g).0 = old };
    }

    /// Unlinks `item`, returning the list's reference to it.
    pub(crate) fn remove(&self, g: &mut DataGuard, item: &T) -> Option<KobjRef<T>> {
        let target: *const T = item;
        let mut link: &Locked<Link<T>, DataGuard> = &self.head;
        loop {
            let cur = link.get(g).0;
            if cur.is_null() {
                return None;
            }
            // SAFETY: `cur` is a live member (the list owns a reference).
            let cur_ref = unsafe { &*cur };
            if ptr::eq(cur, target) {
                let next = cur_ref.link().get(g).0;
                link.get_mut(g).0 = next;
                cur_ref.link().get_mut(g).0 = ptr::null();
                // SAFETY: the list's reference to `cur` is handed back.
                return Some(KobjRef(unsafe { NonNull::new_unchecked(cur.cast_mut()) }));
            }
            link = cur_ref.link();
        }
    }

    /// Calls `f` for every member, while the data lock is held.
    pub(crate) fn for_each(&self, g: &mut DataGuard, mut f: impl FnMut(&T, &mut DataGuard)) {
        let mut cur = self.head.get(g).0;
        while !cur.is_null() {
            // SAFETY: `cur` is a live member; it cannot be unlinked while we
            // hold the data lock (`f` gets the guard but not the list).
            let item = unsafe { &*cur };
            f(item, g);
            cur = item.link().get(g).0;
        }
    }

    /// The first member for which `pred` holds, as a new reference.
    pub(crate) fn find(&self, g: &mut DataGuard, pred: impl Fn(&T) -> bool) -> Option<KobjRef<T>> {
        let mut found = None;
        self.for_each(g, |item, _| {
            if found.is_none() && pred(item) {
                // SAFETY: `item` is live; take a reference for the caller.
                unsafe { b::kobject_get(ptr::from_ref(item).cast_mut().cast::<b::kobject>()) };
                found = NonNull::new(ptr::from_ref(item).cast_mut()).map(KobjRef);
            }
        });
        found
    }
}

/// Adds `obj` as directory `name` in `kset` with the given ktype, and sends
/// the `add` uevent. On failure the object is freed through its release.
pub(crate) fn kobject_add<T: KobjectFirst>(
    obj: KObj<T>,
    ktype: &'static InitOnce<b::kobj_type>,
    kset: &StatKset,
    name: &CStr,
) -> Result<KobjRef<T>> {
    let p = obj.into_raw();
    let kobj = p.as_ptr().cast::<b::kobject>();
    // From here on the object is freed by `release_kobj`, which counts it down.
    UNRELEASED_KOBJECTS.fetch_add(1, Ordering::AcqRel);
    // SAFETY: `kobj` is the zeroed first field of a fresh `T`
    // (`KobjectField::new`). After
    // kobject_init_and_add, even on failure, the kobject owns the memory and
    // kobject_put frees it through `release_kobj::<T>`.
    unsafe {
        (*kobj).kset = kset.0.as_ptr();
        let ret = b::kobject_init_and_add(
            kobj,
            ktype.as_ptr(),
            ptr::null_mut(),
            c"%s".as_ptr(),
            name.as_ptr(),
        );
        if ret != 0 {
            b::kobject_put(kobj);
            return Err(Error::from_errno(ret));
        }
        b::kobject_uevent(kobj, b::KOBJ_ADD);
    }
    Ok(KobjRef(p))
}

/// The `stat` kset under /sys/module/dmp, unregistered on drop.
pub(crate) struct StatKset(NonNull<b::kset>);

// SAFETY: the kset is only passed to kobject APIs, which lock internally.
unsafe impl Send for StatKset {}
// SAFETY: as above.
unsafe impl Sync for StatKset {}

impl StatKset {
    pub(crate) fn new(name: &CStr, uevent_ops: &'static InitOnce<b::kset_uevent_ops>) -> Result<Self> {
        // SAFETY: the parent is this module's kobject, live while the module
        // is; the name is copied; the uevent ops are static.
        let kset = unsafe {
            b::kset_create_and_add(name.as_ptr(), uevent_ops.as_ptr(), b::dmp_module_kobj())
        };
        Ok(StatKset(NonNull::new(kset).ok_or(code::ENOMEM)?))
    }

    /// Adds attribute files to the kset's own directory (removed with it).
    pub(crate) fn add_group(&self, group: &'static InitOnce<b::attribute_group>) -> Result {
        // SAFETY: the kset's kobject is live and the group static.
        to_result(unsafe { b::sysfs_create_group(self.kobj(), group.as_ptr()) })
    }

    fn kobj(&self) -> *mut b::kobject {
        // SAFETY: `kobj` is a field of the live kset.
        unsafe { ptr::addr_of_mut!((*self.0.as_ptr()).kobj) }
    }
}

impl Drop for StatKset {
    fn drop(&mut self) {
        // SAFETY: created in `new`; unregistering drops our reference.
        unsafe { b::kset_unregister(self.0.as_ptr()) };
    }
}

/// What a sysfs directory type provides: its attribute table, and how to
/// show and store one attribute (by index in the table).
pub(crate) trait SysfsOps {
    /// The directory's object.
    type Obj: Sync;
    fn attrs() -> &'static AttrTable;
    /// The object a kobject belongs to.
    ///
    /// # Safety
    /// `kobj` is a kobject of this directory type, live during the call.
    unsafe fn obj<'a>(kobj: *mut b::kobject) -> &'a Self::Obj;
    fn show(obj: &Self::Obj, index: usize, out: &mut SliceWriter<'_>) -> Result;
    fn store(obj: &Self::Obj, index: usize, input: &[u8]) -> Result;
}

/// Up to 16 attributes of one directory, with the NULL-terminated pointer
/// array and group sysfs expects.
pub(crate) struct AttrTable {
    attrs: [b::kobj_attribute; 16],
    ptrs: [*mut b::attribute; 17],
    len: usize,
}

/// One attribute: name, mode and whether it is readable/writable.
pub(crate) struct AttrSpec {
    pub(crate) name: &'static CStr,
    pub(crate) mode: u16,
}

impl AttrTable {
    /// Fills the table and its group. Called from module init only.
    pub(crate) fn init<O: SysfsOps>(
        table: &'static InitOnce<AttrTable>,
        group: &'static InitOnce<b::attribute_group>,
        specs: &[AttrSpec],
    ) -> Result {
        if specs.len() > 16 {
            return Err(code::EINVAL);
        }
        // SAFETY: module init, before the table is published (see InitOnce).
        let t = unsafe { table.init_mut() };
        for (i, spec) in specs.iter().enumerate() {
            let a = &mut t.attrs[i];
            a.attr.name = spec.name.as_ptr();
            a.attr.mode = spec.mode;
            set_attr_callbacks(
                a,
                if spec.mode & 0o444 != 0 { Some(show_tramp::<O>) } else { None },
                if spec.mode & 0o222 != 0 { Some(store_tramp::<O>) } else { None },
            );
            t.ptrs[i] = ptr::addr_of_mut!(a.attr);
        }
        t.ptrs[specs.len()] = ptr::null_mut();
        t.len = specs.len();
        // SAFETY: as above.
        set_group_attrs(unsafe { group.init_mut() }, t.ptrs.as_mut_ptr());
        Ok(())
    }

    fn index_of(&self, attr: *const b::kobj_attribute) -> Option<usize> {
        self.attrs[..self.len].iter().position(|a| ptr::eq(a, attr))
    }
}

type ShowFn = unsafe extern "C" fn(*mut b::kobject, *mut b::kobj_attribute, *mut c_char) -> isize;
type StoreFn =
    unsafe extern "C" fn(*mut b::kobject, *mut b::kobj_attribute, *const c_char, usize) -> isize;

// The sysfs structures differ between kernels (7.x puts the callbacks and
// the attribute array in anonymous unions); Kbuild detects which from the
// headers. This is the one place that knows.

#[cfg(dmp_kobj_attr_union)]
fn set_attr_callbacks(a: &mut b::kobj_attribute, show: Option<ShowFn>, store: Option<StoreFn>) {
    a.__bindgen_anon_1.show = show;
    a.__bindgen_anon_2.store = store;
}

#[cfg(not(dmp_kobj_attr_union))]
fn set_attr_callbacks(a: &mut b::kobj_attribute, show: Option<ShowFn>, store: Option<StoreFn>) {
    a.show = show;
    a.store = store;
}

#[cfg(all(dmp_group_attrs_union, dmp_group_visible_union))]
fn set_group_attrs(g: &mut b::attribute_group, attrs: *mut *mut b::attribute) {
    g.__bindgen_anon_2.attrs = attrs;
}

#[cfg(all(dmp_group_attrs_union, not(dmp_group_visible_union)))]
fn set_group_attrs(g: &mut b::attribute_group, attrs: *mut *mut b::attribute) {
    g.__bindgen_anon_1.attrs = attrs;
}

#[cfg(not(dmp_group_attrs_union))]
fn set_group_attrs(g: &mut b::attribute_group, attrs: *mut *mut b::attribute) {
    g.attrs = attrs;
}

/// Fills a ktype for a [`KobjectFirst`] directory type with one attribute
/// group.
pub(crate) fn init_ktype<T: KobjectFirst>(
    ktype: &'static InitOnce<b::kobj_type>,
    groups: &'static InitOnce<[*const b::attribute_group; 2]>,
    group: &'static InitOnce<b::attribute_group>,
) {
    // SAFETY: module init, before publication.
    unsafe {
        let gs = groups.init_mut();
        gs[0] = group.as_ptr();
        gs[1] = ptr::null();
        let k = ktype.init_mut();
        k.release = Some(release_kobj::<T>);
        k.sysfs_ops = ptr::addr_of!(b::kobj_sysfs_ops);
        k.default_groups = gs.as_ptr().cast_mut();
    }
}

unsafe extern "C" fn show_tramp<O: SysfsOps>(
    kobj: *mut b::kobject,
    attr: *mut b::kobj_attribute,
    buf: *mut c_char,
) -> isize {
    let Some(index) = O::attrs().index_of(attr) else {
        return code::EIO.to_errno() as isize;
    };
    // SAFETY: sysfs calls show with a live kobject of the type this table
    // belongs to (kobject_del waits for us), and a PAGE_SIZE buffer.
    let (obj, page) = unsafe {
        (
            O::obj(kobj),
            core::slice::from_raw_parts_mut(buf.cast::<u8>(), SYSFS_BUF_LEN),
        )
    };
    let mut out = SliceWriter::new(page);
    match O::show(obj, index, &mut out) {
        Ok(()) => out.len() as isize,
        Err(e) => e.to_errno() as isize,
    }
}

unsafe extern "C" fn store_tramp<O: SysfsOps>(
    kobj: *mut b::kobject,
    attr: *mut b::kobj_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    let Some(index) = O::attrs().index_of(attr) else {
        return code::EIO.to_errno() as isize;
    };
    // SAFETY: sysfs calls store with a live kobject of this table's type and
    // `count` readable bytes at `buf`.
    let (obj, input) = unsafe { (O::obj(kobj), core::slice::from_raw_parts(buf.cast::<u8>(), count)) };
    match O::store(obj, index, input) {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// Object lookup for a [`KobjectFirst`] directory.
///
/// # Safety
/// As [`SysfsOps::obj`].
pub(crate) unsafe fn kobj_container<'a, T: KobjectFirst>(kobj: *mut b::kobject) -> &'a T {
    // SAFETY: `T` is repr(C) with the kobject first (KobjectFirst), live.
    unsafe { &*kobj.cast::<T>() }
}

/// `kset_uevent_ops.name`: uevents of dmp's directories carry SUBSYSTEM=dmp.
unsafe extern "C" fn uevent_name(_kobj: *const b::kobject) -> *const c_char {
    c"dmp".as_ptr()
}

/// Fills the kset's uevent ops.
pub(crate) fn init_uevent_ops(ops: &'static InitOnce<b::kset_uevent_ops>) {
    // SAFETY: module init, before publication.
    unsafe { ops.init_mut().name = Some(uevent_name) };
}

// ---------------------------------------------------------------------------
// Target type
// ---------------------------------------------------------------------------

/// What `map` tells dm core.
pub(crate) enum MapResult {
    /// The bio was remapped: dm core submits it to the new device.
    Remapped,
}

/// A device-mapper target implemented in Rust. The trampolines below turn
/// dm core's C callbacks into calls of these methods.
pub(crate) trait TargetOps {
    /// The per-target context (`ti->private`).
    type Ctx: Send + Sync;

    /// Constructs a target from its table arguments. On failure returns the
    /// message for `ti->error` and the error code; nothing may be left behind.
    fn ctr(ti: &Target, args: &Args) -> core::result::Result<Self::Ctx, (&'static CStr, Error)>;
    fn map(ti: &Target, ctx: &Self::Ctx, bio: &mut Bio) -> MapResult;
    fn status(ti: &Target, ctx: &Self::Ctx, kind: StatusKind, out: &mut SliceWriter<'_>);
    fn message(ti: &Target, ctx: &Self::Ctx, args: &Args) -> Result;
    /// The one underlying device (iterate_devices, prepare_ioctl).
    fn device(ctx: &Self::Ctx) -> &DmDev;
}

/// Which `status` is asked for.
pub(crate) enum StatusKind {
    Info,
    Table,
    Ima,
}

/// The module's one target type.
static TARGET_TYPE: InitOnce<b::target_type> = InitOnce::zeroed();

/// Device-mapper target features (DM_TARGET_*) dmp declares.
pub(crate) const TARGET_FEATURES: u64 =
    (b::DM_TARGET_PASSES_INTEGRITY | b::DM_TARGET_NOWAIT | b::DM_TARGET_PASSES_CRYPTO) as u64;

/// Registers the target type `T` as `name`. Called once, from module init.
pub(crate) fn register_target<T: TargetOps>(
    name: &'static CStr,
    version: [c_uint; 3],
    features: u64,
) -> Result<TargetTypeRegistration> {
    // SAFETY: module init runs once, before the target type is registered.
    let t = unsafe { TARGET_TYPE.init_mut() };
    t.name = name.as_ptr();
    t.version = version;
    t.features = features as _;
    t.module = this_module();
    t.ctr = Some(ctr_tramp::<T>);
    t.dtr = Some(dtr_tramp::<T>);
    t.map = Some(map_tramp::<T>);
    t.status = Some(status_tramp::<T>);
    t.message = Some(message_tramp::<T>);
    t.prepare_ioctl = Some(prepare_ioctl_tramp::<T>);
    t.iterate_devices = Some(iterate_devices_tramp::<T>);
    // SAFETY: fully initialised above and never modified again.
    unsafe { TargetTypeRegistration::register(&TARGET_TYPE) }
}

unsafe extern "C" fn ctr_tramp<T: TargetOps>(
    ti: *mut b::dm_target,
    argc: c_uint,
    argv: *mut *mut c_char,
) -> c_int {
    // SAFETY: dm core calls ctr with a live target and argc strings.
    let (Some(target), args) = (unsafe { Target::from_raw(ti) }, unsafe { Args::new(argc, argv) }) else {
        return code::EINVAL.to_errno();
    };
    match T::ctr(&target, &args) {
        Ok(ctx) => match KObj::new(ctx) {
            Ok(ctx) => {
                target.set_private(ctx);
                0
            }
            Err(e) => {
                target.set_error(c"Cannot allocate target context");
                e.to_errno()
            }
        },
        Err((msg, e)) => {
            target.set_error(msg);
            e.to_errno()
        }
    }
}

unsafe extern "C" fn dtr_tramp<T: TargetOps>(ti: *mut b::dm_target) {
    // SAFETY: dm core calls dtr once for a target whose ctr succeeded, so
    // `private` holds the KObj<T::Ctx> set by ctr_tramp.
    if let Some(target) = unsafe { Target::from_raw(ti) } {
        drop(unsafe { target.take_private::<T::Ctx>() });
    }
}

unsafe extern "C" fn map_tramp<T: TargetOps>(ti: *mut b::dm_target, bio: *mut b::bio) -> c_int {
    // SAFETY: dm core calls map with a constructed target (private is the
    // context set by ctr_tramp) and a bio that map owns until it returns.
    let (Some(target), Some(mut bio)) = (unsafe { Target::from_raw(ti) }, unsafe { Bio::from_raw(bio) }) else {
        return b::DM_MAPIO_KILL as c_int;
    };
    // SAFETY: as above.
    let ctx = unsafe { target.private::<T::Ctx>() };
    match T::map(&target, ctx, &mut bio) {
        MapResult::Remapped => b::DM_MAPIO_REMAPPED as c_int,
    }
}

unsafe extern "C" fn status_tramp<T: TargetOps>(
    ti: *mut b::dm_target,
    kind: b::status_type_t,
    _flags: c_uint,
    result: *mut c_char,
    maxlen: c_uint,
) {
    // SAFETY: dm core calls status with a constructed target and a result
    // buffer of maxlen bytes.
    let (Some(target), buf) = (unsafe { Target::from_raw(ti) }, unsafe { status_buffer(result, maxlen) }) else {
        return;
    };
    let Some(last) = buf.len().checked_sub(1) else {
        return;
    };
    let kind = match kind {
        b::STATUSTYPE_INFO => StatusKind::Info,
        b::STATUSTYPE_TABLE => StatusKind::Table,
        b::STATUSTYPE_IMA => StatusKind::Ima,
        _ => {
            buf[0] = 0;
            return;
        }
    };
    // SAFETY: as above.
    let ctx = unsafe { target.private::<T::Ctx>() };
    // Leave room for the terminating NUL that DMEMIT would write.
    let (text, _) = buf.split_at_mut(last);
    let mut out = SliceWriter::new(text);
    T::status(&target, ctx, kind, &mut out);
    let n = out.len();
    buf[n] = 0;
}

unsafe extern "C" fn message_tramp<T: TargetOps>(
    ti: *mut b::dm_target,
    argc: c_uint,
    argv: *mut *mut c_char,
    _result: *mut c_char,
    _maxlen: c_uint,
) -> c_int {
    // SAFETY: dm core calls message with a constructed target and argc
    // strings.
    let (Some(target), args) = (unsafe { Target::from_raw(ti) }, unsafe { Args::new(argc, argv) }) else {
        return code::EINVAL.to_errno();
    };
    // SAFETY: as above.
    let ctx = unsafe { target.private::<T::Ctx>() };
    match T::message(&target, ctx, &args) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

unsafe extern "C" fn iterate_devices_tramp<T: TargetOps>(
    ti: *mut b::dm_target,
    callout: b::iterate_devices_callout_fn,
    data: *mut c_void,
) -> c_int {
    // SAFETY: dm core calls iterate_devices with a constructed target.
    let Some(target) = (unsafe { Target::from_raw(ti) }) else {
        return 0;
    };
    // SAFETY: as above.
    let ctx = unsafe { target.private::<T::Ctx>() };
    T::device(ctx).iterate(&target, callout, data)
}

/// Shared part of both prepare_ioctl signatures: the device, and 1 ("check
/// the ioctl is safe") unless the segment covers the whole device, like
/// dm-linear.
unsafe fn prepare_ioctl_common<T: TargetOps>(ti: *mut b::dm_target, bdev: *mut *mut b::block_device) -> c_int {
    // SAFETY: dm core calls prepare_ioctl with a constructed target and a
    // place for the block device.
    let Some(target) = (unsafe { Target::from_raw(ti) }) else {
        return code::ENOTTY.to_errno();
    };
    // SAFETY: as above.
    let dev = T::device(unsafe { target.private::<T::Ctx>() });
    // SAFETY: `bdev` is dm core's out parameter.
    unsafe { *bdev = dev.bdev_for_ioctl() };
    c_int::from(target.len() != dev.nr_sectors())
}

#[cfg(dmp_ioctl_forward)]
unsafe extern "C" fn prepare_ioctl_tramp<T: TargetOps>(
    ti: *mut b::dm_target,
    bdev: *mut *mut b::block_device,
    _cmd: c_uint,
    _arg: core::ffi::c_ulong,
    _forward: *mut bool,
) -> c_int {
    // SAFETY: forwarded from dm core's call.
    unsafe { prepare_ioctl_common::<T>(ti, bdev) }
}

#[cfg(not(dmp_ioctl_forward))]
unsafe extern "C" fn prepare_ioctl_tramp<T: TargetOps>(
    ti: *mut b::dm_target,
    bdev: *mut *mut b::block_device,
) -> c_int {
    // SAFETY: forwarded from dm core's call.
    unsafe { prepare_ioctl_common::<T>(ti, bdev) }
}

// Benchmark builds only (Kbuild DMP_ACCOUNTING, DMP_MICROBENCH; scripts/bench):
// never compiled into the dmp.ko that ships.
#[cfg(any(dmp_acct_variant, dmp_acct_percpu_each, dmp_microbench))]
#[path = "kapi_bench.rs"]
mod bench;
#[cfg(any(dmp_acct_variant, dmp_acct_percpu_each, dmp_microbench))]
#[allow(unused_imports)]
pub(crate) use bench::*;
