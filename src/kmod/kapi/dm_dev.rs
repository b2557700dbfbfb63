// SPDX-License-Identifier: GPL-2.0

//! The devices of a device-mapper target: the mapped device it belongs to
//! and the underlying device it opens.

use super::dm::CtrTarget;
use crate::bindings as b;
use crate::stats::SliceWriter;
use core::ffi::CStr;
use kernel::ffi::{c_char};
use core::ptr::{self, NonNull};
use kernel::error::{code, to_result, Result};

/// A mapped device, used as the identity of a device across tables.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct MappedDevice(pub(super) NonNull<b::mapped_device>);

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
    pub(super) dev: NonNull<b::dm_dev>,
    pub(super) ti: NonNull<b::dm_target>,
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
