//! `dmpstat watch` and `dmpstat [DEVICE...] [INTERVAL [COUNT]]`: rates per
//! interval, computed from two snapshots; with `-x` an extended report like
//! `iostat -x`.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use dmp_stats::{
    Counters, DISCARD_BYTES, DISCARD_CNT, FLUSH_CNT, READ_BYTES, READ_CNT, WRITE_BYTES, WRITE_CNT,
};
use serde::Serialize;

use crate::error::{json_error, Error, Result};
use crate::hist::{lat_buckets, LatBucket};
use crate::sysfs::{Ext, Parts, Reading, Sysfs, Target, AGGREGATE};
use crate::table;

/// Columns of the extended text report (`-x`), in order, as `iostat -x`
/// names them (documented in the man page).
pub const XCOLUMNS: [&str; 22] = [
    "NAME", "DEVICE", "r/s", "rkB/s", "rrqm/s", "%rrqm", "r_await", "rareq-sz", "w/s", "wkB/s",
    "wrqm/s", "%wrqm", "w_await", "wareq-sz", "d/s", "dkB/s", "d_await", "dareq-sz", "f/s",
    "f_await", "aqu-sz", "%util",
];

/// Bytes in the kB of the extended report: 1024, as in iostat.
pub const KB: f64 = 1024.0;

/// What the report shows besides the basic rates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Opts {
    /// The extended report (`-x`): needs the `stat` file.
    pub extended: bool,
    /// A timestamp per report (`-t`).
    pub timestamp: bool,
    /// JSON lines instead of tables.
    pub json: bool,
}

/// Columns of the text report, in order (documented in the man page).
pub const COLUMNS: [&str; 10] = [
    "NAME", "DEVICE", "r/s", "w/s", "rMB/s", "wMB/s", "ravg", "wavg", "d/s", "f/s",
];

/// Bytes in the MB of `rMB/s` and `wMB/s`: 2^20, as in iostat.
pub const MB: f64 = 1_048_576.0;

/// The slots a reset zeroes and that must never go down otherwise: the
/// counts and bytes that every module has.
pub const MAIN_SLOTS: [usize; 7] = [
    READ_CNT,
    READ_BYTES,
    WRITE_CNT,
    WRITE_BYTES,
    DISCARD_CNT,
    DISCARD_BYTES,
    FLUSH_CNT,
];

/// What happened between two snapshots of the same counters.
///
/// Counters only grow, except when they are reset; when any of them went down
/// a reset happened during the interval, and what was counted since is
/// `now` itself (the second return value is then `true`).
pub fn delta(prev: &Counters, now: &Counters) -> (Counters, bool) {
    let reset = MAIN_SLOTS.iter().any(|&s| now.slots[s] < prev.slots[s]);
    if reset {
        (*now, true)
    } else {
        (now.since(prev), false)
    }
}

/// Rates over one interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rates {
    /// Reads per second.
    pub r_s: f64,
    /// Writes per second.
    pub w_s: f64,
    /// MB (2^20 bytes) read per second.
    pub rmb_s: f64,
    /// MB (2^20 bytes) written per second.
    pub wmb_s: f64,
    /// Average read size in the interval, bytes (0 without reads).
    pub ravg: u64,
    /// Average write size in the interval, bytes (0 without writes).
    pub wavg: u64,
    /// Discards per second.
    pub d_s: f64,
    /// Flushes per second.
    pub f_s: f64,
    /// The counters were reset during the interval (rates cover only the time since).
    pub reset: bool,
}

/// The rates between two snapshots taken `elapsed` apart; all zero when
/// `elapsed` is zero.
pub fn rates(prev: &Counters, now: &Counters, elapsed: Duration) -> Rates {
    let (d, reset) = delta(prev, now);
    rates_of(&d, elapsed.as_secs_f64(), reset)
}

/// The basic rates of what `d` counted in `secs` seconds.
fn rates_of(d: &Counters, secs: f64, reset: bool) -> Rates {
    let per_sec = |v: u64| if secs > 0.0 { v as f64 / secs } else { 0.0 };
    Rates {
        r_s: per_sec(d.read_cnt()),
        w_s: per_sec(d.write_cnt()),
        rmb_s: per_sec(d.read_bytes()) / MB,
        wmb_s: per_sec(d.write_bytes()) / MB,
        ravg: d.read_avg(),
        wavg: d.write_avg(),
        d_s: per_sec(d.discard_cnt()),
        f_s: per_sec(d.flush_cnt()),
        reset,
    }
}

