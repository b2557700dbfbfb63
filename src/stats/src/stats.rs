// SPDX-License-Identifier: GPL-2.0-only

//! I/O statistics of the `dmp` device-mapper target.
//!
//! This single file is shared by two builds:
//!
//! * the kernel module includes it with `#[path = "../stats/src/stats.rs"] mod stats;`
//!   and compiles it with rustc 1.85 in the kernel's `no_std` environment;
//! * the `dmp-stats` crate wraps it for the host tool `dmpstat` and the tests.
//!
//! It therefore uses only `core`: no allocation, no floating point, no 128-bit
//! integer arithmetic (the kernel's compiler builtins refuse `u128` division),
//! no panicking paths (no unchecked indexing, no division by a value that may be
//! zero, no `unwrap`) and no `unsafe`.
//!
//! # Counters
//!
//! The kernel keeps one [`Slots`] array per CPU. [`account`] says which slots a
//! bio increments; a reader sums the per-CPU arrays into [`Counters`] with
//! [`Counters::add_percpu`]. Every slot is a monotonic `u64` that wraps on
//! overflow (2^64 requests or 16 EiB are far beyond a device's lifetime); sums
//! and differences use wrapping arithmetic so that a wrapped counter never
//! panics. Averages are computed exactly even when `read + write` exceeds
//! `u64` (see [`Counters::total_avg`]).
//!
//! # Text formats
//!
//! [`StatFile::render`] produces the sysfs files byte for byte as the earlier C
//! modules did (`volumes`/`summary`, the single-value files) plus the newer
//! files (`histogram`, byte and discard/flush counters); [`write_status`]
//! produces the `dmsetup status` text. The `parse_*` functions read the same
//! text back (used by `dmpstat`), strictly: any deviation is a [`ParseError`].

use core::fmt::{self, Write};

// ---------------------------------------------------------------------------
// Slot layout
// ---------------------------------------------------------------------------

/// Slot index: number of read requests.
pub const READ_CNT: usize = 0;
/// Slot index: bytes read.
pub const READ_BYTES: usize = 1;
/// Slot index: number of write requests (including empty flushes, write-zeroes, secure-erase).
pub const WRITE_CNT: usize = 2;
/// Slot index: bytes written.
pub const WRITE_BYTES: usize = 3;
/// Slot index: number of discard requests.
pub const DISCARD_CNT: usize = 4;
/// Slot index: bytes discarded.
pub const DISCARD_BYTES: usize = 5;
/// Slot index: number of requests carrying a preflush (`REQ_PREFLUSH`).
pub const FLUSH_CNT: usize = 6;
/// First slot of the read size histogram ([`NR_BUCKETS`] slots).
pub const HIST_READ: usize = 7;
/// First slot of the write size histogram ([`NR_BUCKETS`] slots).
pub const HIST_WRITE: usize = HIST_READ + NR_BUCKETS;
/// Slot index: nanoseconds reads took, map to completion, summed.
pub const READ_NS: usize = HIST_WRITE + NR_BUCKETS;
/// Slot index: nanoseconds writes took (empty flushes included).
pub const WRITE_NS: usize = READ_NS + 1;
/// Slot index: nanoseconds discards took.
pub const DISCARD_NS: usize = READ_NS + 2;
/// Slot index: nanoseconds requests carrying a preflush took (they are also
/// reads' or writes' time).
pub const FLUSH_NS: usize = READ_NS + 3;
/// Slot index: completed discards.
pub const DISCARD_DONE: usize = READ_NS + 4;
/// Slot index: completed requests that carried a preflush.
pub const FLUSH_DONE: usize = READ_NS + 5;
/// Slot index: reads that completed with an error.
pub const READ_ERR: usize = READ_NS + 6;
/// Slot index: writes that completed with an error.
pub const WRITE_ERR: usize = READ_NS + 7;
/// Slot index: discards that completed with an error.
pub const DISCARD_ERR: usize = READ_NS + 8;
/// Slot index: requests in flight (map adds 1, completion adds `u64::MAX`,
/// i.e. subtracts 1; only the sum over CPUs means something). A gauge: never
/// subtracted by a reset ([`Counters::since`]).
pub const IN_FLIGHT: usize = READ_NS + 9;
/// Slot index: nanoseconds the device was busy (had a request in flight),
/// measured as [`BusyStamp`] says.
pub const IO_TICKS_NS: usize = READ_NS + 10;
/// First slot of the read latency histogram ([`NR_LAT_BUCKETS`] slots).
pub const LAT_READ: usize = READ_NS + 11;
/// First slot of the write latency histogram ([`NR_LAT_BUCKETS`] slots).
pub const LAT_WRITE: usize = LAT_READ + NR_LAT_BUCKETS;
/// Number of `u64` slots in one per-CPU counter array.
pub const NR_SLOTS: usize = LAT_WRITE + NR_LAT_BUCKETS;

/// One per-CPU counter array, indexed by the slot constants above.
pub type Slots = [u64; NR_SLOTS];

// ---------------------------------------------------------------------------
// Histogram buckets
// ---------------------------------------------------------------------------

/// Number of request size buckets in each histogram.
pub const NR_BUCKETS: usize = 13;

/// Labels of the histogram buckets, as printed in the `histogram` file.
///
/// Bucket 0 holds requests under 512 bytes, bucket `i` (1..=11) holds sizes in
/// `[256 << i, 512 << i)`, bucket 12 holds requests of 1 MiB and more.
pub const BUCKET_LABELS: [&str; NR_BUCKETS] = [
    "<512", "512", "1K", "2K", "4K", "8K", "16K", "32K", "64K", "128K", "256K", "512K", ">=1M",
];

/// Histogram bucket of a request of `bytes` bytes.
///
/// `bytes < 512` gives 0; otherwise `min(floor(log2(bytes)) - 8, 12)`, so
/// 512..=1023 gives 1, 4096 gives 4 and anything from 1 MiB up gives 12.
pub fn bucket(bytes: u64) -> usize {
    if bytes < 512 {
        return 0;
    }
    // bytes >= 512, so leading_zeros() <= 54 and log2 is in 9..=63.
    let log2 = 63 - bytes.leading_zeros() as usize;
    let b = log2 - 8;
    if b > NR_BUCKETS - 1 {
        NR_BUCKETS - 1
    } else {
        b
    }
}

/// Number of latency buckets in each latency histogram.
pub const NR_LAT_BUCKETS: usize = 22;

/// Labels of the latency buckets, as printed in the `latency` file: the
/// lower bound of each bucket in microseconds.
///
/// Bucket 0 holds requests that took under 1 µs, bucket `i` (1..=19) holds
/// `[2^(i-1), 2^i)` µs, bucket 20 holds `[524288 µs, 1 s)` and bucket 21
/// holds 1 s and more.
pub const LAT_LABELS: [&str; NR_LAT_BUCKETS] = [
    "<1us", "1us", "2us", "4us", "8us", "16us", "32us", "64us", "128us", "256us", "512us",
    "1024us", "2048us", "4096us", "8192us", "16384us", "32768us", "65536us", "131072us",
    "262144us", "524288us", ">=1s",
];

