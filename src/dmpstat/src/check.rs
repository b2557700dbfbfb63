//! `dmpstat check`: dmp's counters against the block layer's `/sys/block/dm-N/stat`,
//! exact on an idle device and bounded on a busy one.
//!
//! # Why a bracket
//!
//! dmp counts a request (count and bytes) in its `map`; the device-mapper
//! core (drivers/md/dm.c) starts accounting the bio right after `map`
//! returns (`__map_bio` → `dm_submit_bio_remap` → `dm_start_io_acct`, which
//! only raises the in-flight count) and adds it to the I/O and sector
//! fields of `/sys/block/dm-N/stat` when it ends (`bdev_end_io_acct`),
//! after dmp's completion. So for every compared field, at any instant,
//! the block layer's value `D` is at most dmp's count `S`, and once the
//! requests dmp counted have ended, `D` has caught up. Both only grow
//! (until a reset of dmp's counters).
//!
//! `check` therefore reads `D1` (`dm-N/stat`), then dmp's `S` (its `stat`
//! file: one snapshot), then `D2` (`dm-N/stat` again, re-read with short
//! sleeps until `S ≤ D2` or [`SETTLE_TRIES`] tries) and requires
//! `D1 ≤ S ≤ D2` for each field. When the device was idle (`D1 == D2`,
//! nothing in flight) the bracket is a single number: `S == D`, exact as
//! before. The same holds for dmp's completion counts (`read_done`, ...),
//! which are counted before the dm core's end accounting too.
//!
//! The aggregate is bracketed the same way: the sum of the block layer's
//! files before and after `all_devs`, and `all_devs` read before and after
//! the per-device counters whose sum it must equal.
//!
//! # Checks inside one `stat` snapshot
//!
//! Exact at any time: the fields that `dmp_stats::stat_fields` derives from
//! others of the same snapshot (milliseconds from nanoseconds, sectors from
//! bytes, merges 0, field 11 from fields 21–23).
//!
//! Exact only on an idle device: in flight 0, and every counted read, write
//! and discard completed (`read_done == read_cnt`, ...). Under load these
//! relations (`done ≤ count`, `in_flight ≥ Σ(count − done)`) are *not*
//! checked: the kernel sums its per-CPU counters one CPU after another
//! without a lock, so a request that starts on a CPU already summed and
//! ends on one not yet summed is seen ended but not started; `in_flight`
//! also counts requests of other kinds that have no count of their own. A
//! reset with requests in flight leaves those requests' completions
//! counted but not their start, which also breaks the idle relations.
//!
//! # When dmp does not time requests
//!
//! With the module parameter `latency` off (`latency=0`), dmp counts each
//! request when it maps it and never sees it end: its completion counts,
//! times, errors, in-flight gauge and busy time stay 0 and mean nothing.
//! `check` then compares only what dmp counts (counts and bytes, the
//! aggregate's sums, `volumes`, the derived fields of `stat`) and says so in
//! one line ([`UNTIMED`]); comparing a completion count of 0 with the block
//! layer's would report a difference that is no fault.

use std::thread::sleep;
use std::time::Duration;

use dmp_stats::{Counters, Summary, STAT_FIELDS};

use crate::error::{Error, Result};
use crate::sysfs::{field, DiskStats, Ext, Reading, Sysfs, Target, SECTOR};

/// How many times `dm-N/stat` is re-read after dmp's snapshot, at most,
/// waiting for the block layer to account what dmp already counted.
pub const SETTLE_TRIES: u32 = 12;

/// The wait before re-read `i` (0-based): 1 ms doubling to 256 ms, about
/// 1.3 s in all.
pub fn settle_delay(i: u32) -> Duration {
    Duration::from_millis(1u64 << i.min(8))
}

/// One number compared with its counterpart, or with a range of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pair {
    /// What is compared (dmp's sysfs file name, or the `volumes` line).
    pub what: &'static str,
    /// Where the first value comes from (`dmp`, `volumes`).
    pub dmp_label: &'static str,
    /// The first value.
    pub dmp: u64,
    /// Where the second value comes from (`block layer`, `all_devs`).
    pub other_label: &'static str,
    /// The second value read before the first one.
    pub lo: u64,
    /// The second value read after the first one (equal to `lo` when it did
    /// not change, or for an exact comparison).
    pub hi: u64,
    /// Exactly which file and field the second value is.
    pub source: String,
}