/// The extended rates of one interval (`-x`, and the JSON of a module with
/// the `stat` file). Like `iostat -x`, except that requests are counted when
/// dmp maps them (r/s, sizes) and times when they complete (awaits).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct XRates {
    /// Bytes read per second (rkB/s × 1024).
    pub r_bytes_s: f64,
    /// Read requests merged per second: always 0 (dmp sees bios, never merged requests).
    pub rrqm_s: f64,
    /// Percentage of reads merged: always 0.
    pub rrqm_pct: f64,
    /// Average time of the reads completed in the interval, ms (0 without
    /// any); null when dmp does not time requests (`timed` false).
    pub r_await_ms: Option<f64>,
    /// Average read size in the interval, bytes.
    pub rareq_bytes: f64,
    /// Bytes written per second.
    pub w_bytes_s: f64,
    /// Write requests merged per second: always 0.
    pub wrqm_s: f64,
    /// Percentage of writes merged: always 0.
    pub wrqm_pct: f64,
    /// Average time of the writes completed in the interval, ms (null untimed).
    pub w_await_ms: Option<f64>,
    /// Average write size in the interval, bytes.
    pub wareq_bytes: f64,
    /// Bytes discarded per second.
    pub d_bytes_s: f64,
    /// Average time of the discards completed in the interval, ms (null untimed).
    pub d_await_ms: Option<f64>,
    /// Average discard size in the interval, bytes.
    pub dareq_bytes: f64,
    /// Average time of the requests with a preflush completed in the
    /// interval, ms (null untimed).
    pub f_await_ms: Option<f64>,
    /// Average number of requests in flight: time of the completed reads,
    /// writes and discards over the interval (null untimed).
    pub aqu_sz: Option<f64>,
    /// Percentage of the interval the device was busy, at most 100; null
    /// for the aggregate (a sum over devices, not one device's busy time)
    /// and when dmp does not time requests.
    pub util_pct: Option<f64>,
    /// dmp times requests (module parameter `latency`): the awaits,
    /// `aqu_sz`, `util_pct` and the timed counters were measured.
    pub timed: bool,
    /// The timed counters' growth in the interval (`in_flight`: at its
    /// end); absent when dmp does not time requests.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub delta: Option<Ext>,
    /// The latency buckets' growth in the interval, when read (JSON).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Vec<LatBucket>>,
}

/// True when a counter of `now` is below the same one in `prev`: a reset
/// happened between them.
pub fn went_down(prev: &Reading, now: &Reading) -> bool {
    let main = MAIN_SLOTS
        .iter()
        .any(|&s| now.counters.slots[s] < prev.counters.slots[s]);
    let ext = match (prev.ext(), now.ext()) {
        (Some(p), Some(n)) => n.went_down(&p),
        _ => false,
    };
    main || ext
}