/// Upper bound (exclusive) of latency bucket `i` in nanoseconds; `None` for
/// the last bucket, which has none. Prometheus's `le` of bucket `i`.
pub fn lat_bucket_upper_ns(i: usize) -> Option<u64> {
    match i {
        0..=19 => Some(1000u64 << i),
        20 => Some(1_000_000_000),
        _ => None,
    }
}

/// Latency bucket of a request that took `ns` nanoseconds (see [`LAT_LABELS`]).
#[inline]
pub fn lat_bucket(ns: u64) -> usize {
    if ns >= 1_000_000_000 {
        return NR_LAT_BUCKETS - 1;
    }
    let us = ns / 1000;
    if us == 0 {
        return 0;
    }
    // 1 <= us < 10^6 < 2^20: log2 is in 0..=19, the bucket in 1..=20.
    let log2 = 63 - us.leading_zeros() as usize;
    log2 + 1
}

// ---------------------------------------------------------------------------
// Accounting
// ---------------------------------------------------------------------------

/// Kind of a bio, as far as the statistics are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IoKind {
    /// A read.
    Read,
    /// A write, including an empty flush (0 bytes), write-zeroes and secure-erase.
    Write,
    /// A discard.
    Discard,
    /// Anything else: counted only as a flush when it carries a preflush.
    Other,
}

/// Number of per-CPU increments one bio causes (some may add 0).
pub const UPDATE_ADDS: usize = 3;

/// One per-CPU increment: `value` added to slot `slot` (always `< NR_SLOTS`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotAdd {
    slot: usize,
    value: u64,
}

impl SlotAdd {
    /// The slot, always below [`NR_SLOTS`].
    pub fn slot(&self) -> usize {
        self.slot
    }

    /// The value added.
    pub fn value(&self) -> u64 {
        self.value
    }
}

/// The per-CPU increments caused by one bio: exactly [`UPDATE_ADDS`]
/// `(slot, value)` pairs, so that the kernel adds them with one call and no
/// branch; unused pairs add 0 to `FLUSH_CNT`. The last pair is always the
/// flush count (`FLUSH_CNT`, +0 or +1): the kernel's helper relies on it.
///
/// Request counts of reads and writes are not incremented on the I/O path:
/// every read and write also increments exactly one bucket of its histogram,
/// so a reader derives `READ_CNT` and `WRITE_CNT` from the histogram when it
/// sums the per-CPU arrays ([`Counters::add_percpu`]). [`Update::apply`]
/// gives the same result on a snapshot's slots directly.
///
/// Produced only by [`account`] (the fields are private), so every slot is in
/// range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Update {
    adds: [SlotAdd; UPDATE_ADDS],
    /// `READ_CNT` or `WRITE_CNT` when the bio is a read or write (for [`Update::apply`]).
    count: Option<usize>,
}

const NOTHING: SlotAdd = SlotAdd {
    slot: FLUSH_CNT,
    value: 0,
};

impl Update {
    /// The per-CPU increments (their order is of no importance).
    pub fn adds(&self) -> &[SlotAdd; UPDATE_ADDS] {
        &self.adds
    }

    /// The increments that change something, as `(slot, value)` pairs, with
    /// the derived request count of reads and writes first: what the bio does
    /// to a snapshot.
    pub fn iter(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.count.map(|slot| (slot, 1)).into_iter().chain(
            self.adds
                .iter()
                .filter(|a| a.slot != FLUSH_CNT || a.value != 0)
                .map(|a| (a.slot, a.value)),
        )
    }

    /// Number of counters the bio changes.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when the bio changes no counter.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Applies the bio to a snapshot's slots (wrapping add), request counts
    /// included: the same as adding [`Update::adds`] to a per-CPU array and
    /// summing it with [`Counters::add_percpu`].
    pub fn apply(&self, slots: &mut Slots) {
        for (slot, value) in self.iter() {
            if let Some(s) = slots.get_mut(slot) {
                *s = s.wrapping_add(value);
            }
        }
    }
}

/// The slot increments for one bio of `kind` carrying `bytes` bytes.
///
/// * `Read`: `READ_BYTES` +bytes, read histogram bucket +1 (and, derived from
///   the histogram by readers, `READ_CNT` +1).
/// * `Write`: the same for the write slots.
/// * `Discard`: `DISCARD_BYTES` +bytes, `DISCARD_CNT` +1 (no histogram).
/// * `Other`: nothing.
///
/// In every case `preflush` adds `FLUSH_CNT` +1. An empty flush arrives as
/// `Write` with 0 bytes and `preflush`: it counts as a write of 0 bytes (as
/// `/sys/block/dm-N/stat` does) and as a flush.
#[inline]
pub fn account(kind: IoKind, bytes: u64, preflush: bool) -> Update {
    let flush = SlotAdd {
        slot: FLUSH_CNT,
        value: u64::from(preflush),
    };
    let add = |slot, value| SlotAdd { slot, value };
    match kind {
        IoKind::Read => Update {
            adds: [
                add(READ_BYTES, bytes),
                add(HIST_READ + bucket(bytes), 1),
                flush,
            ],
            count: Some(READ_CNT),
        },
        IoKind::Write => Update {
            adds: [
                add(WRITE_BYTES, bytes),
                add(HIST_WRITE + bucket(bytes), 1),
                flush,
            ],
            count: Some(WRITE_CNT),
        },
        IoKind::Discard => Update {
            adds: [add(DISCARD_CNT, 1), add(DISCARD_BYTES, bytes), flush],
            count: None,
        },
        IoKind::Other => Update {
            adds: [NOTHING, NOTHING, flush],
            count: None,
        },
    }
}

/// What `map` records for a request's completion: its kind and preflush flag
/// as `map` saw them (a lower layer may clear `REQ_PREFLUSH` before the
/// request completes) and when it was mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Started {
    kind: IoKind,
    preflush: bool,
    /// Monotonic clock at `map`, in nanoseconds.
    start_ns: u64,
}

impl Started {
    /// A request of `kind` mapped at `start_ns`.
    pub fn new(kind: IoKind, preflush: bool, start_ns: u64) -> Started {
        Started {
            kind,
            preflush,
            start_ns,
        }
    }

    /// When the request was mapped.
    pub fn start_ns(&self) -> u64 {
        self.start_ns
    }
}

/// Number of per-CPU increments one completion causes (some may add 0).
pub const DONE_ADDS: usize = 7;