impl Pair {
    /// An exact comparison.
    pub fn exact(
        what: &'static str,
        dmp_label: &'static str,
        dmp: u64,
        other_label: &'static str,
        other: u64,
        source: String,
    ) -> Pair {
        Pair {
            what,
            dmp_label,
            dmp,
            other_label,
            lo: other,
            hi: other,
            source,
        }
    }

    /// True when the first value lies in `[lo, hi]` (equals it when `lo == hi`).
    pub fn ok(&self) -> bool {
        self.lo <= self.dmp && self.dmp <= self.hi
    }

    /// True when the comparison is a range, not one number.
    pub fn bounded(&self) -> bool {
        self.lo != self.hi
    }

    /// How far outside `[lo, hi]` the first value is (0 inside).
    pub fn outside_by(&self) -> i128 {
        let v = i128::from(self.dmp);
        if v < i128::from(self.lo) {
            v - i128::from(self.lo)
        } else if v > i128::from(self.hi) {
            v - i128::from(self.hi)
        } else {
            0
        }
    }
}

/// The outcome for one device or the aggregate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// `dm-1 (dmp1)` or `all_devs`.
    pub label: String,
    /// Every comparison made.
    pub pairs: Vec<Pair>,
    /// What could not be compared.
    pub notes: Vec<String>,
}

impl Outcome {
    /// True when every compared value is equal, or within its bounds.
    pub fn ok(&self) -> bool {
        self.pairs.iter().all(Pair::ok)
    }

    /// True when some comparison was a range (I/O while reading).
    pub fn busy(&self) -> bool {
        self.pairs.iter().any(Pair::bounded)
    }
}

/// Compares dmp's counters with diskstats fields read before (`d1`) and
/// after (`d2`) them; `stat` names the file, or the sum.
///
/// read_cnt = field 1, read_bytes = field 3 × 512, write_cnt = field 5,
/// write_bytes = field 7 × 512, discard_cnt = field 12, discard_bytes =
/// field 14 × 512; with dmp's `stat` file also read_done = field 1,
/// write_done = field 5, discard_done = field 12.
pub fn compare(
    d1: &DiskStats,
    c: &Counters,
    ext: Option<&Ext>,
    d2: &DiskStats,
    stat: &str,
) -> (Vec<Pair>, Vec<String>) {
    let pair = |what, dmp, field: &str, lo, hi| Pair {
        what,
        dmp_label: "dmp",
        dmp,
        other_label: "block layer",
        lo,
        hi,
        source: format!("{field} of {stat}"),
    };
    let bytes = |sectors: u64| sectors.wrapping_mul(SECTOR);
    let mut pairs = vec![
        pair("read_cnt", c.read_cnt(), "field 1", d1.reads, d2.reads),
        pair(
            "read_bytes",
            c.read_bytes(),
            "field 3 x 512",
            bytes(d1.read_sectors),
            bytes(d2.read_sectors),
        ),
    ];
    if let Some(e) = ext {
        pairs.push(pair(
            "read_done",
            e.read_done,
            "field 1",
            d1.reads,
            d2.reads,
        ));
    }
    pairs.push(pair(
        "write_cnt",
        c.write_cnt(),
        "field 5",
        d1.writes,
        d2.writes,
    ));
    pairs.push(pair(
        "write_bytes",
        c.write_bytes(),
        "field 7 x 512",
        bytes(d1.write_sectors),
        bytes(d2.write_sectors),
    ));
    if let Some(e) = ext {
        pairs.push(pair(
            "write_done",
            e.write_done,
            "field 5",
            d1.writes,
            d2.writes,
        ));
    }
    let mut notes = Vec::new();
    match (d1.discards, d2.discards) {
        (Some((n1, s1)), Some((n2, s2))) => {
            pairs.push(pair("discard_cnt", c.discard_cnt(), "field 12", n1, n2));
            pairs.push(pair(
                "discard_bytes",
                c.discard_bytes(),
                "field 14 x 512",
                bytes(s1),
                bytes(s2),
            ));
            if let Some(e) = ext {
                pairs.push(pair("discard_done", e.discard_done, "field 12", n1, n2));
            }
        }
        _ => notes.push(format!(
            "{stat} has no discard fields (kernel before 4.18): discards not compared"
        )),
    }
    (pairs, notes)
}