/// The basic and the extended rates between two readings `secs` seconds
/// apart (all zero when `secs` is 0); `aggregate` leaves %util out. After a
/// reset (a counter went down) what was counted since is `now` itself.
pub fn rates_between(
    prev: &Reading,
    now: &Reading,
    secs: f64,
    aggregate: bool,
) -> (Rates, Option<XRates>) {
    let reset = went_down(prev, now);
    let base = if reset {
        Reading::zero_like(now)
    } else {
        *prev
    };
    let d = now.counters.since(&base.counters);
    let basic = rates_of(&d, secs, reset);
    let (Some(pe), Some(ne)) = (base.ext(), now.ext()) else {
        return (basic, None);
    };
    let e = ne.since(&pe);
    let timed = now.timed;
    let when = |v: f64| timed.then_some(v);
    let per_sec = |v: u64| if secs > 0.0 { v as f64 / secs } else { 0.0 };
    let ratio = |a: u64, b: u64| if b > 0 { a as f64 / b as f64 } else { 0.0 };
    let ms = |ns: u64, n: u64| ratio(ns, n) / 1e6;
    let interval_ns = secs * 1e9;
    let of_interval = |ns: u64| {
        if interval_ns > 0.0 {
            ns as f64 / interval_ns
        } else {
            0.0
        }
    };
    let queue_ns = e
        .read_ns
        .wrapping_add(e.write_ns)
        .wrapping_add(e.discard_ns);
    let x = XRates {
        r_bytes_s: per_sec(d.read_bytes()),
        rrqm_s: 0.0,
        rrqm_pct: 0.0,
        r_await_ms: when(ms(e.read_ns, e.read_done)),
        rareq_bytes: ratio(d.read_bytes(), d.read_cnt()),
        w_bytes_s: per_sec(d.write_bytes()),
        wrqm_s: 0.0,
        wrqm_pct: 0.0,
        w_await_ms: when(ms(e.write_ns, e.write_done)),
        wareq_bytes: ratio(d.write_bytes(), d.write_cnt()),
        d_bytes_s: per_sec(d.discard_bytes()),
        d_await_ms: when(ms(e.discard_ns, e.discard_done)),
        dareq_bytes: ratio(d.discard_bytes(), d.discard_cnt()),
        f_await_ms: when(ms(e.flush_ns, e.flush_done)),
        aqu_sz: when(of_interval(queue_ns)),
        util_pct: (timed && !aggregate).then(|| (of_interval(e.io_ticks_ns) * 100.0).min(100.0)),
        timed,
        delta: timed.then_some(e),
        latency: (timed && now.has_latency).then(|| lat_buckets(&d)),
    };
    (basic, Some(x))
}

/// One row of a report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RateRow {
    /// dmsetup name (`(all)` for the aggregate).
    pub name: String,
    /// dm-N, or `all_devs`.
    pub device: String,
    /// The rates.
    #[serde(flatten)]
    pub rates: Rates,
    /// The extended rates, with a module that has the `stat` file.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub x: Option<XRates>,
}

/// One report: the rows of one interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Length of the interval actually measured, seconds.
    pub interval_s: f64,
    /// When the report was made (UTC, RFC 3339), with `-t`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// One row per device, then the aggregate.
    pub devices: Vec<RateRow>,
}

/// Counters of several targets at one instant.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// When the snapshot was taken (after reading).
    pub at: Instant,
    /// Target, display name, reading.
    pub entries: Vec<(Target, String, Reading)>,
}

/// Reads a snapshot. With `fixed` empty: every dmp device present now, then
/// the aggregate (devices removed while reading are skipped). The latency
/// histograms are read only when `latency`.
pub fn snapshot(sys: &Sysfs, fixed: &[Target], latency: bool) -> Result<Snapshot> {
    let dynamic = fixed.is_empty();
    let targets: Vec<Target> = if dynamic {
        let mut t: Vec<Target> = sys
            .list_devices()?
            .into_iter()
            .map(Target::Device)
            .collect();
        t.push(Target::Aggregate);
        t
    } else {
        fixed.to_vec()
    };
    let parts = Parts {
        histogram: false,
        latency,
    };
    let mut entries = Vec::new();
    for t in targets {
        let c = match sys.read_target(&t, parts) {
            Ok(c) => c,
            Err(Error::NotDmp { .. }) if dynamic => continue,
            Err(e) => return Err(e),
        };
        let name = match &t {
            Target::Device(k) => sys.device_info(k).name,
            Target::Aggregate => "(all)".to_string(),
        };
        entries.push((t, name, c));
    }
    Ok(Snapshot {
        at: Instant::now(),
        entries,
    })
}

/// The report between two snapshots: targets present in both.
pub fn report(prev: &Snapshot, now: &Snapshot) -> Report {
    report_over(prev, now, now.at.saturating_duration_since(prev.at))
}

/// The report between two snapshots taken `elapsed` apart.
pub fn report_over(prev: &Snapshot, now: &Snapshot, elapsed: Duration) -> Report {
    let secs = elapsed.as_secs_f64();
    let mut devices = Vec::new();
    for (t, name, c) in &now.entries {
        if let Some((_, _, p)) = prev.entries.iter().find(|(pt, _, _)| pt == t) {
            let (rates, x) = rates_between(p, c, secs, *t == Target::Aggregate);
            devices.push(RateRow {
                name: name.clone(),
                device: match t {
                    Target::Device(k) => k.clone(),
                    Target::Aggregate => AGGREGATE.to_string(),
                },
                rates,
                x,
            });
        }
    }
    Report {
        interval_s: secs,
        timestamp: None,
        devices,
    }
}