/// The per-CPU increments caused by one completion: exactly [`DONE_ADDS`]
/// pairs, unused ones adding 0. Produced only by [`complete`], so every slot
/// is in range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Done {
    adds: [SlotAdd; DONE_ADDS],
}

impl Done {
    /// The per-CPU increments (their order is of no importance).
    pub fn adds(&self) -> &[SlotAdd; DONE_ADDS] {
        &self.adds
    }

    /// Applies the completion to a snapshot's slots (wrapping add).
    pub fn apply(&self, slots: &mut Slots) {
        for a in self.adds.iter() {
            if let Some(s) = slots.get_mut(a.slot) {
                *s = s.wrapping_add(a.value);
            }
        }
    }
}

/// The slot increments for the completion at `now_ns` of a request that
/// `map` recorded as `started`, `error` when it completed with an error,
/// `busy_ns` what [`BusyStamp::end`] returned for it.
///
/// * the request's time (`now_ns - start_ns`, 0 if the clock seems to go
///   back) goes to `READ_NS`, `WRITE_NS` or `DISCARD_NS`, and also to
///   `FLUSH_NS` when it carried a preflush;
/// * a read or write adds 1 to its latency bucket, a discard to
///   `DISCARD_DONE`, a preflush to `FLUSH_DONE`;
/// * an error adds 1 to `READ_ERR`, `WRITE_ERR` or `DISCARD_ERR`;
/// * `IN_FLIGHT` goes down by one (every request `map` counted in flight);
/// * `IO_TICKS_NS` grows by `busy_ns`.
///
/// An `Other` request only leaves the in-flight count and the busy time.
#[inline]
pub fn complete(started: &Started, now_ns: u64, error: bool, busy_ns: u64) -> Done {
    let ns = now_ns.saturating_sub(started.start_ns);
    let add = |slot, value| SlotAdd { slot, value };
    let none = add(IN_FLIGHT, 0);
    let err = u64::from(error);
    let (time, done, fail) = match started.kind {
        IoKind::Read => (
            add(READ_NS, ns),
            add(LAT_READ + lat_bucket(ns), 1),
            add(READ_ERR, err),
        ),
        IoKind::Write => (
            add(WRITE_NS, ns),
            add(LAT_WRITE + lat_bucket(ns), 1),
            add(WRITE_ERR, err),
        ),
        IoKind::Discard => (
            add(DISCARD_NS, ns),
            add(DISCARD_DONE, 1),
            add(DISCARD_ERR, err),
        ),
        IoKind::Other => (none, none, none),
    };
    let (flush_time, flush_done) = if started.preflush {
        (add(FLUSH_NS, ns), add(FLUSH_DONE, 1))
    } else {
        (none, none)
    };
    Done {
        adds: [
            time,
            done,
            fail,
            flush_time,
            flush_done,
            add(IN_FLIGHT, u64::MAX),
            add(IO_TICKS_NS, busy_ns),
        ],
    }
}

/// The increment of the busy time by `ns` (what [`BusyStamp::start`]
/// returned), for a request's start.
pub fn busy(ns: u64) -> SlotAdd {
    SlotAdd {
        slot: IO_TICKS_NS,
        value: ns,
    }
}

/// The busy time of a device (diskstats field 10, `io_ticks`) with no lock:
/// one stamp per device, moved by compare-and-swap at most once per
/// [`BusyStamp::GRANULARITY_NS`], as the block layer's `update_io_ticks`
/// does once per jiffy.
///
/// At a request's start the time since the stamp counts as busy if requests
/// were in flight; at a completion it always counts. Between two moves of the
/// stamp nothing is added, and the next move adds or drops the whole
/// interval, so the busy time is exact to one granularity per change between
/// idle and busy: an idle gap inside an interval a completion closes counts
/// as busy, and the busy start of an interval that a request arriving at an
/// idle device closes does not count. Like the block layer's `io_ticks`
/// (which does the same per jiffy, 1 to 10 ms), it is exact for a device that
/// stays busy or idle and approximate for one that changes more often than
/// the granularity.
#[derive(Debug, Default)]
pub struct BusyStamp(core::sync::atomic::AtomicU64);

impl BusyStamp {
    /// The stamp moves at most this often (1 ms).
    pub const GRANULARITY_NS: u64 = 1_000_000;

    /// A stamp at time 0.
    pub const fn new() -> BusyStamp {
        BusyStamp(core::sync::atomic::AtomicU64::new(0))
    }

    /// Moves the stamp to `now_ns` if it is at least the granularity older;
    /// returns the interval when this call moved it.
    fn advance(&self, now_ns: u64) -> Option<u64> {
        use core::sync::atomic::Ordering::Relaxed;
        let stamp = self.0.load(Relaxed);
        let elapsed = now_ns.checked_sub(stamp)?;
        if elapsed < Self::GRANULARITY_NS {
            return None;
        }
        self.0
            .compare_exchange(stamp, now_ns, Relaxed, Relaxed)
            .ok()
            .map(|_| elapsed)
    }

    /// At a request's start: the busy nanoseconds to add. `in_flight` (the
    /// requests in flight before this one) is only asked when the stamp moves.
    #[inline]
    pub fn start(&self, now_ns: u64, in_flight: impl FnOnce() -> u64) -> u64 {
        match self.advance(now_ns) {
            Some(elapsed) if in_flight() > 0 => elapsed,
            _ => 0,
        }
    }

    /// At a request's completion: the busy nanoseconds to add.
    #[inline]
    pub fn end(&self, now_ns: u64) -> u64 {
        self.advance(now_ns).unwrap_or(0)
    }
}

// ---------------------------------------------------------------------------
// Counters
// ---------------------------------------------------------------------------

/// A snapshot of the counters of one device (or of the aggregate): the sum of
/// the per-CPU [`Slots`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Counters {
    /// The summed slots, indexed by the slot constants.
    pub slots: Slots,
}

impl Default for Counters {
    fn default() -> Self {
        Self::zero()
    }
}

/// Quotient of two 128-bit values given as `(high, low)` `u64` halves,
/// `0` when the divisor is zero, saturated at `u64::MAX`.
///
/// Plain binary long division on `u64` halves: the kernel build has no `u128`
/// division, and a sysfs read can afford 128 iterations.
fn div_wide(num: (u64, u64), den: (u64, u64)) -> u64 {
    if den == (0, 0) {
        return 0;
    }
    let mut rem: (u64, u64) = (0, 0);
    let mut quot: u64 = 0;
    let mut bit = 128u32;
    while bit > 0 {
        bit -= 1;
        // rem = rem << 1 | next bit of num. rem < den <= 2^65 here, so no bit is lost.
        let next = if bit >= 64 {
            (num.0 >> (bit - 64)) & 1
        } else {
            (num.1 >> bit) & 1
        };
        rem = ((rem.0 << 1) | (rem.1 >> 63), (rem.1 << 1) | next);
        if rem >= den {
            // rem -= den (tuples compare lexicographically: high half first).
            let (lo, borrow) = rem.1.overflowing_sub(den.1);
            let hi = rem.0.wrapping_sub(den.0).wrapping_sub(u64::from(borrow));
            rem = (hi, lo);
            if bit >= 64 {
                return u64::MAX;
            }
            quot |= 1u64 << bit;
        }
    }
    quot
}