/// True when the block layer saw nothing happen between two readings and
/// had nothing in flight.
pub fn idle(d1: &DiskStats, d2: &DiskStats) -> bool {
    d1 == d2 && d2.in_flight == 0
}

/// The checks inside one `stat` line: the fields derived from others
/// (always exact) and, when `idle`, that nothing is in flight and every
/// counted read, write and discard completed.
pub fn internal(f: &[u64; STAT_FIELDS], idle: bool, file: &str) -> Vec<Pair> {
    const MS: u64 = 1_000_000;
    let at = |n| field(f, n);
    let src = || format!("fields of {file}");
    let derived: [(&'static str, &'static str, u64, &'static str, u64); 12] = [
        ("read merges", "field 2", at(2), "always", 0),
        ("write merges", "field 6", at(6), "always", 0),
        ("discard merges", "field 13", at(13), "always", 0),
        (
            "read sectors",
            "field 3",
            at(3),
            "field 18 / 512",
            at(18) / SECTOR,
        ),
        (
            "write sectors",
            "field 7",
            at(7),
            "field 19 / 512",
            at(19) / SECTOR,
        ),
        (
            "discard sectors",
            "field 14",
            at(14),
            "field 20 / 512",
            at(20) / SECTOR,
        ),
        ("read ms", "field 4", at(4), "field 21 / 10^6", at(21) / MS),
        ("write ms", "field 8", at(8), "field 22 / 10^6", at(22) / MS),
        (
            "discard ms",
            "field 15",
            at(15),
            "field 23 / 10^6",
            at(23) / MS,
        ),
        (
            "flush ms",
            "field 17",
            at(17),
            "field 24 / 10^6",
            at(24) / MS,
        ),
        (
            "busy ms",
            "field 10",
            at(10),
            "field 32 / 10^6",
            at(32) / MS,
        ),
        (
            "queue ms",
            "field 11",
            at(11),
            "(fields 21 + 22 + 23) / 10^6",
            at(21).wrapping_add(at(22)).wrapping_add(at(23)) / MS,
        ),
    ];
    let mut pairs: Vec<Pair> = derived
        .into_iter()
        .map(|(what, a, v, b, w)| Pair::exact(what, a, v, b, w, src()))
        .collect();
    if idle {
        let idle_pairs: [(&'static str, &'static str, u64, &'static str, u64); 4] = [
            ("in flight when idle", "field 9", at(9), "idle device", 0),
            (
                "reads completed when idle",
                "field 25",
                at(25),
                "field 1",
                at(1),
            ),
            (
                "writes completed when idle",
                "field 26",
                at(26),
                "field 5",
                at(5),
            ),
            (
                "discards completed when idle",
                "field 27",
                at(27),
                "field 12",
                at(12),
            ),
        ];
        pairs.extend(
            idle_pairs
                .into_iter()
                .map(|(what, a, v, b, w)| Pair::exact(what, a, v, b, w, src())),
        );
    }
    pairs
}

/// A named counter of `T`.
type Field<T> = (&'static str, fn(&T) -> u64);

/// Compares the sum of the devices' counters with `all_devs` read before
/// (`a1`) and after (`a2`) them: every counter of the devices, the time,
/// completion and error counters too when the module has the `stat` file
/// and times requests (`timed`).
pub fn compare_sum(a1: &Reading, sum: &Reading, a2: &Reading, timed: bool) -> Vec<Pair> {
    let pair = |what, dmp, lo, hi| Pair {
        what,
        dmp_label: "devices",
        dmp,
        other_label: "all_devs",
        lo,
        hi,
        source: "the sum of the dmp devices' counters against all_devs read before and after them"
            .to_string(),
    };
    let count: [Field<Counters>; 7] = [
        ("read_cnt", Counters::read_cnt),
        ("read_bytes", Counters::read_bytes),
        ("write_cnt", Counters::write_cnt),
        ("write_bytes", Counters::write_bytes),
        ("discard_cnt", Counters::discard_cnt),
        ("discard_bytes", Counters::discard_bytes),
        ("flush_cnt", Counters::flush_cnt),
    ];
    let mut pairs: Vec<Pair> = count
        .into_iter()
        .map(|(what, get)| {
            pair(
                what,
                get(&sum.counters),
                get(&a1.counters),
                get(&a2.counters),
            )
        })
        .collect();
    if let (true, Some(e1), Some(s), Some(e2)) = (timed, a1.ext(), sum.ext(), a2.ext()) {
        let ext: [Field<Ext>; 12] = [
            ("read_ns", |e| e.read_ns),
            ("write_ns", |e| e.write_ns),
            ("discard_ns", |e| e.discard_ns),
            ("flush_ns", |e| e.flush_ns),
            ("read_done", |e| e.read_done),
            ("write_done", |e| e.write_done),
            ("discard_done", |e| e.discard_done),
            ("flush_done", |e| e.flush_done),
            ("read_errors", |e| e.read_errors),
            ("write_errors", |e| e.write_errors),
            ("discard_errors", |e| e.discard_errors),
            ("io_ticks_ns", |e| e.io_ticks_ns),
        ];
        pairs.extend(
            ext.into_iter()
                .map(|(what, get)| pair(what, get(&s), get(&e1), get(&e2))),
        );
    }
    pairs
}

/// Compares the legacy `volumes` file with the `all_devs` counters read
/// before (`a1`) and after (`a2`) it. The request counts must lie between
/// the two; an average size between the byte totals before and after
/// divided by the file's own request count (the file comes from one
/// snapshot). When `all_devs` did not change, everything is exact.
pub fn compare_volumes(v: &Summary, a1: &Counters, a2: &Counters) -> Vec<Pair> {
    let s1 = Summary::of(a1);
    let s2 = Summary::of(a2);
    let pair = |what, dmp, lo, hi| Pair {
        what,
        dmp_label: "volumes",
        dmp,
        other_label: "all_devs",
        lo,
        hi,
        source: "computed from the all_devs files".to_string(),
    };
    let avg = |bytes: u64, reqs: u64| bytes.checked_div(reqs).unwrap_or(0);
    let avg_bounds = |exact1: u64, exact2: u64, b1: u64, b2: u64, reqs: u64| {
        if a1 == a2 {
            (exact1, exact2)
        } else {
            (avg(b1, reqs), avg(b2, reqs))
        }
    };
    let (r1, r2) = avg_bounds(
        s1.read_avg,
        s2.read_avg,
        a1.read_bytes(),
        a2.read_bytes(),
        v.read_reqs,
    );
    let (w1, w2) = avg_bounds(
        s1.write_avg,
        s2.write_avg,
        a1.write_bytes(),
        a2.write_bytes(),
        v.write_reqs,
    );
    let (t1, t2) = avg_bounds(
        s1.total_avg,
        s2.total_avg,
        a1.total_bytes(),
        a2.total_bytes(),
        v.total_reqs,
    );
    vec![
        pair("volumes read reqs", v.read_reqs, s1.read_reqs, s2.read_reqs),
        pair("volumes read avg size", v.read_avg, r1, r2),
        pair(
            "volumes write reqs",
            v.write_reqs,
            s1.write_reqs,
            s2.write_reqs,
        ),
        pair("volumes write avg size", v.write_avg, w1, w2),
        pair(
            "volumes total reqs",
            v.total_reqs,
            s1.total_reqs,
            s2.total_reqs,
        ),
        pair("volumes total avg size", v.total_avg, t1, t2),
    ]
}

/// Reads `after` again with growing waits (at most [`SETTLE_TRIES`]
/// times) until `judge` says the outcome is fine; returns the last outcome.
fn settle<T>(
    mut after: impl FnMut() -> Result<T>,
    judge: impl Fn(&T) -> Outcome,
) -> Result<Outcome> {
    let mut o = judge(&after()?);
    for i in 0..SETTLE_TRIES {
        if o.ok() {
            break;
        }
        sleep(settle_delay(i));
        o = judge(&after()?);
    }
    Ok(o)
}

/// Sums the block layer's files of `devices`.
fn sum_diskstats(sys: &Sysfs, devices: &[String]) -> Result<DiskStats> {
    let mut sum: Option<DiskStats> = None;
    for k in devices {
        let d = sys.read_diskstats(k)?;
        match &mut sum {
            Some(s) => s.add(&d),
            None => sum = Some(d),
        }
    }
    Ok(sum.unwrap_or_default())
}

fn read(sys: &Sysfs, t: &Target) -> Result<Reading> {
    sys.read_target(t, Default::default())
}

/// Checks one device: block layer, dmp, block layer again; completions only
/// when dmp times requests (`timed`).
fn check_device(sys: &Sysfs, k: &str, timed: bool) -> Result<Outcome> {
    let t = Target::Device(k.to_string());
    let d1 = sys.read_diskstats(k)?;
    let s = read(sys, &t)?;
    let info = sys.device_info(k);
    let stat = format!("/sys/block/{k}/stat");
    let file = format!("{}/stat", sys.target_dir(&t).display());
    let ext = s.ext().filter(|_| timed);
    settle(
        || sys.read_diskstats(k),
        |d2| {
            let (mut pairs, mut notes) = compare(&d1, &s.counters, ext.as_ref(), d2, &stat);
            match &s.stat {
                Some(f) => pairs.extend(internal(f, timed && idle(&d1, d2), &file)),
                None => notes.push(
                    "the module has no stat file (older than dmpstat): \
                     completions, times and in-flight not checked"
                        .to_string(),
                ),
            }
            Outcome {
                label: format!("{} ({})", k, info.name),
                pairs,
                notes,
            }
        },
    )
}

/// Checks the aggregate: the block layer's sum, all_devs, the volumes file
/// and the devices' sum, all_devs again, the block layer's sum again;
/// completions only when dmp times requests (`timed`).
fn check_aggregate(sys: &Sysfs, timed: bool) -> Result<Outcome> {
    let devices = sys.list_devices()?;
    if devices.is_empty() {
        return Err(Error::NoDevices {
            what: "compare the aggregate with",
        });
    }
    let d1 = sum_diskstats(sys, &devices)?;
    let a1 = read(sys, &Target::Aggregate)?;
    let volumes = sys.read_volumes()?;
    let mut sum: Option<Reading> = None;
    for k in &devices {
        let r = read(sys, &Target::Device(k.clone()))?;
        match &mut sum {
            None => sum = Some(r),
            Some(s) => {
                s.counters.merge(&r.counters);
                s.stat = match (s.stat, r.stat) {
                    (Some(mut a), Some(b)) => {
                        for (x, y) in a.iter_mut().zip(b.iter()) {
                            *x = x.wrapping_add(*y);
                        }
                        Some(a)
                    }
                    _ => None,
                };
            }
        }
    }
    let sum = sum.unwrap_or_else(|| Reading::zero_like(&a1));
    let a2 = read(sys, &Target::Aggregate)?;
    let source = format!(
        "the sum of /sys/block/dm-N/stat over {} dmp device{}",
        devices.len(),
        if devices.len() == 1 { "" } else { "s" }
    );
    let file = format!("{}/stat", sys.target_dir(&Target::Aggregate).display());
    let ext = a1.ext().filter(|_| timed);
    settle(
        || sum_diskstats(sys, &devices),
        |d2| {
            let (mut pairs, notes) = compare(&d1, &a1.counters, ext.as_ref(), d2, &source);
            if let Some(f) = &a1.stat {
                pairs.extend(internal(f, timed && idle(&d1, d2) && a1 == a2, &file));
            }
            pairs.extend(compare_volumes(&volumes, &a1.counters, &a2.counters));
            pairs.extend(compare_sum(&a1, &sum, &a2, timed));
            Outcome {
                label: "all_devs".to_string(),
                pairs,
                notes,
            }
        },
    )
}

/// Checks the targets; with none, every dmp device and the aggregate.
/// `timed`: dmp times requests (its parameter `latency` is on), so its
/// completion counts are compared too.
pub fn run(sys: &Sysfs, targets: &[Target], timed: bool) -> Result<Vec<Outcome>> {
    let targets: Vec<Target> = if targets.is_empty() {
        let devices = sys.list_devices()?;
        if devices.is_empty() {
            return Err(Error::NoDevices { what: "check" });
        }
        let mut t: Vec<Target> = devices.into_iter().map(Target::Device).collect();
        t.push(Target::Aggregate);
        t
    } else {
        targets.to_vec()
    };
    let mut out = Vec::new();
    for t in &targets {
        out.push(match t {
            Target::Device(k) => check_device(sys, k, timed)?,
            Target::Aggregate => check_aggregate(sys, timed)?,
        });
    }
    Ok(out)
}

/// The one line `check` prints (on standard error) when dmp does not time
/// requests.
pub const UNTIMED: &str = "completions, in-flight and times not compared: dmp does not time \
requests (module parameter latency=0); to compare them too, reload it with \
`modprobe -r dmp && modprobe dmp latency=1` (or set `options dmp latency=1` in /etc/modprobe.d/)";

/// How a busy check is bounded; printed with a result that needed bounds.
pub const BOUNDED: &str = "within bounds (busy: each counter lies between the block layer's \
values read just before and just after it)";

/// Why dmp's numbers may legitimately differ; printed when something differs.
pub const EXPLANATION: &str = "\
note: /sys/block/dm-N/stat counts every bio since the device was created and is never reset,
  so a device whose dmp statistics were reset (dmpstat reset, writing 1 to a reset file,
  dmsetup message NAME 0 reset) cannot match it; nor can the aggregate after a global reset.
  Under load each dmp counter must lie between the block layer's values read just before and
  just after it (the block layer counts a request when it ends, dmp when it maps it); dmpstat
  re-reads the block layer for about a second for it to catch up.
  Other legitimate causes: a reset or a table reload with I/O in flight, a table with several
  dmp segments or other targets (an empty flush reaches every segment), and dmp devices
  removed since the last global reset (the aggregate may still count them).";

/// The text report.
pub fn render(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        if o.ok() && !o.busy() {
            s.push_str(&format!("{}: equal\n", o.label));
        } else if o.ok() {
            s.push_str(&format!("{}: {}\n", o.label, BOUNDED));
        } else {
            s.push_str(&format!("{}: DIFFERENT\n", o.label));
            for p in o.pairs.iter().filter(|p| !p.ok()) {
                if p.bounded() {
                    s.push_str(&format!(
                        "  {}: {} {}, {} {} before and {} after ({}), outside by {:+}\n",
                        p.what,
                        p.dmp_label,
                        p.dmp,
                        p.other_label,
                        p.lo,
                        p.hi,
                        p.source,
                        p.outside_by()
                    ));
                } else {
                    s.push_str(&format!(
                        "  {}: {} {}, {} {} ({}), difference {:+}\n",
                        p.what,
                        p.dmp_label,
                        p.dmp,
                        p.other_label,
                        p.lo,
                        p.source,
                        p.outside_by()
                    ));
                }
            }
        }
        for n in &o.notes {
            s.push_str(&format!("  {n}\n"));
        }
    }
    if outcomes.iter().any(|o| !o.ok()) {
        s.push_str(EXPLANATION);
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmp_stats::{account, complete, IoKind, Started, IN_FLIGHT};

    fn io(c: &mut Counters, kind: IoKind, bytes: u64, n: u64) {
        for _ in 0..n {
            account(kind, bytes, false).apply(&mut c.slots);
            c.slots[IN_FLIGHT] = c.slots[IN_FLIGHT].wrapping_add(1);
            complete(&Started::new(kind, false, 0), 2_500_000, false, 2_500_000)
                .apply(&mut c.slots);
        }
    }

    fn example() -> Counters {
        let mut c = Counters::zero();
        io(&mut c, IoKind::Read, 4096, 176);
        io(&mut c, IoKind::Write, 1024, 7);
        io(&mut c, IoKind::Discard, 1 << 20, 1);
        c
    }

    fn ext_of(c: &Counters) -> Ext {
        let mut text = String::new();
        dmp_stats::write_stat(c, &mut text).expect("format");
        Ext::of_stat(&dmp_stats::parse_stat(&text).expect("parse"))
    }

    fn stat_of(c: &Counters) -> [u64; STAT_FIELDS] {
        dmp_stats::stat_fields(c)
    }

    fn matching() -> DiskStats {
        DiskStats {
            reads: 176,
            read_sectors: 176 * 8,
            writes: 7,
            write_sectors: 7 * 2,
            discards: Some((1, 2048)),
            ..DiskStats::default()
        }
    }

    fn differing(pairs: &[Pair]) -> Vec<&str> {
        pairs.iter().filter(|p| !p.ok()).map(|p| p.what).collect()
    }

    #[test]
    fn equal_counters() {
        let c = example();
        let (pairs, notes) = compare(&matching(), &c, Some(&ext_of(&c)), &matching(), "stat");
        assert_eq!(pairs.len(), 9);
        assert!(pairs.iter().all(Pair::ok), "{pairs:?}");
        assert!(!pairs.iter().any(Pair::bounded));
        assert!(notes.is_empty());
        let (pairs, _) = compare(&matching(), &c, None, &matching(), "stat");
        assert_eq!(pairs.len(), 6, "no completions without the stat file");
    }

    #[test]
    fn each_field_is_compared() {
        let base = matching();
        let c = example();
        let e = ext_of(&c);
        let variants: [(&[&str], DiskStats); 6] = [
            (&["read_cnt", "read_done"], DiskStats { reads: 175, ..base }),
            (
                &["read_bytes"],
                DiskStats {
                    read_sectors: 1,
                    ..base
                },
            ),
            (
                &["write_cnt", "write_done"],
                DiskStats { writes: 8, ..base },
            ),
            (
                &["write_bytes"],
                DiskStats {
                    write_sectors: 15,
                    ..base
                },
            ),
            (
                &["discard_cnt", "discard_done"],
                DiskStats {
                    discards: Some((2, 2048)),
                    ..base
                },
            ),
            (
                &["discard_bytes"],
                DiskStats {
                    discards: Some((1, 2047)),
                    ..base
                },
            ),
        ];
        for (what, d) in variants {
            let (pairs, _) = compare(&d, &c, Some(&e), &d, "stat");
            assert_eq!(differing(&pairs), what);
        }
    }

    /// The bracket on synthetic numbers: dmp's 176 reads against the block
    /// layer's field 1 read before and after.
    #[test]
    fn bracket() {
        let c = example();
        let e = ext_of(&c);
        let reads = |d1: u64, d2: u64| {
            let (pairs, _) = compare(
                &DiskStats {
                    reads: d1,
                    ..matching()
                },
                &c,
                Some(&e),
                &DiskStats {
                    reads: d2,
                    ..matching()
                },
                "stat",
            );
            pairs
                .into_iter()
                .find(|p| p.what == "read_cnt")
                .expect("read_cnt")
        };
        // Idle and equal; idle and different (exact, as before).
        assert!(reads(176, 176).ok() && !reads(176, 176).bounded());
        assert!(!reads(175, 175).ok() && !reads(177, 177).ok());
        // Busy: inside the bracket, on its edges.
        for (d1, d2) in [(170, 180), (176, 180), (170, 176), (0, u64::MAX)] {
            let p = reads(d1, d2);
            assert!(p.ok() && p.bounded(), "{d1}..{d2}");
            assert_eq!(p.outside_by(), 0);
        }
        // Busy but outside: the block layer saw more before dmp's snapshot
        // than dmp counted, or dmp counted more than the block layer ever
        // caught up with.
        let below = reads(177, 190);
        assert!(!below.ok() && below.bounded());
        assert_eq!(below.outside_by(), -1);
        let above = reads(160, 170);
        assert!(!above.ok());
        assert_eq!(above.outside_by(), 6);
        let o = Outcome {
            label: "dm-1 (dmp1)".into(),
            pairs: vec![above],
            notes: vec![],
        };
        assert_eq!(
            render(&[o]).lines().take(2).collect::<Vec<_>>(),
            [
                "dm-1 (dmp1): DIFFERENT",
                "  read_cnt: dmp 176, block layer 160 before and 170 after (field 1 of stat), outside by +6"
            ]
        );
        let o = Outcome {
            label: "dm-1 (dmp1)".into(),
            pairs: vec![reads(170, 180)],
            notes: vec![],
        };
        assert_eq!(render(&[o]), format!("dm-1 (dmp1): {BOUNDED}\n"));
    }

    #[test]
    fn idle_needs_the_same_readings_and_nothing_in_flight() {
        let d = matching();
        assert!(idle(&d, &d));
        assert!(!idle(&d, &DiskStats { reads: 177, ..d }));
        let busy = DiskStats { in_flight: 2, ..d };
        assert!(!idle(&busy, &busy));
        let ticks = DiskStats {
            io_ticks_ms: 1,
            ..d
        };
        assert!(
            !idle(&d, &ticks),
            "other kinds of I/O show in the busy time"
        );
    }

    #[test]
    fn internal_fields_are_exact() {
        let c = example();
        let f = stat_of(&c);
        let pairs = internal(&f, true, "stat");
        assert!(pairs.iter().all(Pair::ok), "{:?}", differing(&pairs));
        // Each derived field, broken alone, is found.
        for (n, what) in [
            (2, "read merges"),
            (3, "read sectors"),
            (4, "read ms"),
            (7, "write sectors"),
            (8, "write ms"),
            (10, "busy ms"),
            (11, "queue ms"),
            (14, "discard sectors"),
            (15, "discard ms"),
            (17, "flush ms"),
        ] {
            let mut g = f;
            g[n - 1] += 1;
            assert_eq!(differing(&internal(&g, false, "stat")), [what], "field {n}");
        }
    }

    #[test]
    fn idle_relations_only_when_idle() {
        let mut c = example();
        // One read mapped and not completed.
        account(IoKind::Read, 4096, false).apply(&mut c.slots);
        c.slots[IN_FLIGHT] = c.slots[IN_FLIGHT].wrapping_add(1);
        let f = stat_of(&c);
        assert!(internal(&f, false, "stat").iter().all(Pair::ok));
        assert_eq!(
            differing(&internal(&f, true, "stat")),
            ["in flight when idle", "reads completed when idle"]
        );
    }

    #[test]
    fn missing_discard_fields_are_a_note() {
        let d = DiskStats {
            discards: None,
            ..matching()
        };
        let (pairs, notes) = compare(&d, &example(), None, &d, "/sys/block/dm-0/stat");
        assert_eq!(pairs.len(), 4);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("discards not compared"));
    }

    #[test]
    fn render_lists_only_differences_and_explains() {
        let d = DiskStats {
            reads: 180,
            ..matching()
        };
        let (pairs, notes) = compare(&d, &example(), None, &d, "/sys/block/dm-1/stat");
        let out = vec![
            Outcome {
                label: "dm-0 (a)".into(),
                pairs: compare(&matching(), &example(), None, &matching(), "x").0,
                notes: vec![],
            },
            Outcome {
                label: "dm-1 (b)".into(),
                pairs,
                notes,
            },
        ];
        let text = render(&out);
        assert!(text.starts_with(
            "dm-0 (a): equal\ndm-1 (b): DIFFERENT\n  read_cnt: dmp 176, block layer 180 (field 1 of /sys/block/dm-1/stat), difference -4\nnote: "
        ), "{text}");
        assert!(text.contains("reset"));
        assert_eq!(
            render(&out[..1]),
            "dm-0 (a): equal\n",
            "no explanation when all is equal"
        );
    }

    #[test]
    fn volumes_against_all_devs() {
        let c = example();
        let same = Summary::of(&c);
        assert!(compare_volumes(&same, &c, &c).iter().all(Pair::ok));
        let off = Summary {
            total_avg: same.total_avg + 1,
            ..same
        };
        let diff: Vec<_> = compare_volumes(&off, &c, &c)
            .into_iter()
            .filter(|p| !p.ok())
            .map(|p| p.what)
            .collect();
        assert_eq!(diff, ["volumes total avg size"]);
        // Busy: volumes taken between two all_devs readings.
        let mut later = c;
        io(&mut later, IoKind::Read, 65536, 10);
        let mut mid = c;
        io(&mut mid, IoKind::Read, 65536, 4);
        let v = Summary::of(&mid);
        let pairs = compare_volumes(&v, &c, &later);
        assert!(pairs.iter().all(Pair::ok), "{:?}", differing(&pairs));
        assert!(pairs.iter().any(Pair::bounded));
        // ... but not one taken after the second reading.
        let mut after = later;
        io(&mut after, IoKind::Read, 65536, 1);
        let pairs = compare_volumes(&Summary::of(&after), &c, &later);
        assert!(differing(&pairs).contains(&"volumes read reqs"));
    }

    #[test]
    fn sum_of_devices_against_all_devs() {
        let reading = |c: &Counters| Reading {
            counters: *c,
            stat: Some(stat_of(c)),
            has_latency: false,
            timed: true,
        };
        let c = example();
        let r = reading(&c);
        assert!(compare_sum(&r, &r, &r, true).iter().all(Pair::ok));
        assert_eq!(compare_sum(&r, &r, &r, true).len(), 19);
        assert_eq!(
            compare_sum(&r, &r, &r, false).len(),
            7,
            "untimed: counts and bytes only"
        );
        let mut more = c;
        io(&mut more, IoKind::Write, 4096, 3);
        let m = reading(&more);
        assert!(
            compare_sum(&r, &m, &m, true).iter().all(Pair::ok),
            "inside the bracket"
        );
        let pairs = compare_sum(&r, &m, &r, true);
        let d = differing(&pairs);
        assert_eq!(
            d,
            [
                "write_cnt",
                "write_bytes",
                "write_ns",
                "write_done",
                "io_ticks_ns"
            ]
        );
    }
}