/// The snapshot of counters that all start at zero, for the report "since
/// the counters started".
pub fn zero_snapshot(like: &Snapshot) -> Snapshot {
    Snapshot {
        at: like.at,
        entries: like
            .entries
            .iter()
            .map(|(t, n, r)| (t.clone(), n.clone(), Reading::zero_like(r)))
            .collect(),
    }
}

/// The text of one extended report (`-x`): kB and ms as iostat prints
/// them; rows without the extended rates are left out.
pub fn render_xtext(r: &Report) -> String {
    let f = |v: f64| format!("{v:.2}");
    // A figure that was not measured (the aggregate's %util, or any timed
    // figure when dmp does not time requests) shows as "-", never as 0.
    let o = |v: Option<f64>| v.map(f).unwrap_or_else(|| "-".to_string());
    let rows: Vec<Vec<String>> = r
        .devices
        .iter()
        .filter_map(|d| {
            let x = d.x.as_ref()?;
            let b = &d.rates;
            Some(vec![
                if b.reset {
                    format!("{}*", d.name)
                } else {
                    d.name.clone()
                },
                d.device.clone(),
                f(b.r_s),
                f(x.r_bytes_s / KB),
                f(x.rrqm_s),
                f(x.rrqm_pct),
                o(x.r_await_ms),
                f(x.rareq_bytes / KB),
                f(b.w_s),
                f(x.w_bytes_s / KB),
                f(x.wrqm_s),
                f(x.wrqm_pct),
                o(x.w_await_ms),
                f(x.wareq_bytes / KB),
                f(b.d_s),
                f(x.d_bytes_s / KB),
                o(x.d_await_ms),
                f(x.dareq_bytes / KB),
                f(b.f_s),
                o(x.f_await_ms),
                o(x.aqu_sz),
                o(x.util_pct),
            ])
        })
        .collect();
    table::render(&XCOLUMNS, &rows, 2)
}

/// Seconds since the system booted (`/proc/uptime`): how long counters that
/// started at boot or later have been counting, at most.
pub fn uptime(proc_uptime: &Path) -> Result<Duration> {
    let text = std::fs::read_to_string(proc_uptime)
        .map_err(|e| Error::io(proc_uptime.to_path_buf(), e, false))?;
    text.split_whitespace()
        .next()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| Error::Parse {
            path: proc_uptime.to_path_buf(),
            detail: "no uptime in seconds".into(),
        })
}

