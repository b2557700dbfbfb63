// SPDX-License-Identifier: GPL-2.0

//! Device-mapper: a target type implemented in Rust ([`TargetOps`]), its
//! registration, the views of a `dm_target` its callbacks get, the devices
//! it opens and the mapped device it belongs to.
//!
//! Mutation of the `dm_target` is constructor-only and typed so:
//! [`CtrTarget`] exists only during `ctr`, and the trampoline alone sets
//! `error`, `private` and the `num_*_bios`; every other callback gets the
//! read-only [`Target`].

use super::bio::Bio;
use super::compat;
use crate::bindings as b;
use crate::stats::SliceWriter;
use core::ffi::{c_char, c_int, c_uint, c_void, CStr};
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::error::{code, to_result, Error, Result};
use kernel::ThisModule;

/// Device-mapper target features (`DM_TARGET_*`) a target may declare.
pub(crate) mod features {
    use crate::bindings as b;
    pub(crate) const PASSES_INTEGRITY: u64 = b::DM_TARGET_PASSES_INTEGRITY as u64;
    pub(crate) const NOWAIT: u64 = b::DM_TARGET_NOWAIT as u64;
    pub(crate) const PASSES_CRYPTO: u64 = b::DM_TARGET_PASSES_CRYPTO as u64;
    /// 0 on kernels without atomic writes (6.12).
    pub(crate) const ATOMIC_WRITES: u64 = super::compat::ATOMIC_WRITES;
}

/// What `map` tells dm core.
pub(crate) enum MapResult {
    /// The bio was remapped: dm core submits it to the new device.
    Remapped,
}

/// Which `status` is asked for.
pub(crate) enum StatusKind {
    Info,
    Table,
    Ima,
}

/// A device-mapper target type implemented in Rust. The trampolines below
/// turn dm core's C callbacks into calls of these methods.
pub(crate) trait TargetOps: 'static {
    /// The name in tables (`<start> <len> NAME ...`).
    const NAME: &'static CStr;
    const VERSION: [u32; 3];
    /// `DM_TARGET_*` flags ([`features`]).
    const FEATURES: u64;
    /// Bios dm core sends per flush, discard, secure-erase and write-zeroes
    /// request (`ti->num_*_bios`).
    const FLUSH_BIOS: u32;
    const DISCARD_BIOS: u32;
    const SECURE_ERASE_BIOS: u32;
    const WRITE_ZEROES_BIOS: u32;

    /// The per-target context (`ti->private`).
    type Ctx: Send + Sync;

    /// Constructs a target from its table arguments. On failure returns the
    /// message for `ti->error` and the error code; nothing may be left behind.
    fn ctr(ti: &CtrTarget<'_>, args: &Args<'_>) -> core::result::Result<Self::Ctx, (&'static CStr, Error)>;
    fn map(ti: &Target<'_>, ctx: &Self::Ctx, bio: &mut Bio<'_>) -> MapResult;
    fn status(ti: &Target<'_>, ctx: &Self::Ctx, kind: StatusKind, out: &mut SliceWriter<'_>);
    fn message(ti: &Target<'_>, ctx: &Self::Ctx, args: &Args<'_>) -> Result;
    /// The one underlying device (iterate_devices, prepare_ioctl).
    fn device(ctx: &Self::Ctx) -> &DmDev;
}

/// A registered target type; unregistered on drop. Each registration owns
/// its `target_type`, so nothing is shared or modified once registered.
pub(crate) struct TargetRegistration {
    tt: NonNull<b::target_type>,
}

// SAFETY: the `target_type` is only read by dm core once registered; this
// handle only unregisters and frees it.
unsafe impl Send for TargetRegistration {}
// SAFETY: no method takes `&self`.
unsafe impl Sync for TargetRegistration {}