/// Sum of two `u64` as `(high, low)` halves of a 128-bit value.
fn add_wide(a: u64, b: u64) -> (u64, u64) {
    let (lo, carry) = a.overflowing_add(b);
    (u64::from(carry), lo)
}

/// The requests in flight from a wrapping sum of per-CPU +1s (at map) and
/// −1s (at completion). The sum is read one CPU after another without a
/// lock, so a request that started on a CPU already read and ended on one
/// not yet read shows as ended but not started, and the sum is "negative"
/// (near 2^64); it means none in flight, so it reads as 0, as the block
/// layer's `part_in_flight()` reads a negative sum.
#[inline]
pub fn in_flight_gauge(sum: u64) -> u64 {
    if sum > i64::MAX as u64 {
        0
    } else {
        sum
    }
}

/// Wrapping sum of `v`.
fn sum_wrapping(v: &[u64]) -> u64 {
    v.iter().fold(0u64, |a, b| a.wrapping_add(*b))
}

/// `floor(bytes / reqs)`, 0 when there were no requests.
fn avg(bytes: u64, reqs: u64) -> u64 {
    bytes.checked_div(reqs).unwrap_or(0)
}

impl Counters {
    /// All counters zero.
    pub const fn zero() -> Self {
        Counters {
            slots: [0; NR_SLOTS],
        }
    }

    /// Counters holding a copy of `slots`.
    pub const fn from_slots(slots: Slots) -> Self {
        Counters { slots }
    }

    /// Adds a snapshot's slots (wrapping add per slot).
    pub fn add_slots(&mut self, s: &Slots) {
        for (d, v) in self.slots.iter_mut().zip(s.iter()) {
            *d = d.wrapping_add(*v);
        }
    }

    /// Adds one per-CPU array, which holds [`Update::adds`] only: the read
    /// and write request counts are derived from its histograms (every read
    /// and write adds 1 to exactly one bucket), whatever its `READ_CNT` and
    /// `WRITE_CNT` slots hold.
    pub fn add_percpu(&mut self, s: &Slots) {
        let mut s = *s;
        s[READ_CNT] = sum_wrapping(s.get(HIST_READ..HIST_READ + NR_BUCKETS).unwrap_or(&[]));
        s[WRITE_CNT] = sum_wrapping(s.get(HIST_WRITE..HIST_WRITE + NR_BUCKETS).unwrap_or(&[]));
        self.add_slots(&s);
    }

    /// Adds another snapshot, e.g. one device into the aggregate (wrapping add per slot).
    pub fn merge(&mut self, o: &Counters) {
        self.add_slots(&o.slots);
    }

    /// What happened since `base`, an earlier snapshot of the same counters
    /// (wrapping subtraction per slot, correct across a counter wrap).
    pub fn since(&self, base: &Counters) -> Counters {
        let mut out = Counters::zero();
        for ((d, now), then) in out
            .slots
            .iter_mut()
            .zip(self.slots.iter())
            .zip(base.slots.iter())
        {
            *d = now.wrapping_sub(*then);
        }
        // A gauge, not a count: what is in flight now.
        out.slots[IN_FLIGHT] = self.slots[IN_FLIGHT];
        out
    }

    /// Number of read requests.
    pub fn read_cnt(&self) -> u64 {
        self.slots[READ_CNT]
    }

    /// Bytes read.
    pub fn read_bytes(&self) -> u64 {
        self.slots[READ_BYTES]
    }

    /// Number of write requests.
    pub fn write_cnt(&self) -> u64 {
        self.slots[WRITE_CNT]
    }

    /// Bytes written.
    pub fn write_bytes(&self) -> u64 {
        self.slots[WRITE_BYTES]
    }

    /// Number of discard requests.
    pub fn discard_cnt(&self) -> u64 {
        self.slots[DISCARD_CNT]
    }

    /// Bytes discarded.
    pub fn discard_bytes(&self) -> u64 {
        self.slots[DISCARD_BYTES]
    }

    /// Number of requests that carried a preflush.
    pub fn flush_cnt(&self) -> u64 {
        self.slots[FLUSH_CNT]
    }

    /// Read plus write requests (wrapping, like the counters themselves).
    pub fn total_cnt(&self) -> u64 {
        self.read_cnt().wrapping_add(self.write_cnt())
    }

    /// Bytes read plus bytes written (wrapping, like the counters themselves).
    pub fn total_bytes(&self) -> u64 {
        self.read_bytes().wrapping_add(self.write_bytes())
    }

    /// Average read size in bytes, rounded down; 0 when there were no reads.
    pub fn read_avg(&self) -> u64 {
        avg(self.read_bytes(), self.read_cnt())
    }

    /// Average write size in bytes, rounded down; 0 when there were no writes.
    pub fn write_avg(&self) -> u64 {
        avg(self.write_bytes(), self.write_cnt())
    }

    /// Average request size over reads and writes: total bytes divided by total
    /// requests, rounded down (not the mean of the two averages); 0 when idle.
    ///
    /// Computed exactly even when a sum exceeds `u64`: the quotient is never
    /// larger than the larger of the two averages, so it always fits.
    pub fn total_avg(&self) -> u64 {
        match (
            self.read_bytes().checked_add(self.write_bytes()),
            self.read_cnt().checked_add(self.write_cnt()),
        ) {
            (Some(bytes), Some(reqs)) => avg(bytes, reqs),
            _ => div_wide(
                add_wide(self.read_bytes(), self.write_bytes()),
                add_wide(self.read_cnt(), self.write_cnt()),
            ),
        }
    }

    /// Reads in histogram bucket `i` (see [`BUCKET_LABELS`]); 0 when `i` is out of range.
    pub fn hist_read(&self, i: usize) -> u64 {
        if i < NR_BUCKETS {
            self.slots.get(HIST_READ + i).copied().unwrap_or(0)
        } else {
            0
        }
    }

    /// Writes in histogram bucket `i` (see [`BUCKET_LABELS`]); 0 when `i` is out of range.
    pub fn hist_write(&self, i: usize) -> u64 {
        if i < NR_BUCKETS {
            self.slots.get(HIST_WRITE + i).copied().unwrap_or(0)
        } else {
            0
        }
    }

    /// Slot `i` of a histogram of `n` buckets starting at `first`; 0 out of range.
    fn bucket_of(&self, first: usize, n: usize, i: usize) -> u64 {
        if i < n {
            self.slots.get(first + i).copied().unwrap_or(0)
        } else {
            0
        }
    }