/// A time as UTC in RFC 3339 with seconds, e.g. `2026-12-01T05:30:00Z`.
pub fn timestamp(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Fails when `-x` is asked and a target lacks the `stat` file.
fn require_stat(sys: &Sysfs, snap: &Snapshot, opts: Opts) -> Result<()> {
    if !opts.extended {
        return Ok(());
    }
    match snap.entries.iter().find(|(_, _, r)| r.stat.is_none()) {
        Some((t, _, _)) => Err(Error::Missing {
            path: sys.target_dir(t).join(dmp_stats::StatFile::Stat.name()),
            what: "the extended report (-x)",
        }),
        None => Ok(()),
    }
}

/// The text or JSON line of one report.
fn render(r: &Report, opts: Opts, first: bool) -> Result<String> {
    if opts.json {
        let mut s = serde_json::to_string(r).map_err(json_error)?;
        s.push('\n');
        return Ok(s);
    }
    let mut s = String::new();
    if !first {
        s.push('\n');
    }
    if let Some(t) = &r.timestamp {
        s.push_str(t);
        s.push('\n');
    }
    s.push_str(&if opts.extended {
        render_xtext(r)
    } else {
        render_text(r)
    });
    Ok(s)
}

/// One report since the counters started (`dmpstat -x` without an
/// interval, like iostat's first report): sizes and awaits are exact, the
/// rates per second are averaged over `since` (the system's uptime).
pub fn run_since_start(
    sys: &Sysfs,
    targets: &[Target],
    since: Duration,
    opts: Opts,
    out: &mut dyn Write,
) -> Result<()> {
    let now = snapshot(sys, targets, opts.json)?;
    require_stat(sys, &now, opts)?;
    let mut r = report_over(&zero_snapshot(&now), &now, since);
    if opts.timestamp {
        r.timestamp = Some(timestamp(SystemTime::now()));
    }
    out.write_all(render(&r, opts, true)?.as_bytes())
        .and_then(|_| out.flush())
        .map_err(Error::Output)
}

/// The text of one report: a header and one row per device; a device whose
/// counters were reset during the interval is marked with `*` after its name.
pub fn render_text(r: &Report) -> String {
    let rows: Vec<Vec<String>> = r
        .devices
        .iter()
        .map(|d| {
            let x = &d.rates;
            vec![
                if x.reset {
                    format!("{}*", d.name)
                } else {
                    d.name.clone()
                },
                d.device.clone(),
                format!("{:.2}", x.r_s),
                format!("{:.2}", x.w_s),
                format!("{:.2}", x.rmb_s),
                format!("{:.2}", x.wmb_s),
                x.ravg.to_string(),
                x.wavg.to_string(),
                format!("{:.2}", x.d_s),
                format!("{:.2}", x.f_s),
            ]
        })
        .collect();
    table::render(&COLUMNS, &rows, 2)
}

/// Runs the watch loop: a snapshot, then `count` times (forever when `None`)
/// sleep until the next tick of `interval` and print the rates since the
/// previous snapshot: one line of JSON per report with `opts.json`, the
/// extended table with `opts.extended`, a timestamp line with
/// `opts.timestamp`.
pub fn run(
    sys: &Sysfs,
    targets: &[Target],
    interval: Duration,
    count: Option<u64>,
    opts: Opts,
    out: &mut dyn Write,
) -> Result<()> {
    let mut prev = snapshot(sys, targets, opts.json)?;
    require_stat(sys, &prev, opts)?;
    let start = Instant::now();
    let mut n: u64 = 0;
    while count.is_none_or(|c| n < c) {
        n += 1;
        let deadline = interval
            .checked_mul(u32::try_from(n).unwrap_or(u32::MAX))
            .and_then(|d| start.checked_add(d));
        match deadline {
            Some(d) => std::thread::sleep(d.saturating_duration_since(Instant::now())),
            None => std::thread::sleep(interval),
        }
        let now = snapshot(sys, targets, opts.json)?;
        let mut r = report(&prev, &now);
        if opts.timestamp {
            r.timestamp = Some(timestamp(SystemTime::now()));
        }
        let text = render(&r, opts, n == 1)?;
        out.write_all(text.as_bytes())
            .and_then(|_| out.flush())
            .map_err(Error::Output)?;
        prev = now;
    }
    Ok(())
}

/// Parses `-i`: seconds, fractions allowed, more than 0 and at most a day.
pub fn parse_interval(s: &str) -> std::result::Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(secs > 0.0 && secs <= 86_400.0) {
        return Err(format!(
            "{s} is out of range: the interval must be more than 0 and at most 86400 seconds"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmp_stats::{account, IoKind};

    fn with(ops: &[(IoKind, u64, bool, u64)]) -> Counters {
        let mut c = Counters::zero();
        for &(k, bytes, flush, times) in ops {
            for _ in 0..times {
                account(k, bytes, flush).apply(&mut c.slots);
            }
        }
        c
    }

    #[test]
    fn rates_over_two_seconds() {
        let prev = with(&[(IoKind::Read, 4096, false, 100)]);
        let mut now = prev;
        now.merge(&with(&[
            (IoKind::Read, 4096, false, 512),
            (IoKind::Write, 1 << 20, false, 4),
            (IoKind::Write, 0, true, 2),
            (IoKind::Discard, 1 << 20, false, 6),
        ]));
        let r = rates(&prev, &now, Duration::from_secs(2));
        assert_eq!(r.r_s, 256.0);
        assert_eq!(r.w_s, 3.0);
        assert_eq!(r.rmb_s, 1.0); // 512 * 4096 B / 2 s = 1 MiB/s
        assert_eq!(r.wmb_s, 2.0); // 4 MiB / 2 s
        assert_eq!(r.ravg, 4096);
        assert_eq!(r.wavg, (4 << 20) / 6);
        assert_eq!(r.d_s, 3.0);
        assert_eq!(r.f_s, 1.0);
        assert!(!r.reset);
    }

    #[test]
    fn idle_interval_is_zero() {
        let c = with(&[(IoKind::Read, 4096, false, 7)]);
        let r = rates(&c, &c, Duration::from_secs(1));
        assert_eq!(
            (r.r_s, r.w_s, r.rmb_s, r.wmb_s, r.ravg, r.wavg),
            (0.0, 0.0, 0.0, 0.0, 0, 0)
        );
    }

    #[test]
    fn zero_elapsed_gives_zero_rates_not_infinity() {
        let prev = Counters::zero();
        let now = with(&[(IoKind::Write, 4096, false, 3)]);
        let r = rates(&prev, &now, Duration::ZERO);
        assert_eq!(r.w_s, 0.0);
        assert_eq!(r.wavg, 4096);
    }

    #[test]
    fn reset_during_interval_counts_from_zero() {
        let prev = with(&[(IoKind::Read, 4096, false, 1000)]);
        let now = with(&[(IoKind::Read, 512, false, 10)]);
        let (d, reset) = delta(&prev, &now);
        assert!(reset);
        assert_eq!(d, now);
        let r = rates(&prev, &now, Duration::from_millis(500));
        assert_eq!(r.r_s, 20.0);
        assert_eq!(r.ravg, 512);
        assert!(r.reset);
    }

    #[test]
    fn report_keeps_targets_present_in_both() {
        let t0 = Instant::now();
        let a = with(&[(IoKind::Read, 4096, false, 1)]);
        let prev = Snapshot {
            at: t0,
            entries: vec![
                (Target::Device("dm-0".into()), "gone".into(), old(a)),
                (Target::Device("dm-1".into()), "dmp1".into(), old(a)),
            ],
        };
        let mut b = a;
        b.merge(&with(&[(IoKind::Read, 4096, false, 10)]));
        let now = Snapshot {
            at: t0 + Duration::from_secs(10),
            entries: vec![
                (Target::Device("dm-1".into()), "dmp1".into(), old(b)),
                (Target::Device("dm-2".into()), "new".into(), old(b)),
                (Target::Aggregate, "(all)".into(), old(b)),
            ],
        };
        let r = report(&prev, &now);
        assert_eq!(r.interval_s, 10.0);
        assert_eq!(r.devices.len(), 1);
        assert_eq!(r.devices[0].device, "dm-1");
        assert_eq!(r.devices[0].rates.r_s, 1.0);
        assert_eq!(
            render_text(&r),
            "\
NAME  DEVICE   r/s   w/s  rMB/s  wMB/s  ravg  wavg   d/s   f/s
dmp1  dm-1    1.00  0.00   0.00   0.00  4096     0  0.00  0.00
"
        );
    }

    /// A reading of a module without the stat file.
    fn old(c: Counters) -> Reading {
        Reading {
            counters: c,
            stat: None,
            has_latency: false,
            timed: true,
        }
    }

    /// A reading of a module with the stat and latency files.
    fn new(c: Counters) -> Reading {
        Reading {
            counters: c,
            stat: Some(dmp_stats::stat_fields(&c)),
            has_latency: true,
            timed: true,
        }
    }

    /// `n` requests of `kind`, `bytes` each, that took `ns` each; the
    /// device busy for `busy` ns per request.
    fn done(c: &mut Counters, kind: IoKind, bytes: u64, flush: bool, ns: u64, busy: u64, n: u64) {
        use dmp_stats::{complete, Started, IN_FLIGHT};
        for _ in 0..n {
            account(kind, bytes, flush).apply(&mut c.slots);
            c.slots[IN_FLIGHT] = c.slots[IN_FLIGHT].wrapping_add(1);
            complete(&Started::new(kind, flush, 0), ns, false, busy).apply(&mut c.slots);
        }
    }

    #[test]
    fn extended_rates_over_two_seconds() {
        let mut p = Counters::zero();
        done(&mut p, IoKind::Read, 512, false, 9_000_000, 1, 100);
        let mut n = p;
        // In 2 s: 400 reads of 8 KiB taking 250 µs, 100 writes of 64 KiB
        // taking 4 ms, 10 discards of 1 MiB taking 20 ms, 4 flushes of 5 ms;
        // the device busy 1 s.
        done(&mut n, IoKind::Read, 8192, false, 250_000, 1_000_000, 400);
        done(
            &mut n,
            IoKind::Write,
            65536,
            false,
            4_000_000,
            5_000_000,
            100,
        );
        done(
            &mut n,
            IoKind::Discard,
            1 << 20,
            false,
            20_000_000,
            10_000_000,
            10,
        );
        done(&mut n, IoKind::Write, 0, true, 5_000_000, 0, 4);
        // Two reads still in flight.
        for _ in 0..2 {
            account(IoKind::Read, 8192, false).apply(&mut n.slots);
            n.slots[dmp_stats::IN_FLIGHT] = n.slots[dmp_stats::IN_FLIGHT].wrapping_add(1);
        }
        let (b, x) = rates_between(&new(p), &new(n), 2.0, false);
        let x = x.expect("extended");
        assert_eq!((b.r_s, b.w_s, b.d_s, b.f_s), (201.0, 52.0, 5.0, 2.0));
        assert_eq!(x.r_bytes_s, 402.0 * 8192.0 / 2.0);
        assert_eq!(
            x.r_await_ms,
            Some(0.25),
            "Δread_ns / Δread_done, not / Δreads"
        );
        assert_eq!(x.rareq_bytes, 8192.0);
        assert_eq!(x.w_bytes_s, 100.0 * 65536.0 / 2.0);
        assert_eq!(x.w_await_ms, Some((100.0 * 4.0 + 4.0 * 5.0) / 104.0));
        assert_eq!(x.wareq_bytes, 100.0 * 65536.0 / 104.0);
        assert_eq!(x.d_bytes_s, 5.0 * 1048576.0);
        assert_eq!(x.d_await_ms, Some(20.0));
        assert_eq!(x.dareq_bytes, 1048576.0);
        assert_eq!(x.f_await_ms, Some(5.0));
        // (400 × 0.25 ms + 104 writes' 420 ms + 200 ms) / 2 s
        let aqu = x.aqu_sz.expect("timed");
        assert!((aqu - 0.72 / 2.0).abs() < 1e-12, "{aqu}");
        assert_eq!(x.util_pct, Some(50.0));
        assert_eq!(
            (x.rrqm_s, x.rrqm_pct, x.wrqm_s, x.wrqm_pct),
            (0.0, 0.0, 0.0, 0.0)
        );
        let delta = x.delta.expect("timed");
        assert_eq!(
            (delta.in_flight, delta.read_done, delta.write_done),
            (2, 400, 104)
        );
        let lat = x.latency.expect("latency read");
        assert_eq!(lat[8].reads, 400, "the interval's latency buckets only");
        assert_eq!(lat.iter().map(|l| l.reads).sum::<u64>(), 400);

        // The aggregate has no %util; a device busier than the interval shows 100.
        let (_, x) = rates_between(&new(p), &new(n), 2.0, true);
        assert_eq!(x.expect("extended").util_pct, None);
        let (_, x) = rates_between(&new(p), &new(n), 0.5, false);
        assert_eq!(x.expect("extended").util_pct, Some(100.0), "capped");
        // No stat file: no extended rates.
        assert_eq!(rates_between(&old(p), &old(n), 2.0, false).1, None);
        // An idle interval: zeros, no division by zero.
        let (_, x) = rates_between(&new(n), &new(n), 2.0, false);
        let x = x.expect("extended");
        assert_eq!(
            (x.r_await_ms, x.rareq_bytes, x.aqu_sz, x.util_pct),
            (Some(0.0), 0.0, Some(0.0), Some(0.0))
        );
        // A module that does not time requests: every timed figure is
        // absent (null, "-"), never a false 0; counts and sizes stay.
        let untimed = |c| Reading {
            timed: false,
            has_latency: false,
            ..new(c)
        };
        let (b, x) = rates_between(&untimed(p), &untimed(n), 2.0, false);
        let x = x.expect("extended");
        assert_eq!(b.r_s, 201.0);
        assert_eq!(x.rareq_bytes, 8192.0);
        assert_eq!(
            (x.r_await_ms, x.w_await_ms, x.d_await_ms, x.f_await_ms),
            (None, None, None, None)
        );
        assert_eq!((x.aqu_sz, x.util_pct, x.timed), (None, None, false));
        assert_eq!((&x.delta, &x.latency), (&None, &None));
        let json = serde_json::to_value(&x).expect("json");
        assert!(json["r_await_ms"].is_null() && json["util_pct"].is_null());
        assert!(json.get("read_done").is_none() && json.get("in_flight").is_none());
        assert_eq!(json["timed"], false);
    }

    #[test]
    fn a_reset_seen_only_in_the_newer_fields_counts_from_zero() {
        let mut p = Counters::zero();
        done(&mut p, IoKind::Write, 4096, false, 1_000_000, 1_000_000, 10);
        // Same counts and bytes, but the time counters went down: a reset
        // then as many writes again.
        let mut n = Counters::zero();
        done(&mut n, IoKind::Write, 4096, false, 500_000, 500_000, 10);
        let (b, x) = rates_between(&new(p), &new(n), 1.0, false);
        assert!(b.reset);
        assert_eq!(b.w_s, 10.0);
        assert_eq!(x.expect("extended").w_await_ms, Some(0.5));
    }

    #[test]
    fn extended_text() {
        let mut p = Counters::zero();
        done(&mut p, IoKind::Read, 4096, false, 1_000_000, 500_000, 10);
        let prev = Snapshot {
            at: Instant::now(),
            entries: vec![
                (
                    Target::Device("dm-1".into()),
                    "dmp1".into(),
                    new(Counters::zero()),
                ),
                (Target::Aggregate, "(all)".into(), new(Counters::zero())),
            ],
        };
        let now = Snapshot {
            entries: vec![
                (Target::Device("dm-1".into()), "dmp1".into(), new(p)),
                (Target::Aggregate, "(all)".into(), new(p)),
            ],
            ..prev.clone()
        };
        let r = report_over(&prev, &now, Duration::from_secs(1));
        assert_eq!(
            render_xtext(&r),
            "\
NAME   DEVICE      r/s  rkB/s  rrqm/s  %rrqm  r_await  rareq-sz   w/s  wkB/s  wrqm/s  %wrqm  w_await  wareq-sz   d/s  dkB/s  d_await  dareq-sz   f/s  f_await  aqu-sz  %util
dmp1   dm-1      10.00  40.00    0.00   0.00     1.00      4.00  0.00   0.00    0.00   0.00     0.00      0.00  0.00   0.00     0.00      0.00  0.00     0.00    0.01   0.50
(all)  all_devs  10.00  40.00    0.00   0.00     1.00      4.00  0.00   0.00    0.00   0.00     0.00      0.00  0.00   0.00     0.00      0.00  0.00     0.00    0.01      -
"
        );
        let json = serde_json::to_value(&r).expect("json");
        let d = &json["devices"][0];
        assert_eq!(d["r_await_ms"], 1.0);
        assert_eq!(d["rareq_bytes"], 4096.0);
        assert_eq!(d["r_s"], 10.0);
        assert_eq!(d["util_pct"], 0.5);
        assert_eq!(d["read_done"], 10);
        assert!(json["devices"][1]["util_pct"].is_null());
        assert!(json.get("timestamp").is_none());
    }

    #[test]
    fn timestamps() {
        let at = |s: u64| timestamp(SystemTime::UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(at(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn uptime_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let f = dir.path().join("uptime");
        std::fs::write(&f, "12345.67 2000.00\n").expect("write");
        assert_eq!(
            uptime(&f).expect("parses"),
            Duration::from_secs_f64(12345.67)
        );
        std::fs::write(&f, "x\n").expect("write");
        assert!(uptime(&f).is_err());
    }

    #[test]
    fn interval_parsing() {
        assert_eq!(parse_interval("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_interval("0.25"), Ok(Duration::from_millis(250)));
        for bad in ["0", "-1", "abc", "", "NaN", "inf", "86401"] {
            assert!(parse_interval(bad).is_err(), "{bad:?}");
        }
    }
}