/// Registers the target type `T` for `module`.
pub(crate) fn register<T: TargetOps>(module: &'static ThisModule) -> Result<TargetRegistration> {
    // SAFETY: an all-zero target_type is its empty value (null pointers,
    // `None` callbacks, zero numbers), as C's designated initialisers leave it.
    let mut tt: b::target_type = unsafe { core::mem::zeroed() };
    tt.name = T::NAME.as_ptr();
    tt.version = T::VERSION;
    tt.features = T::FEATURES as _;
    // The kernel crate's `module` and the dm bindings' are the same C type.
    tt.module = module.as_ptr().cast::<b::module>();
    tt.ctr = Some(ctr_tramp::<T>);
    tt.dtr = Some(dtr_tramp::<T>);
    tt.map = Some(map_tramp::<T>);
    tt.status = Some(status_tramp::<T>);
    tt.message = Some(message_tramp::<T>);
    tt.prepare_ioctl = Some(compat::prepare_ioctl_tramp::<T>);
    tt.iterate_devices = Some(iterate_devices_tramp::<T>);
    let tt = NonNull::new(KBox::into_raw(KBox::new(tt, GFP_KERNEL)?)).ok_or(code::ENOMEM)?;
    // SAFETY: `tt` is a complete target_type that stays allocated, unmoved
    // and unmodified until `drop` unregisters it.
    if let Err(e) = to_result(unsafe { b::dm_register_target(tt.as_ptr()) }) {
        // SAFETY: from `KBox::into_raw` above; dm core did not keep it.
        drop(unsafe { KBox::from_raw(tt.as_ptr()) });
        return Err(e);
    }
    Ok(TargetRegistration { tt })
}

impl Drop for TargetRegistration {
    fn drop(&mut self) {
        // SAFETY: registered in `register`; module refcounting guarantees no
        // table uses the target type any more when the module goes away, and
        // after dm_unregister_target dm core no longer reads it.
        unsafe {
            b::dm_unregister_target(self.tt.as_ptr());
            drop(KBox::from_raw(self.tt.as_ptr()));
        }
    }
}

/// A mapped device, used as the identity of a device across tables.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct MappedDevice(NonNull<b::mapped_device>);

// SAFETY: an identity plus calls into dm core that are safe from any context
// that may sleep.
unsafe impl Send for MappedDevice {}
// SAFETY: see `Send`.
unsafe impl Sync for MappedDevice {}

impl MappedDevice {
    /// The kernel name of its disk, `dm-N` (as in /sys/block/dm-N), into `buf`.
    ///
    /// Only from a constructor or while one of its targets exists (the
    /// mapped device outlives every table that refers to it); `ctx` proves it.
    pub(crate) fn kernel_name<'b>(&self, _ctx: &CtrTarget<'_>, buf: &'b mut [u8; 32]) -> &'b CStr {
        // SAFETY: `md` is live (a constructor of one of its tables is
        // running) and so is its gendisk, whose `disk_name` is a
        // NUL-terminated array set when the md is created.
        let name = unsafe { &(*b::dm_disk(self.0.as_ptr())).disk_name };
        for (d, s) in buf.iter_mut().zip(name.iter()) {
            *d = *s as u8;
        }
        buf[31] = 0;
        CStr::from_bytes_until_nul(&buf[..]).unwrap_or(c"dm-?")
    }

    /// Writes the dmsetup name into `w`.
    ///
    /// Only while the mapped device is live: callers hold a statistics
    /// object of one of its targets, which is gone before the md is freed
    /// (its last target's destructor removes it first).
    pub(crate) fn write_name(&self, w: &mut SliceWriter<'_>) -> Result {
        let mut name = [0u8; b::DM_NAME_LEN as usize];
        // SAFETY: `md` is live (see above); `name` has the DM_NAME_LEN bytes
        // the API requires; a NULL uuid buffer is allowed.
        to_result(unsafe {
            b::dm_copy_name_and_uuid(self.0.as_ptr(), name.as_mut_ptr().cast::<c_char>(), ptr::null_mut())
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
        unsafe { b::dmp_bdev_nr_sectors(self.bdev()) }
    }

    /// `MAJ:MIN`, as dm core formats it.
    pub(crate) fn name(&self) -> &str {
        // SAFETY: the device is open; dm_dev.name is a NUL-terminated array
        // filled by dm core.
        let name = unsafe { &self.dev.as_ref().name };
        // SAFETY: reinterpreting `c_char` as `u8` of the same size.
        let bytes = unsafe { core::slice::from_raw_parts(name.as_ptr().cast::<u8>(), name.len()) };
        CStr::from_bytes_until_nul(bytes)
            .ok()
            .and_then(|s| s.to_str().ok())
            .unwrap_or("?")
    }

    pub(super) fn bdev(&self) -> *mut b::block_device {
        // SAFETY: the device is open (held by this DmDev).
        unsafe { self.dev.as_ref().bdev }
    }
}

impl Drop for DmDev {
    fn drop(&mut self) {
        // SAFETY: obtained with dm_get_device for this target, put once.
        unsafe { b::dm_put_device(self.ti.as_ptr(), self.dev.as_ptr()) };
    }
}

/// The target under construction, seen from `ctr`: it exists only during
/// the constructor, which has exclusive use of the `dm_target`.
pub(crate) struct CtrTarget<'a>(NonNull<b::dm_target>, PhantomData<&'a mut b::dm_target>);

impl CtrTarget<'_> {
    fn raw(&self) -> &b::dm_target {
        // SAFETY: live for the constructor (see `ctr_tramp`).
        unsafe { self.0.as_ref() }
    }

