// SPDX-License-Identifier: GPL-2.0

//! Microbenchmark of the accounting path, in benchmark builds only
//! (Kbuild `DMP_MICROBENCH=y`, used by scripts/bench; never in the dmp.ko that
//! ships).
//!
//! Whole-I/O figures under QEMU TCG hide the cost of the statistics behind the
//! cost of emulating a bio's path through the block layer, so this times the
//! one thing dmp adds per bio: `PerCpuSlots::add(&account(..))`, what
//! `map` does through `StatsRef::add`, on the counters of one device. Which counter
//! design is timed is chosen at build time (`DMP_ACCOUNTING`: percpu, the
//! shipped one, or the percpu_each / spinlock / atomic / none variants). The
//! update of every call goes through `black_box`, so that no variant's loop
//! (not even `none`'s, the floor) is optimised away or hoisted.
//!
//! `/sys/module/dmp/microbench/run` (root only):
//! * write `CALLS CPUS`: on each of the first CPUS online CPUs at once
//!   (`on_each_cpu`, released together by a start barrier), alternate 4 KiB
//!   reads and writes for CALLS accounting calls, timing the loop on each CPU;
//!   the write returns when all are done. The calls run in chunks of
//!   `CHUNK`, because `on_each_cpu` callbacks run with interrupts off;
//! * read: the last result, one line
//!   `variant=V cpus=N calls=C exact=0|1 elapsed_ns=T0,T1,...`, where `exact`
//!   says the device's counters afterwards hold exactly N*C requests.

use crate::kapi::{
    now_ns, online_cpus, run_on_each_cpu, AttrSpec, Kset, KsetGroup, PerCpuSlots, SysfsOps, TableGuard,
    UeventOps, UeventSubsystem,
};
use core::ffi::CStr;
use kernel::ThisModule;
use crate::stats::{account, IoKind, SliceWriter};
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use kernel::error::{code, Result};

/// The counter design this module was built with.
#[cfg(not(any(dmp_acct_variant, dmp_acct_percpu_each)))]
const VARIANT: &str = "percpu";
#[cfg(dmp_acct_percpu_each)]
const VARIANT: &str = "percpu-each";
#[cfg(dmp_acct_spinlock)]
const VARIANT: &str = "spinlock";
#[cfg(dmp_acct_atomic)]
const VARIANT: &str = "atomic";
#[cfg(dmp_acct_none)]
const VARIANT: &str = "none";

/// Size of every accounted bio (the benchmark's fio block size).
const BYTES: u64 = 4096;
/// CPUs whose times are kept (the guest has 2; more are ignored).
const MAX_CPUS: usize = 64;
/// Calls per CPU in one `on_each_cpu` round (interrupts are off meanwhile:
/// well under a second even under TCG).
const CHUNK: u64 = 50_000;
/// A CPU that has not reached the start barrier after this long is not
/// waited for (its time then includes less contention).
const BARRIER_TIMEOUT_NS: u64 = 1_000_000_000;

static BUSY: AtomicBool = AtomicBool::new(false);
static ARRIVED: AtomicU32 = AtomicU32::new(0);
static ELAPSED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
static LAST_CPUS: AtomicU32 = AtomicU32::new(0);
static LAST_CALLS: AtomicU64 = AtomicU64::new(0);
static LAST_EXACT: AtomicBool = AtomicBool::new(false);

/// The work of one CPU: wait for the others, then time `calls` accounting
/// calls on the shared device counters.
fn worker(cpu: u32, slots: &PerCpuSlots, calls: u64, cpus: u32) {
    if cpu >= cpus {
        return;
    }
    ARRIVED.fetch_add(1, Ordering::AcqRel);
    let deadline = now_ns().saturating_add(BARRIER_TIMEOUT_NS);
    while ARRIVED.load(Ordering::Acquire) < cpus && now_ns() < deadline {
        core::hint::spin_loop();
    }
    let start = now_ns();
    for i in 0..calls {
        let kind = if i & 1 == 0 { IoKind::Read } else { IoKind::Write };
        slots.add(core::hint::black_box(&account(kind, core::hint::black_box(BYTES), false)));
    }
    let elapsed = now_ns().saturating_sub(start);
    if let Some(e) = ELAPSED.get(cpu as usize) {
        e.fetch_add(elapsed, Ordering::Relaxed);
    }
}