    /// Completed reads in latency bucket `i` (see [`LAT_LABELS`]); 0 out of range.
    pub fn lat_read(&self, i: usize) -> u64 {
        self.bucket_of(LAT_READ, NR_LAT_BUCKETS, i)
    }

    /// Completed writes in latency bucket `i` (see [`LAT_LABELS`]); 0 out of range.
    pub fn lat_write(&self, i: usize) -> u64 {
        self.bucket_of(LAT_WRITE, NR_LAT_BUCKETS, i)
    }

    /// Completed reads: the sum of the read latency histogram.
    pub fn read_done(&self) -> u64 {
        sum_wrapping(
            self.slots
                .get(LAT_READ..LAT_READ + NR_LAT_BUCKETS)
                .unwrap_or(&[]),
        )
    }

    /// Completed writes: the sum of the write latency histogram.
    pub fn write_done(&self) -> u64 {
        sum_wrapping(
            self.slots
                .get(LAT_WRITE..LAT_WRITE + NR_LAT_BUCKETS)
                .unwrap_or(&[]),
        )
    }

    /// Completed discards.
    pub fn discard_done(&self) -> u64 {
        self.slots[DISCARD_DONE]
    }

    /// Completed requests that carried a preflush.
    pub fn flush_done(&self) -> u64 {
        self.slots[FLUSH_DONE]
    }

    /// Nanoseconds completed reads took, summed.
    pub fn read_ns(&self) -> u64 {
        self.slots[READ_NS]
    }

    /// Nanoseconds completed writes took, summed.
    pub fn write_ns(&self) -> u64 {
        self.slots[WRITE_NS]
    }

    /// Nanoseconds completed discards took, summed.
    pub fn discard_ns(&self) -> u64 {
        self.slots[DISCARD_NS]
    }

    /// Nanoseconds completed requests with a preflush took, summed.
    pub fn flush_ns(&self) -> u64 {
        self.slots[FLUSH_NS]
    }

    /// Reads that completed with an error.
    pub fn read_errors(&self) -> u64 {
        self.slots[READ_ERR]
    }

    /// Writes that completed with an error.
    pub fn write_errors(&self) -> u64 {
        self.slots[WRITE_ERR]
    }

    /// Discards that completed with an error.
    pub fn discard_errors(&self) -> u64 {
        self.slots[DISCARD_ERR]
    }

    /// Requests mapped and not yet completed, never "negative" (see
    /// [`in_flight_gauge`]): the slot itself stays the wrapping sum, so that
    /// sums over devices stay exact.
    pub fn in_flight(&self) -> u64 {
        in_flight_gauge(self.slots[IN_FLIGHT])
    }

    /// Nanoseconds the device was busy (see [`BusyStamp`]).
    pub fn io_ticks_ns(&self) -> u64 {
        self.slots[IO_TICKS_NS]
    }
}

// ---------------------------------------------------------------------------
// Formatting
// ---------------------------------------------------------------------------

/// Writes the `volumes` / `summary` text, byte for byte the format of the
/// earlier modules:
///
/// ```text
/// read:
///  reqs: 176
///  avg size: 4096
/// write:
///  reqs: 7
///  avg size: 1024
/// total:
///  reqs: 183
///  avg size: 3978
/// ```
pub fn write_summary(c: &Counters, w: &mut dyn Write) -> fmt::Result {
    write!(
        w,
        "read:\n reqs: {}\n avg size: {}\nwrite:\n reqs: {}\n avg size: {}\ntotal:\n reqs: {}\n avg size: {}\n",
        c.read_cnt(),
        c.read_avg(),
        c.write_cnt(),
        c.write_avg(),
        c.total_cnt(),
        c.total_avg()
    )
}

/// Number of fields of the `dmsetup status` INFO text.
pub const STATUS_FIELDS: usize = 16;

/// Number of fields the status text had before the latency fields were added.
pub const STATUS_FIELDS_V1: usize = 7;

/// Writes the `dmsetup status` INFO text: sixteen numbers separated by
/// single spaces, no newline:
/// `<read_cnt> <read_bytes> <write_cnt> <write_bytes> <discard_cnt> <discard_bytes> <flush_cnt>`
/// (the seven of version 1.0, unchanged) then
/// `<in_flight> <io_ticks_ms> <read_ms> <write_ms> <discard_ms> <flush_ms> <read_errors> <write_errors> <discard_errors>`
/// (fields 9, 10, 4, 8, 15 and 17 of the `stat` file, then 29 to 31).
pub fn write_status(c: &Counters, w: &mut dyn Write) -> fmt::Result {
    const MS: u64 = 1_000_000;
    write!(
        w,
        "{} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}",
        c.read_cnt(),
        c.read_bytes(),
        c.write_cnt(),
        c.write_bytes(),
        c.discard_cnt(),
        c.discard_bytes(),
        c.flush_cnt(),
        c.in_flight(),
        c.io_ticks_ns() / MS,
        c.read_ns() / MS,
        c.write_ns() / MS,
        c.discard_ns() / MS,
        c.flush_ns() / MS,
        c.read_errors(),
        c.write_errors(),
        c.discard_errors()
    )
}

/// Writes the `histogram` file: one line per bucket,
/// `"<label> <reads> <writes>\n"`, single spaces, no header.
pub fn write_histogram(c: &Counters, w: &mut dyn Write) -> fmt::Result {
    for (i, label) in BUCKET_LABELS.iter().enumerate() {
        writeln!(w, "{} {} {}", label, c.hist_read(i), c.hist_write(i))?;
    }
    Ok(())
}

/// Number of fields of the `stat` file.
pub const STAT_FIELDS: usize = 32;

/// The fields of the `stat` file, in order (1-based numbers in the docs).
///
/// Fields 1 to 17 are those of `/sys/block/<dev>/stat` (Documentation/block/stat.rst),
/// from dmp's counters: requests are counted when dmp maps them, sectors are
/// bytes / 512, times are milliseconds of completed requests, merges are
/// always 0 (dmp sees bios, never merged requests). Field 11 is the sum of
/// the read, write and discard times (a preflush's time is already in its
/// write's). Fields 18 to 32 are dmp's own; new fields are only ever added
/// at the end.
pub fn stat_fields(c: &Counters) -> [u64; STAT_FIELDS] {
    const MS: u64 = 1_000_000;
    let sectors = |bytes: u64| bytes / 512;
    let queue_ns = c
        .read_ns()
        .wrapping_add(c.write_ns())
        .wrapping_add(c.discard_ns());
    [
        c.read_cnt(),
        0,
        sectors(c.read_bytes()),
        c.read_ns() / MS,
        c.write_cnt(),
        0,
        sectors(c.write_bytes()),
        c.write_ns() / MS,
        c.in_flight(),
        c.io_ticks_ns() / MS,
        queue_ns / MS,
        c.discard_cnt(),
        0,
        sectors(c.discard_bytes()),
        c.discard_ns() / MS,
        c.flush_cnt(),
        c.flush_ns() / MS,
        c.read_bytes(),
        c.write_bytes(),
        c.discard_bytes(),
        c.read_ns(),
        c.write_ns(),
        c.discard_ns(),
        c.flush_ns(),
        c.read_done(),
        c.write_done(),
        c.discard_done(),
        c.flush_done(),
        c.read_errors(),
        c.write_errors(),
        c.discard_errors(),
        c.io_ticks_ns(),
    ]
}