    /// Length of this segment in sectors.
    pub(crate) fn len(&self) -> u64 {
        self.raw().len
    }

    /// The mapped device this target's table belongs to.
    pub(crate) fn mapped_device(&self) -> Result<MappedDevice> {
        // SAFETY: the table is live while its target is constructed.
        let md = unsafe { b::dm_table_get_md(self.raw().table) };
        NonNull::new(md).map(MappedDevice).ok_or(code::EINVAL)
    }

    /// Opens the underlying device (path or MAJ:MIN) with the table's mode.
    pub(crate) fn get_device(&self, path: &CStr) -> Result<DmDev> {
        let mut dev: *mut b::dm_dev = ptr::null_mut();
        // SAFETY: called from the constructor; `path` is NUL-terminated and
        // `dev` receives the result.
        to_result(unsafe {
            b::dm_get_device(self.0.as_ptr(), path.as_ptr(), b::dm_table_get_mode(self.raw().table), &mut dev)
        })?;
        Ok(DmDev {
            dev: NonNull::new(dev).ok_or(code::ENODEV)?,
            ti: self.0,
        })
    }

    /// Sets the message dm core reports when the constructor fails.
    fn set_error(&mut self, msg: &'static CStr) {
        // SAFETY: the constructor has exclusive use of the target (`&mut`);
        // dm core only reads `error`, and the string is static.
        unsafe { (*self.0.as_ptr()).error = msg.as_ptr().cast_mut() };
    }

    /// Finishes construction: the `num_*_bios` of `T` and the context.
    fn finish<T: TargetOps>(&mut self, ctx: KBox<T::Ctx>) {
        // SAFETY: the constructor has exclusive use of the target (`&mut`).
        let ti = unsafe { &mut *self.0.as_ptr() };
        ti.num_flush_bios = T::FLUSH_BIOS;
        ti.num_discard_bios = T::DISCARD_BIOS;
        ti.num_secure_erase_bios = T::SECURE_ERASE_BIOS;
        ti.num_write_zeroes_bios = T::WRITE_ZEROES_BIOS;
        ti.private = KBox::into_raw(ctx).cast::<c_void>();
    }
}

/// A constructed target, seen from map, status, message and the device
/// callbacks: read-only.
pub(crate) struct Target<'a>(NonNull<b::dm_target>, PhantomData<&'a b::dm_target>);

impl Target<'_> {
    fn raw(&self) -> &b::dm_target {
        // SAFETY: live for the callback (see the trampolines).
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
}

/// Arguments of a constructor or message, as C strings.
pub(crate) struct Args<'a> {
    argc: usize,
    argv: *mut *mut c_char,
    _strings: PhantomData<&'a CStr>,
}

