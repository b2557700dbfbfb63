// SPDX-License-Identifier: GPL-2.0

//! The C callbacks of a [`TargetOps`] target type: each turns dm core's
//! arguments into the views of dm.rs and calls the trait.

use super::bio::Bio;
use super::dm::{Args, CtrTarget, MapResult, StatusKind, Target, TargetOps};
use crate::bindings as b;
use crate::stats::SliceWriter;
use kernel::ffi::{c_char, c_int, c_uint, c_void};
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use kernel::alloc::{flags::GFP_KERNEL, KBox};
use kernel::error::code;

/// # Safety
/// `ti` is a target constructed by `ctr::<T>` and not yet destroyed;
/// the returned references are used only during the callback.
unsafe fn constructed<'a, T: TargetOps>(ti: *mut b::dm_target) -> Option<(Target<'a>, &'a T::Ctx)> {
    let ti = NonNull::new(ti)?;
    // SAFETY: `private` holds the KBox<T::Ctx> set by `CtrTarget::finish`.
    let ctx = unsafe { ti.as_ref().private.cast::<T::Ctx>().as_ref() }?;
    Some((Target(ti, PhantomData), ctx))
}

pub(super) unsafe extern "C" fn ctr<T: TargetOps>(ti: *mut b::dm_target, argc: c_uint, argv: *mut *mut c_char) -> c_int {
    let Some(ti) = NonNull::new(ti) else {
        return code::EINVAL.to_errno();
    };
    let mut target = CtrTarget(ti, PhantomData);
    // SAFETY: dm core calls ctr with argc strings that outlive the call.
    let args = unsafe { Args::new(argc, argv) };
    let result = T::ctr(&target, &args).and_then(|ctx| {
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

pub(super) unsafe extern "C" fn dtr<T: TargetOps>(ti: *mut b::dm_target) {
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

/// This clone's per-bio data for `T`.
///
/// # Safety
/// `bio` is a clone dm core passed to a callback of a target constructed by
/// `ctr::<T>`.
unsafe fn per_bio<T: TargetOps>(bio: *mut b::bio) -> *mut T::PerBio {
    // SAFETY: by the caller; for a type with an end_io (the only case this
    // is called in), `ctr::<T>` set the target's per_io_data_size to this
    // size (`CtrTarget::finish`), so dm core reserved at least that many
    // bytes before the clone, 8-aligned (size a multiple of 8: `register`).
    unsafe { b::dm_per_bio_data(bio, core::mem::size_of::<T::PerBio>()) }.cast::<T::PerBio>()
}

pub(super) unsafe extern "C" fn map<T: TargetOps>(ti: *mut b::dm_target, clone: *mut b::bio) -> c_int {
    // SAFETY: dm core calls map with a constructed target and a bio that map
    // owns until it returns.
    let (Some((target, ctx)), Some(mut bio)) = (unsafe { constructed::<T>(ti) }, unsafe { Bio::from_raw(clone) }) else {
        return b::DM_MAPIO_KILL as c_int;
    };
    match T::map(&target, ctx, &mut bio) {
        MapResult::Remapped(value) => {
            if target.has_per_bio_data() {
                // SAFETY: `clone` is this target's clone, owned by map until
                // it returns; a target has per-bio data only with an end_io,
                // and then of `T::PerBio`'s size (`CtrTarget::finish`),
                // written here before dm core submits the clone and read by
                // `end_io`.
                unsafe { ptr::write(per_bio::<T>(clone), value) };
            }
            b::DM_MAPIO_REMAPPED as c_int
        }
    }
}

pub(super) unsafe extern "C" fn end_io<T: TargetOps>(
    ti: *mut b::dm_target,
    clone: *mut b::bio,
    error: *mut b::blk_status_t,
) -> c_int {
    // SAFETY: dm core calls end_io with a constructed target.
    let Some((target, ctx)) = (unsafe { constructed::<T>(ti) }) else {
        return b::DM_ENDIO_DONE as c_int;
    };
    if clone.is_null() {
        return b::DM_ENDIO_DONE as c_int;
    }
    // SAFETY: `error` is dm core's status of the completed clone (BLK_STS_OK
    // is 0), read only.
    let failed = !error.is_null() && unsafe { *error } != 0;
    // SAFETY: dm core calls end_io (registered only with `end_io`, so the
    // target has per-bio data and map wrote it) only for clones that this target's
    // `map` remapped (a killed or requeued clone never reaches it), and
    // `map` wrote a `T::PerBio` into the clone's per-bio data before
    // returning DM_MAPIO_REMAPPED; `T::PerBio` is `Copy`, so reading it is a
    // copy.
    let value = unsafe { ptr::read(per_bio::<T>(clone)) };
    T::end_io(&target, ctx, value, failed);
    b::DM_ENDIO_DONE as c_int
}

pub(super) unsafe extern "C" fn status<T: TargetOps>(
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

pub(super) unsafe extern "C" fn message<T: TargetOps>(
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

pub(super) unsafe extern "C" fn iterate_devices<T: TargetOps>(
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