/// Writes the `stat` file: the [`STAT_FIELDS`] numbers of [`stat_fields`]
/// separated by single spaces, then a newline. All of them come from one
/// snapshot, so they agree with each other.
pub fn write_stat(c: &Counters, w: &mut dyn Write) -> fmt::Result {
    for (i, v) in stat_fields(c).iter().enumerate() {
        if i > 0 {
            w.write_str(" ")?;
        }
        write!(w, "{}", v)?;
    }
    w.write_str("\n")
}

/// Writes the `latency` file: one line per latency bucket,
/// `"<label> <reads> <writes>\n"` (labels of [`LAT_LABELS`]), single spaces,
/// no header; counts of completed requests.
pub fn write_latency(c: &Counters, w: &mut dyn Write) -> fmt::Result {
    for (i, label) in LAT_LABELS.iter().enumerate() {
        writeln!(w, "{} {} {}", label, c.lat_read(i), c.lat_write(i))?;
    }
    Ok(())
}

/// One statistics file of a dmp device directory (and of `all_devs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatFile {
    /// `read_cnt`: number of read requests.
    ReadCnt,
    /// `write_cnt`: number of write requests.
    WriteCnt,
    /// `total_cnt`: reads plus writes.
    TotalCnt,
    /// `read_avr_bs`: average read size in bytes.
    ReadAvrBs,
    /// `write_avr_bs`: average write size in bytes.
    WriteAvrBs,
    /// `total_avr_bs`: total bytes / total requests.
    TotalAvrBs,
    /// `summary`: the multi-line format of `volumes`.
    Summary,
    /// `read_bytes`: bytes read.
    ReadBytes,
    /// `write_bytes`: bytes written.
    WriteBytes,
    /// `discard_cnt`: number of discard requests.
    DiscardCnt,
    /// `discard_bytes`: bytes discarded.
    DiscardBytes,
    /// `flush_cnt`: number of requests with a preflush.
    FlushCnt,
    /// `histogram`: request size histogram, reads and writes.
    Histogram,
    /// `stat`: every counter on one line, from one snapshot ([`write_stat`]).
    Stat,
    /// `latency`: latency histogram, reads and writes ([`write_latency`]).
    Latency,
}

impl StatFile {
    /// Every statistics file, in a fixed order.
    pub const ALL: [StatFile; 15] = [
        StatFile::ReadCnt,
        StatFile::WriteCnt,
        StatFile::TotalCnt,
        StatFile::ReadAvrBs,
        StatFile::WriteAvrBs,
        StatFile::TotalAvrBs,
        StatFile::Summary,
        StatFile::ReadBytes,
        StatFile::WriteBytes,
        StatFile::DiscardCnt,
        StatFile::DiscardBytes,
        StatFile::FlushCnt,
        StatFile::Histogram,
        StatFile::Stat,
        StatFile::Latency,
    ];

    /// The sysfs file name.
    pub fn name(self) -> &'static str {
        match self {
            StatFile::ReadCnt => "read_cnt",
            StatFile::WriteCnt => "write_cnt",
            StatFile::TotalCnt => "total_cnt",
            StatFile::ReadAvrBs => "read_avr_bs",
            StatFile::WriteAvrBs => "write_avr_bs",
            StatFile::TotalAvrBs => "total_avr_bs",
            StatFile::Summary => "summary",
            StatFile::ReadBytes => "read_bytes",
            StatFile::WriteBytes => "write_bytes",
            StatFile::DiscardCnt => "discard_cnt",
            StatFile::DiscardBytes => "discard_bytes",
            StatFile::FlushCnt => "flush_cnt",
            StatFile::Histogram => "histogram",
            StatFile::Stat => "stat",
            StatFile::Latency => "latency",
        }
    }

    /// The file whose sysfs name is `name`, if any.
    pub fn from_name(name: &str) -> Option<StatFile> {
        StatFile::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// The number a single-value file shows; `None` for the multi-value files.
    pub fn value(self, c: &Counters) -> Option<u64> {
        match self {
            StatFile::ReadCnt => Some(c.read_cnt()),
            StatFile::WriteCnt => Some(c.write_cnt()),
            StatFile::TotalCnt => Some(c.total_cnt()),
            StatFile::ReadAvrBs => Some(c.read_avg()),
            StatFile::WriteAvrBs => Some(c.write_avg()),
            StatFile::TotalAvrBs => Some(c.total_avg()),
            StatFile::ReadBytes => Some(c.read_bytes()),
            StatFile::WriteBytes => Some(c.write_bytes()),
            StatFile::DiscardCnt => Some(c.discard_cnt()),
            StatFile::DiscardBytes => Some(c.discard_bytes()),
            StatFile::FlushCnt => Some(c.flush_cnt()),
            StatFile::Summary | StatFile::Histogram | StatFile::Stat | StatFile::Latency => None,
        }
    }

    /// Writes the file's content: single-value files print the number and
    /// `"\n"`, `summary` is [`write_summary`], `histogram` is [`write_histogram`].
    pub fn render(self, c: &Counters, w: &mut dyn Write) -> fmt::Result {
        match self {
            StatFile::Summary => write_summary(c, w),
            StatFile::Histogram => write_histogram(c, w),
            StatFile::Stat => write_stat(c, w),
            StatFile::Latency => write_latency(c, w),
            _ => match self.value(c) {
                Some(v) => writeln!(w, "{}", v),
                None => Ok(()),
            },
        }
    }
}

/// A [`fmt::Write`] over a byte buffer (e.g. the page a sysfs `show` fills).
///
/// Writing more than fits stores what fits and returns `Err`; nothing is ever
/// written past the end of the buffer.
#[derive(Debug)]
pub struct SliceWriter<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> SliceWriter<'a> {
    /// A writer that starts at the beginning of `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        SliceWriter { buf, pos: 0 }
    }

    /// Number of bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// True when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        self.buf.get(..self.pos).unwrap_or(&[])
    }
}