impl Args<'_> {
    /// # Safety
    /// `argv` holds `argc` NUL-terminated strings that outlive the callback.
    unsafe fn new(argc: c_uint, argv: *mut *mut c_char) -> Self {
        Args {
            argc: if argv.is_null() { 0 } else { argc as usize },
            argv,
            _strings: PhantomData,
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

/// # Safety
/// `ti` is a target constructed by `ctr_tramp::<T>` and not yet destroyed;
/// the returned references are used only during the callback.
unsafe fn constructed<'a, T: TargetOps>(ti: *mut b::dm_target) -> Option<(Target<'a>, &'a T::Ctx)> {
    let ti = NonNull::new(ti)?;
    // SAFETY: `private` holds the KBox<T::Ctx> set by `CtrTarget::finish`.
    let ctx = unsafe { ti.as_ref().private.cast::<T::Ctx>().as_ref() }?;
    Some((Target(ti, PhantomData), ctx))
}

unsafe extern "C" fn ctr_tramp<T: TargetOps>(ti: *mut b::dm_target, argc: c_uint, argv: *mut *mut c_char) -> c_int {
    let Some(ti) = NonNull::new(ti) else {
        return code::EINVAL.to_errno();
    };
    let mut target = CtrTarget(ti, PhantomData);
    // SAFETY: dm core calls ctr with argc strings that outlive the call.
    let args = unsafe { Args::new(argc, argv) };
    let result = T::ctr(&target, &args).map_err(|(msg, e)| (msg, e)).and_then(|ctx| {
        KBox::new(ctx, GFP_KERNEL).map_err(|_| (c"Cannot allocate target context", code::ENOMEM))
    });
    match result {
        Ok(ctx) => {
            target.finish::<T>(ctx);
            0
        }
        Err((msg, e)) => {
            target.set_error(msg);
            e.to_errno()
        }
    }
}

unsafe extern "C" fn dtr_tramp<T: TargetOps>(ti: *mut b::dm_target) {
    let Some(mut ti) = NonNull::new(ti) else {
        return;
    };
    // SAFETY: dm core calls dtr once, for a target whose ctr succeeded, with
    // exclusive use of it; `private` holds the KBox<T::Ctx> set by ctr.
    let ti = unsafe { ti.as_mut() };
    let p = core::mem::replace(&mut ti.private, ptr::null_mut());
    if !p.is_null() {
        // SAFETY: from `KBox::into_raw` in `CtrTarget::finish`, taken once.
        drop(unsafe { KBox::from_raw(p.cast::<T::Ctx>()) });
    }
}

unsafe extern "C" fn map_tramp<T: TargetOps>(ti: *mut b::dm_target, bio: *mut b::bio) -> c_int {
    // SAFETY: dm core calls map with a constructed target and a bio that map
    // owns until it returns.
    let (Some((target, ctx)), Some(mut bio)) = (unsafe { constructed::<T>(ti) }, unsafe { Bio::from_raw(bio) }) else {
        return b::DM_MAPIO_KILL as c_int;
    };
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
    if result.is_null() || maxlen == 0 {
        return;
    }
    // SAFETY: dm core calls status with a constructed target and a result
    // buffer of maxlen bytes, ours during the call.
    let (Some((target, ctx)), buf) = (unsafe { constructed::<T>(ti) }, unsafe {
        core::slice::from_raw_parts_mut(result.cast::<u8>(), maxlen as usize)
    }) else {
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
    // Leave room for the terminating NUL that DMEMIT would write.
    let last = buf.len() - 1;
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
    // strings that outlive the call.
    let (Some((target, ctx)), args) = (unsafe { constructed::<T>(ti) }, unsafe { Args::new(argc, argv) }) else {
        return code::EINVAL.to_errno();
    };
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
    let Some((target, ctx)) = (unsafe { constructed::<T>(ti) }) else {
        return 0;
    };
    let dev = T::device(ctx);
    match callout {
        // SAFETY: the callout and `data` come from dm core for this target;
        // the device is held by it.
        Some(f) => unsafe { f(ti, dev.dev.as_ptr(), 0, target.len(), data) },
        None => 0,
    }
}

/// Both prepare_ioctl signatures (compat.rs): the device, and 1 ("check the
/// ioctl is safe") unless the segment covers the whole device, like dm-linear.
///
/// # Safety
/// Called by dm core's prepare_ioctl: a constructed target of type `T` and a
/// place for the block device.
pub(super) unsafe fn prepare_ioctl<T: TargetOps>(ti: *mut b::dm_target, bdev: *mut *mut b::block_device) -> c_int {
    // SAFETY: by the caller's guarantee.
    let Some((target, ctx)) = (unsafe { constructed::<T>(ti) }) else {
        return code::ENOTTY.to_errno();
    };
    let dev = T::device(ctx);
    if bdev.is_null() {
        return code::ENOTTY.to_errno();
    }
    // SAFETY: `bdev` is dm core's out parameter.
    unsafe { *bdev = dev.bdev() };
    c_int::from(target.len() != dev.nr_sectors())
}
