// SPDX-License-Identifier: GPL-2.0

//! The dmp target: `<start> <len> dmp <device>`.
//!
//! Like dm-linear it maps its segment onto the start of one underlying device
//! (path or MAJ:MIN), remapping each bio by the segment's offset in the mapped
//! device, and passes flush/FUA, discard, write-zeroes and secure-erase through
//! (limits are stacked by dm core through `iterate_devices`). Unlike dm-linear it
//! keeps `flush_bypasses_map` off, so that every flush reaches `map` and is
//! counted. Every bio that reaches `map` is counted once (see registry.rs).

use crate::kapi::{
    features, latency_param, now_ns, register, Args, Bio, CtrTarget, DmDev, MapResult, StatsRef, StatusKind, TableGuard, Target,
    TargetOps, TargetRegistration,
};
use crate::registry::{self, DevStats};
use crate::stats::{account, busy, complete, parse_message, write_status, Message, SliceWriter, Started};
use crate::sysfs;
use core::ffi::CStr;
use core::fmt::Write;
use kernel::error::{code, Error, Result};
use kernel::ThisModule;

/// Keeps the target type registered while the module is loaded.
pub(crate) struct Registration {
    _registration: TargetRegistration,
}

impl Registration {
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        Ok(Registration {
            _registration: register::<Dmp>(module, TIMED && latency_param())?,
        })
    }
}

/// The target's operations.
struct Dmp;

/// Whether requests can be timed from map to completion (request times,
/// latency, in flight, busy time, errors): with the module parameter
/// `latency=1` (off by default: it costs about 340 instructions per I/O, 4 %,
/// bench/results.md). Benchmark builds can leave it out (Kbuild
/// DMP_LATENCY=n); variant builds of the accounting never time.
const TIMED: bool = cfg!(not(any(dmp_no_latency, dmp_acct_variant)));

/// One dmp segment: its underlying device and its mapped device's statistics.
struct DmpCtx {
    dev: DmDev,
    /// Requests are timed to their completion (the type has an end_io).
    timed: bool,
    /// Always `Some` until the context is dropped. Holds the counters' per-CPU
    /// base pointer, so that `map` reaches them with no further load.
    stats: Option<StatsRef<DevStats>>,
}

impl Drop for DmpCtx {
    fn drop(&mut self) {
        if let Some(stats) = self.stats.take() {
            let mut t = TableGuard::lock();
            if let Some(md) = registry::detach(&mut t, stats) {
                // The device's last target: its directory goes (waiting for
                // running readers) before the mapped device can.
                sysfs::remove_device(&mut t, md);
            }
        }
        // `dev` is put afterwards, when the fields drop.
    }
}

/// Sends the bio to the underlying device, at its offset in the segment.
#[inline(always)]
fn remap(ti: &Target<'_>, ctx: &DmpCtx, bio: &mut Bio<'_>, bytes: u64) {
    // An empty flush has no sector to remap.
    let sector = if bytes == 0 {
        bio.sector()
    } else {
        // dm core only sends bios inside the segment: no underflow.
        bio.sector().wrapping_sub(ti.begin())
    };
    bio.remap(&ctx.dev, sector);
}

/// `map` for a request that is timed to its completion: counts it, its
/// start, in flight and the busy time up to it. Out of line, so that the
/// untimed path (the default) stays as small as it was.
#[inline(never)]
fn map_timed(ti: &Target<'_>, ctx: &DmpCtx, bio: &mut Bio<'_>) -> MapResult<Option<Started>> {
    let bytes = bio.bytes();
    let started = ctx.stats.as_ref().map(|stats| {
        let (kind, preflush) = (bio.kind(), bio.preflush());
        let now = now_ns();
        // In flight before this one: asked at most once per ms.
        let idle_to_busy = stats.busy.start(now, || stats.in_flight());
        stats.add_started(&account(kind, bytes, preflush));
        if idle_to_busy != 0 {
            stats.add_slots(&[busy(idle_to_busy)]);
        }
        Started::new(kind, preflush, now)
    });
    remap(ti, ctx, bio, bytes);
    MapResult::Remapped(started)
}

