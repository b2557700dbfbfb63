// SPDX-License-Identifier: GPL-2.0

//! Device-mapper: a target type implemented in Rust ([`TargetOps`]), its
//! registration, the views of a `dm_target` its callbacks get, the devices
//! it opens and the mapped device it belongs to.
//!
//! Mutation of the `dm_target` is constructor-only and typed so:
//! [`CtrTarget`] exists only during `ctr`, and the trampoline alone sets
//! `error`, `private` and the `num_*_bios`; every other callback gets the
//! read-only [`Target`]. Devices are in dm_dev.rs, the C callbacks in
//! dm_tramp.rs.

use super::bio::Bio;
use super::compat;
pub(crate) use super::dm_dev::{DmDev, MappedDevice};
use super::dm_tramp as tramp;
use crate::bindings as b;
use crate::stats::SliceWriter;
use core::ffi::CStr;
use kernel::ffi::{c_char, c_uint, c_void};
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
pub(crate) enum MapResult<P> {
    /// The bio was remapped: dm core submits it to the new device. The value
    /// is kept in the bio's per-bio data and given to `end_io`.
    Remapped(P),
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
    /// What `map` keeps in each bio for `end_io`, in dm core's per-bio data
    /// (`ti->per_io_data_size` is its size), when the type was registered
    /// with `end_io`. Its size must be a multiple of 8 and its alignment at
    /// most 8 (checked when the type is registered).
    type PerBio: Copy + Send;

    /// Constructs a target from its table arguments. On failure returns the
    /// message for `ti->error` and the error code; nothing may be left behind.
    fn ctr(ti: &CtrTarget<'_>, args: &Args<'_>) -> core::result::Result<Self::Ctx, (&'static CStr, Error)>;
    fn map(ti: &Target<'_>, ctx: &Self::Ctx, bio: &mut Bio<'_>) -> MapResult<Self::PerBio>;
    /// A bio `map` remapped has completed, with an error when `error`; gets
    /// back what `map` returned for it. Called only when the type was
    /// registered with `end_io` ([`Target::completes`]). Runs in the completion's context
    /// (often an interrupt): must not sleep.
    fn end_io(ti: &Target<'_>, ctx: &Self::Ctx, per_bio: Self::PerBio, error: bool);
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

/// Registers the target type `T` for `module`; with `end_io`, dm core calls
/// `T::end_io` for every completed bio (at a cost per I/O: without it, the
/// type has no end_io at all and its targets no per-bio data).
pub(crate) fn register<T: TargetOps>(module: &'static ThisModule, end_io: bool) -> Result<TargetRegistration> {
    // dm core places the per-bio data right before its 8-aligned
    // `dm_target_io` / `dm_io`: a size in multiples of 8 keeps it aligned.
    const {
        assert!(core::mem::size_of::<T::PerBio>() % 8 == 0 && core::mem::align_of::<T::PerBio>() <= 8);
    }
    // SAFETY: an all-zero target_type is its empty value (null pointers,
    // `None` callbacks, zero numbers), as C's designated initialisers leave it.
    let mut tt: b::target_type = unsafe { core::mem::zeroed() };
    tt.name = T::NAME.as_ptr().cast();
    tt.version = T::VERSION;
    tt.features = T::FEATURES as _;
    // `module` is the kernel crate's type (bindings.rs), as ThisModule's.
    tt.module = module.as_ptr();
    tt.ctr = Some(tramp::ctr::<T>);
    tt.dtr = Some(tramp::dtr::<T>);
    tt.map = Some(tramp::map::<T>);
    tt.end_io = if end_io { Some(tramp::end_io::<T>) } else { None };
    tt.status = Some(tramp::status::<T>);
    tt.message = Some(tramp::message::<T>);
    tt.prepare_ioctl = Some(compat::prepare_ioctl_tramp::<T>);
    tt.iterate_devices = Some(tramp::iterate_devices::<T>);
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

/// Whether the target type of `ti` has an end_io.
fn has_end_io(ti: &b::dm_target) -> bool {
    // SAFETY: `type_` is the registered target_type of this target (dm core
    // sets it before calling ctr), unmodified while registered and alive
    // longer than the target.
    unsafe { ti.type_.as_ref() }.is_some_and(|tt| tt.end_io.is_some())
}

/// The target under construction, seen from `ctr`: it exists only during
/// the constructor, which has exclusive use of the `dm_target`.
pub(crate) struct CtrTarget<'a>(pub(super) NonNull<b::dm_target>, pub(super) PhantomData<&'a mut b::dm_target>);

impl CtrTarget<'_> {
    fn raw(&self) -> &b::dm_target {
        // SAFETY: live for the constructor (see `dm_tramp::ctr`).
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
            b::dm_get_device(self.0.as_ptr(), path.as_ptr().cast(), b::dm_table_get_mode(self.raw().table), &mut dev)
        })?;
        Ok(DmDev {
            dev: NonNull::new(dev).ok_or(code::ENODEV)?,
            ti: self.0,
        })
    }

    /// Whether dm core will call this target's `end_io` (its type was
    /// registered with it): only then does the value `map` returns reach
    /// `end_io`.
    pub(crate) fn completes(&self) -> bool {
        has_end_io(self.raw())
    }

    /// Sets the message dm core reports when the constructor fails.
    pub(super) fn set_error(&mut self, msg: &'static CStr) {
        // SAFETY: the constructor has exclusive use of the target (`&mut`);
        // dm core only reads `error`, and the string is static.
        unsafe { (*self.0.as_ptr()).error = msg.as_ptr().cast::<c_char>().cast_mut() };
    }

    /// Finishes construction: the `num_*_bios` of `T` and the context.
    pub(super) fn finish<T: TargetOps>(&mut self, ctx: KBox<T::Ctx>) {
        // SAFETY: the constructor has exclusive use of the target (`&mut`).
        let ti = unsafe { &mut *self.0.as_ptr() };
        ti.num_flush_bios = T::FLUSH_BIOS;
        ti.num_discard_bios = T::DISCARD_BIOS;
        ti.num_secure_erase_bios = T::SECURE_ERASE_BIOS;
        ti.num_write_zeroes_bios = T::WRITE_ZEROES_BIOS;
        // The size `map` and `end_io` pass to dm_per_bio_data (dm_tramp.rs),
        // used only when the type has an end_io.
        ti.per_io_data_size = if has_end_io(ti) { core::mem::size_of::<T::PerBio>() as c_uint } else { 0 };
        ti.private = KBox::into_raw(ctx).cast::<c_void>();
    }
}

/// A constructed target, seen from map, status, message and the device
/// callbacks: read-only.
pub(crate) struct Target<'a>(pub(super) NonNull<b::dm_target>, pub(super) PhantomData<&'a b::dm_target>);

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

    /// Whether this target has per-bio data, which the constructor gives it
    /// exactly when its type has an end_io (one load from the target: read
    /// by the map trampoline for every bio).
    #[inline]
    pub(super) fn has_per_bio_data(&self) -> bool {
        self.raw().per_io_data_size != 0
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
    pub(super) unsafe fn new(argc: c_uint, argv: *mut *mut c_char) -> Self {
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
        unsafe { Some(CStr::from_ptr((*self.argv.add(i)).cast())) }
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