impl Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let rest = match self.buf.get_mut(self.pos..) {
            Some(rest) => rest,
            None => return Err(fmt::Error),
        };
        let mut n = 0;
        for (d, b) in rest.iter_mut().zip(s.as_bytes()) {
            *d = *b;
            n += 1;
        }
        self.pos += n;
        if n == s.len() {
            Ok(())
        } else {
            Err(fmt::Error)
        }
    }
}

// ---------------------------------------------------------------------------
// Input from user space (kernel side)
// ---------------------------------------------------------------------------

/// Input written to a `reset` file that is not `1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputError {
    /// Anything but `"1"` or `"1\n"`.
    Invalid,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Invalid => f.write_str("invalid value; write 1 to reset the counters"),
        }
    }
}

/// Parses what was written to a `reset` file: exactly `b"1"` or `b"1\n"`.
pub fn parse_reset(input: &[u8]) -> Result<(), InputError> {
    match input {
        b"1" | b"1\n" => Ok(()),
        _ => Err(InputError::Invalid),
    }
}

/// A `dmsetup message` understood by the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Message {
    /// `reset`: zero this device's counters.
    Reset,
}

/// A `dmsetup message` that was not understood.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageError {
    /// No words.
    Empty,
    /// The first word is not a known message.
    Unknown,
    /// A known message followed by extra words.
    TooManyArgs,
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageError::Empty => "empty message; the only message is: reset",
            MessageError::Unknown => "unknown message; the only message is: reset",
            MessageError::TooManyArgs => "message reset takes no arguments",
        })
    }
}

/// Parses the words of a `dmsetup message`: exactly `reset`.
pub fn parse_message(args: &[&[u8]]) -> Result<Message, MessageError> {
    match args {
        [] => Err(MessageError::Empty),
        [b"reset"] => Ok(Message::Reset),
        [b"reset", ..] => Err(MessageError::TooManyArgs),
        _ => Err(MessageError::Unknown),
    }
}

// ---------------------------------------------------------------------------
// Parsing the sysfs text (host side)
// ---------------------------------------------------------------------------

/// Why sysfs text could not be parsed. Line numbers start at 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The text does not end with a newline (or has one where none belongs).
    Newline,
    /// The text has `found` lines where `expected` were due.
    LineCount {
        /// Lines the format has.
        expected: usize,
        /// Lines the text has.
        found: usize,
    },
    /// Line `line` is not `expected`.
    Line {
        /// Line number.
        line: usize,
        /// What the line should look like.
        expected: &'static str,
    },
    /// A number is missing, has something but decimal digits, or exceeds `u64`.
    Number {
        /// Line number.
        line: usize,
    },
    /// The text has `found` numbers where `expected` were due.
    FieldCount {
        /// Numbers the format has.
        expected: usize,
        /// Numbers the text has.
        found: usize,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Newline => f.write_str("the text does not end with exactly one newline"),
            ParseError::LineCount { expected, found } => {
                write!(f, "expected {} lines, found {}", expected, found)
            }
            ParseError::Line { line, expected } => {
                write!(f, "line {}: expected \"{}\"", line, expected)
            }
            ParseError::Number { line } => {
                write!(
                    f,
                    "line {}: not a decimal number that fits in 64 bits",
                    line
                )
            }
            ParseError::FieldCount { expected, found } => {
                write!(f, "expected {} numbers, found {}", expected, found)
            }
        }
    }
}

/// Parses a non-empty string of ASCII decimal digits (no sign, no spaces).
fn parse_digits(s: &str, line: usize) -> Result<u64, ParseError> {
    if s.is_empty() {
        return Err(ParseError::Number { line });
    }
    let mut v: u64 = 0;
    for b in s.bytes() {
        if !b.is_ascii_digit() {
            return Err(ParseError::Number { line });
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
            .ok_or(ParseError::Number { line })?;
    }
    Ok(v)
}

/// Strips the one final newline the sysfs files end with.
fn strip_final_newline(text: &str) -> Result<&str, ParseError> {
    text.strip_suffix('\n').ok_or(ParseError::Newline)
}

/// Parses a single-value file: decimal digits and a newline (`"183\n"`).
pub fn parse_u64_line(text: &str) -> Result<u64, ParseError> {
    let body = strip_final_newline(text)?;
    if body.contains('\n') {
        return Err(ParseError::Newline);
    }
    parse_digits(body, 1)
}

/// The numbers of a `volumes` / `summary` file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Read requests.
    pub read_reqs: u64,
    /// Average read size in bytes.
    pub read_avg: u64,
    /// Write requests.
    pub write_reqs: u64,
    /// Average write size in bytes.
    pub write_avg: u64,
    /// Read plus write requests.
    pub total_reqs: u64,
    /// Total bytes / total requests.
    pub total_avg: u64,
}

impl Summary {
    /// The summary that [`write_summary`] prints for `c`.
    pub fn of(c: &Counters) -> Summary {
        Summary {
            read_reqs: c.read_cnt(),
            read_avg: c.read_avg(),
            write_reqs: c.write_cnt(),
            write_avg: c.write_avg(),
            total_reqs: c.total_cnt(),
            total_avg: c.total_avg(),
        }
    }
}

/// The lines of the summary format: `(fixed prefix, takes a number)`.
const SUMMARY_LINES: [(&str, bool); 9] = [
    ("read:", false),
    (" reqs: ", true),
    (" avg size: ", true),
    ("write:", false),
    (" reqs: ", true),
    (" avg size: ", true),
    ("total:", false),
    (" reqs: ", true),
    (" avg size: ", true),
];

/// What a summary line should look like, for error messages.
const SUMMARY_EXPECTED: [&str; 9] = [
    "read:",
    " reqs: <number>",
    " avg size: <number>",
    "write:",
    " reqs: <number>",
    " avg size: <number>",
    "total:",
    " reqs: <number>",
    " avg size: <number>",
];

/// Parses a `volumes` / `summary` file, strictly in the format of [`write_summary`].
pub fn parse_summary(text: &str) -> Result<Summary, ParseError> {
    let body = strip_final_newline(text)?;
    let found = body.split('\n').count();
    if found != SUMMARY_LINES.len() {
        return Err(ParseError::LineCount {
            expected: SUMMARY_LINES.len(),
            found,
        });
    }
    let mut values = [0u64; 6];
    let mut nvalues = 0;
    for (idx, ((line, (prefix, numeric)), expected)) in body
        .split('\n')
        .zip(SUMMARY_LINES.iter())
        .zip(SUMMARY_EXPECTED.iter())
        .enumerate()
    {
        let lineno = idx + 1;
        if *numeric {
            let rest = line.strip_prefix(prefix).ok_or(ParseError::Line {
                line: lineno,
                expected,
            })?;
            let v = parse_digits(rest, lineno)?;
            if let Some(slot) = values.get_mut(nvalues) {
                *slot = v;
            }
            nvalues += 1;
        } else if line != *prefix {
            return Err(ParseError::Line {
                line: lineno,
                expected,
            });
        }
    }
    let [read_reqs, read_avg, write_reqs, write_avg, total_reqs, total_avg] = values;
    Ok(Summary {
        read_reqs,
        read_avg,
        write_reqs,
        write_avg,
        total_reqs,
        total_avg,
    })
}