impl TargetOps for Dmp {
    const NAME: &'static CStr = c"dmp";
    const VERSION: [u32; 3] = [1, 0, 0];
    /// What dm-linear declares for a whole-device pass-through, but zoned
    /// devices (dmp has no report_zones): integrity and crypto contexts pass
    /// through, REQ_NOWAIT is honoured (map never sleeps), and atomic writes
    /// (7.x) stay whole, since a bio is remapped, never split.
    const FEATURES: u64 =
        features::PASSES_INTEGRITY | features::NOWAIT | features::PASSES_CRYPTO | features::ATOMIC_WRITES;
    // One bio per flush, discard, secure-erase and write-zeroes request, like
    // dm-linear. `flush_bypasses_map` stays false (the default): flushes must
    // reach `map` to be counted.
    const FLUSH_BIOS: u32 = 1;
    const DISCARD_BIOS: u32 = 1;
    const SECURE_ERASE_BIOS: u32 = 1;
    const WRITE_ZEROES_BIOS: u32 = 1;

    type Ctx = DmpCtx;
    /// The request's kind and start, when it is timed.
    type PerBio = Option<Started>;

    fn ctr(ti: &CtrTarget<'_>, args: &Args<'_>) -> core::result::Result<DmpCtx, (&'static CStr, Error)> {
        let path = match (args.len(), args.get(0)) {
            (1, Some(path)) => path,
            _ => return Err((c"Invalid argument count: expected <device>", code::EINVAL)),
        };
        let dev = ti
            .get_device(path)
            .map_err(|e| (c"Device lookup failed", e))?;
        if ti.len() > dev.nr_sectors() {
            return Err((c"Device is smaller than the target", code::EINVAL));
        }
        let md = ti
            .mapped_device()
            .map_err(|e| (c"Cannot find the mapped device", e))?;
        let mut name = [0u8; 32];
        let name = md.kernel_name(ti, &mut name);
        let mut t = TableGuard::lock();
        let (stats, new) = registry::attach(&mut t, md).map_err(|e| (c"Cannot create statistics", e))?;
        if new {
            if let Err(e) = sysfs::add_device(&mut t, stats.arc(), name) {
                registry::detach(&mut t, stats);
                return Err((c"Cannot create statistics", e));
            }
        }
        Ok(DmpCtx {
            dev,
            timed: TIMED && ti.completes(),
            stats: Some(stats),
        })
    }

    // Into the trampoline: the I/O path's only Rust function.
    #[inline(always)]
    fn map(ti: &Target<'_>, ctx: &DmpCtx, bio: &mut Bio<'_>) -> MapResult<Option<Started>> {
        if ctx.timed {
            return map_timed(ti, ctx, bio);
        }
        let bytes = bio.bytes();
        if let Some(stats) = &ctx.stats {
            stats.add(&account(bio.kind(), bytes, bio.preflush()));
        }
        remap(ti, ctx, bio, bytes);
        MapResult::Remapped(None)
    }

    fn end_io(_ti: &Target<'_>, ctx: &DmpCtx, started: Option<Started>, error: bool) {
        if let (Some(stats), Some(started)) = (&ctx.stats, started) {
            let now = now_ns();
            let busy = stats.busy.end(now);
            stats.add_slots(complete(&started, now, error, busy).adds());
        }
    }

    fn status(_ti: &Target<'_>, ctx: &DmpCtx, kind: StatusKind, out: &mut SliceWriter<'_>) {
        // A status line that does not fit is cut off, as DMEMIT does.
        let _ = match kind {
            StatusKind::Info => match &ctx.stats {
                Some(stats) => write_status(&stats.snapshot(), out),
                None => Ok(()),
            },
            StatusKind::Table => out.write_str(ctx.dev.name()),
            StatusKind::Ima => write!(
                out,
                "target_name=dmp,target_version=1.0.0,device_name={};",
                ctx.dev.name()
            ),
        };
    }

    fn message(_ti: &Target<'_>, ctx: &DmpCtx, args: &Args<'_>) -> Result {
        let (words, argc) = args.words::<2>();
        let words = &words[..argc.min(2)];
        match parse_message(words) {
            Ok(Message::Reset) => {
                if let Some(stats) = &ctx.stats {
                    stats.reset();
                }
                Ok(())
            }
            Err(e) => {
                let mut buf = [0u8; 96];
                let mut text = SliceWriter::new(&mut buf);
                let _ = write!(text, "{}", e);
                crate::kapi::log_warn(text.written());
                Err(code::EINVAL)
            }
        }
    }

    fn device(ctx: &DmpCtx) -> &DmDev {
        &ctx.dev
    }
}
