// SPDX-License-Identifier: GPL-2.0

//! A bio seen from a target's `map`. Its operation, flags, size and sector
//! are plain fields, read and written here without any call into C.

use super::dm::DmDev;
use crate::bindings as b;
use crate::stats::IoKind;
use core::marker::PhantomData;
use core::ptr::NonNull;

/// `REQ_OP_MASK` and `REQ_PREFLUSH` of blk_types.h (macros with casts, which
/// bindgen does not translate), from the values it does translate.
const REQ_OP_MASK: u32 = (1 << b::REQ_OP_BITS) - 1;
const REQ_PREFLUSH: u32 = 1 << b::__REQ_PREFLUSH;

/// The bio dm core passed to `map`, owned by that call until it returns.
pub(crate) struct Bio<'a>(NonNull<b::bio>, PhantomData<&'a mut b::bio>);

impl Bio<'_> {
    /// # Safety
    /// `bio` is the bio dm core passed to `map`; the view is used only
    /// during that call.
    pub(super) unsafe fn from_raw(bio: *mut b::bio) -> Option<Self> {
        NonNull::new(bio).map(|p| Bio(p, PhantomData))
    }

    fn raw(&self) -> &b::bio {
        // SAFETY: live and owned by `map` for `'a` (see `from_raw`).
        unsafe { self.0.as_ref() }
    }

    /// What the statistics count this bio as.
    pub(crate) fn kind(&self) -> IoKind {
        // bio_op(): the operation is the low REQ_OP_BITS bits of bi_opf.
        match self.raw().bi_opf & REQ_OP_MASK {
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
        self.raw().bi_opf & REQ_PREFLUSH != 0
    }

    /// Size in bytes.
    pub(crate) fn bytes(&self) -> u64 {
        u64::from(self.raw().bi_iter.bi_size)
    }

    /// Start sector in the mapped device.
    pub(crate) fn sector(&self) -> u64 {
        self.raw().bi_iter.bi_sector
    }

    /// Sends the bio to `dev` at `sector`.
    pub(crate) fn remap(&mut self, dev: &DmDev, sector: u64) {
        // SAFETY: map owns the bio until it returns DM_MAPIO_REMAPPED (we
        // hold `&mut self`); the device is held by the target.
        // bio_set_dev is a static inline (helpers.c).
        unsafe {
            b::dmp_bio_set_dev(self.0.as_ptr(), dev.bdev());
            (*self.0.as_ptr()).bi_iter.bi_sector = sector;
        }
    }
}