/// One run: `calls` accounting calls on each of `cpus` CPUs at once.
fn run(calls: u64, cpus: u32) -> Result {
    let cpus = cpus.min(online_cpus()).min(MAX_CPUS as u32);
    if cpus == 0 || calls == 0 {
        return Err(code::EINVAL);
    }
    BUSY.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
        .map_err(|_| code::EBUSY)?;
    let result = (|| -> Result {
        let slots = PerCpuSlots::new()?;
        for e in &ELAPSED {
            e.store(0, Ordering::Relaxed);
        }
        let mut left = calls;
        while left > 0 {
            let n = left.min(CHUNK);
            ARRIVED.store(0, Ordering::Release);
            run_on_each_cpu(&|cpu| worker(cpu, &slots, n, cpus));
            left -= n;
        }
        let c = slots.sum();
        let want = calls.saturating_mul(u64::from(cpus));
        LAST_EXACT.store(c.read_cnt().wrapping_add(c.write_cnt()) == want, Ordering::Relaxed);
        LAST_CPUS.store(cpus, Ordering::Relaxed);
        LAST_CALLS.store(calls, Ordering::Relaxed);
        Ok(())
    })();
    BUSY.store(false, Ordering::Release);
    result
}

/// Parses `CALLS CPUS` (decimal, whitespace-separated, optional newline).
fn parse_request(input: &[u8]) -> Option<(u64, u32)> {
    let text = core::str::from_utf8(input).ok()?;
    let mut words = text.split_ascii_whitespace();
    let calls = words.next()?.parse::<u64>().ok()?;
    let cpus = words.next()?.parse::<u32>().ok()?;
    words.next().is_none().then_some((calls, cpus))
}

struct Dmp;
impl UeventSubsystem for Dmp {
    const NAME: &'static CStr = c"dmp";
}
static UEVENT_OPS: UeventOps<Dmp> = UeventOps::new();
static GROUP: KsetGroup<RunDir, 1> = KsetGroup::new();

/// The directory's one file, `run`.
struct RunDir;

impl SysfsOps for RunDir {
    type Obj = ();
    const ATTRS: &'static [AttrSpec] = &[AttrSpec { name: c"run", mode: 0o600 }];

    fn show(_: &(), _: usize, out: &mut SliceWriter<'_>) -> Result {
        let cpus = LAST_CPUS.load(Ordering::Relaxed);
        let mut line = || -> core::fmt::Result {
            write!(
                out,
                "variant={} cpus={} calls={} exact={} elapsed_ns=",
                VARIANT,
                cpus,
                LAST_CALLS.load(Ordering::Relaxed),
                u8::from(LAST_EXACT.load(Ordering::Relaxed)),
            )?;
            for (i, e) in ELAPSED.iter().take(cpus as usize).enumerate() {
                let sep = if i == 0 { "" } else { "," };
                write!(out, "{}{}", sep, e.load(Ordering::Relaxed))?;
            }
            out.write_str("\n")
        };
        line().map_err(|_| code::EFBIG)
    }

    fn store(_: &(), _: usize, input: &[u8]) -> Result {
        let (calls, cpus) = parse_request(input).ok_or(code::EINVAL)?;
        run(calls, cpus)
    }
}

/// /sys/module/dmp/microbench, removed when dropped (module exit).
pub(crate) struct Microbench {
    _dir: Kset,
}

impl Microbench {
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        let dir = Kset::new(module, c"microbench", &UEVENT_OPS)?;
        dir.add_group(&mut TableGuard::lock(), &GROUP)?;
        Ok(Microbench { _dir: dir })
    }
}