/// Parses a `histogram` file into `(reads, writes)` per bucket, strictly in the
/// format of [`write_histogram`] (labels checked, in order).
pub fn parse_histogram(text: &str) -> Result<[(u64, u64); NR_BUCKETS], ParseError> {
    parse_labelled(text, &BUCKET_LABELS)
}

/// Parses `N` lines `"<label> <reads> <writes>"` with the labels `labels`, in order.
fn parse_labelled<const N: usize>(
    text: &str,
    labels: &[&str; N],
) -> Result<[(u64, u64); N], ParseError> {
    let body = strip_final_newline(text)?;
    let found = body.split('\n').count();
    if found != N {
        return Err(ParseError::LineCount { expected: N, found });
    }
    let mut out = [(0u64, 0u64); N];
    for (idx, ((line, label), slot)) in body
        .split('\n')
        .zip(labels.iter())
        .zip(out.iter_mut())
        .enumerate()
    {
        let lineno = idx + 1;
        let mut parts = line.splitn(3, ' ');
        if parts.next() != Some(*label) {
            return Err(ParseError::Line {
                line: lineno,
                expected: "<bucket label> <reads> <writes>, labels in order",
            });
        }
        let reads = parse_digits(parts.next().unwrap_or(""), lineno)?;
        let writes = parse_digits(parts.next().unwrap_or(""), lineno)?;
        *slot = (reads, writes);
    }
    Ok(out)
}

/// The numbers of the `dmsetup status` INFO text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Read requests.
    pub read_cnt: u64,
    /// Bytes read.
    pub read_bytes: u64,
    /// Write requests.
    pub write_cnt: u64,
    /// Bytes written.
    pub write_bytes: u64,
    /// Discard requests.
    pub discard_cnt: u64,
    /// Bytes discarded.
    pub discard_bytes: u64,
    /// Requests with a preflush.
    pub flush_cnt: u64,
    /// The fields after the first seven; `None` from a module that has
    /// only those.
    pub latency: Option<StatusLatency>,
}

/// The status fields 8 to 16 (see [`write_status`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusLatency {
    /// Requests in flight.
    pub in_flight: u64,
    /// Milliseconds busy.
    pub io_ticks_ms: u64,
    /// Milliseconds completed reads took.
    pub read_ms: u64,
    /// Milliseconds completed writes took.
    pub write_ms: u64,
    /// Milliseconds completed discards took.
    pub discard_ms: u64,
    /// Milliseconds completed requests with a preflush took.
    pub flush_ms: u64,
    /// Reads completed with an error.
    pub read_errors: u64,
    /// Writes completed with an error.
    pub write_errors: u64,
    /// Discards completed with an error.
    pub discard_errors: u64,
}

impl Status {
    /// The status that [`write_status`] prints for `c`.
    pub fn of(c: &Counters) -> Status {
        const MS: u64 = 1_000_000;
        Status {
            read_cnt: c.read_cnt(),
            read_bytes: c.read_bytes(),
            write_cnt: c.write_cnt(),
            write_bytes: c.write_bytes(),
            discard_cnt: c.discard_cnt(),
            discard_bytes: c.discard_bytes(),
            flush_cnt: c.flush_cnt(),
            latency: Some(StatusLatency {
                in_flight: c.in_flight(),
                io_ticks_ms: c.io_ticks_ns() / MS,
                read_ms: c.read_ns() / MS,
                write_ms: c.write_ns() / MS,
                discard_ms: c.discard_ns() / MS,
                flush_ms: c.flush_ns() / MS,
                read_errors: c.read_errors(),
                write_errors: c.write_errors(),
                discard_errors: c.discard_errors(),
            }),
        }
    }
}

/// Splits one line of single-space separated decimal numbers into exactly `N`
/// values (one trailing newline tolerated when `newline` is false, required
/// when it is true).
fn parse_fields<const N: usize>(text: &str, newline: bool) -> Result<[u64; N], ParseError> {
    let body = if newline {
        strip_final_newline(text)?
    } else {
        text.strip_suffix('\n').unwrap_or(text)
    };
    if body.contains('\n') {
        return Err(ParseError::Newline);
    }
    let found = body.split(' ').count();
    if found != N {
        return Err(ParseError::FieldCount { expected: N, found });
    }
    let mut v = [0u64; N];
    for (field, slot) in body.split(' ').zip(v.iter_mut()) {
        *slot = parse_digits(field, 1)?;
    }
    Ok(v)
}

/// Parses the `dmsetup status` INFO text of a dmp target as [`write_status`]
/// writes it: sixteen numbers separated by single spaces, or the first seven
/// only (dmp 1.0). One trailing newline is tolerated (as when the text is
/// read from a line of output).
pub fn parse_status(text: &str) -> Result<Status, ParseError> {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let found = body.split(' ').count();
    let (head, latency) = if found == STATUS_FIELDS_V1 {
        (parse_fields::<STATUS_FIELDS_V1>(text, false)?, None)
    } else {
        let v = parse_fields::<STATUS_FIELDS>(text, false)?;
        let [a, b, c, d, e, f, g, in_flight, io_ticks_ms, read_ms, write_ms, discard_ms, flush_ms, read_errors, write_errors, discard_errors] =
            v;
        (
            [a, b, c, d, e, f, g],
            Some(StatusLatency {
                in_flight,
                io_ticks_ms,
                read_ms,
                write_ms,
                discard_ms,
                flush_ms,
                read_errors,
                write_errors,
                discard_errors,
            }),
        )
    };
    let [read_cnt, read_bytes, write_cnt, write_bytes, discard_cnt, discard_bytes, flush_cnt] =
        head;
    Ok(Status {
        read_cnt,
        read_bytes,
        write_cnt,
        write_bytes,
        discard_cnt,
        discard_bytes,
        flush_cnt,
        latency,
    })
}

/// Parses a `stat` file, strictly as [`write_stat`] writes it: exactly
/// [`STAT_FIELDS`] numbers separated by single spaces and one newline.
/// Field `n` of the documentation is element `n - 1`.
pub fn parse_stat(text: &str) -> Result<[u64; STAT_FIELDS], ParseError> {
    parse_fields::<STAT_FIELDS>(text, true)
}

/// Parses a `latency` file into `(reads, writes)` per bucket, strictly in the
/// format of [`write_latency`] (labels checked, in order).
pub fn parse_latency(text: &str) -> Result<[(u64, u64); NR_LAT_BUCKETS], ParseError> {
    parse_labelled(text, &LAT_LABELS)
}
