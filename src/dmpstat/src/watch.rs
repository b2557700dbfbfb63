//! `dmpstat watch`: rates per interval, computed from two snapshots.

use std::io::Write;
use std::time::{Duration, Instant};

use dmp_stats::{
    Counters, DISCARD_BYTES, DISCARD_CNT, FLUSH_CNT, READ_BYTES, READ_CNT, WRITE_BYTES, WRITE_CNT,
};
use serde::Serialize;

use crate::error::{json_error, Error, Result};
use crate::sysfs::{Sysfs, Target, AGGREGATE};
use crate::table;

/// Columns of the text report, in order (documented in the man page).
pub const COLUMNS: [&str; 10] = [
    "NAME", "DEVICE", "r/s", "w/s", "rMB/s", "wMB/s", "ravg", "wavg", "d/s", "f/s",
];

/// Bytes in the MB of `rMB/s` and `wMB/s`: 2^20, as in iostat.
pub const MB: f64 = 1_048_576.0;

/// The slots a reset zeroes and that must never go down otherwise.
const MAIN_SLOTS: [usize; 7] = [
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
    let secs = elapsed.as_secs_f64();
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
}

/// One report: the rows of one interval.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Length of the interval actually measured, seconds.
    pub interval_s: f64,
    /// One row per device, then the aggregate.
    pub devices: Vec<RateRow>,
}

/// Counters of several targets at one instant.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// When the snapshot was taken (after reading).
    pub at: Instant,
    /// Target, display name, counters.
    pub entries: Vec<(Target, String, Counters)>,
}

/// Reads a snapshot. With `fixed` empty: every dmp device present now, then
/// the aggregate (devices removed while reading are skipped).
pub fn snapshot(sys: &Sysfs, fixed: &[Target]) -> Result<Snapshot> {
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
    let mut entries = Vec::new();
    for t in targets {
        let c = match sys.read_counters(&t) {
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
    let elapsed = now.at.saturating_duration_since(prev.at);
    let mut devices = Vec::new();
    for (t, name, c) in &now.entries {
        if let Some((_, _, p)) = prev.entries.iter().find(|(pt, _, _)| pt == t) {
            devices.push(RateRow {
                name: name.clone(),
                device: match t {
                    Target::Device(k) => k.clone(),
                    Target::Aggregate => AGGREGATE.to_string(),
                },
                rates: rates(p, c, elapsed),
            });
        }
    }
    Report {
        interval_s: elapsed.as_secs_f64(),
        devices,
    }
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
/// previous snapshot. With `json`, each report is one line of JSON.
pub fn run(
    sys: &Sysfs,
    targets: &[Target],
    interval: Duration,
    count: Option<u64>,
    json: bool,
    out: &mut dyn Write,
) -> Result<()> {
    let mut prev = snapshot(sys, targets)?;
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
        let now = snapshot(sys, targets)?;
        let r = report(&prev, &now);
        let text = if json {
            let mut s = serde_json::to_string(&r).map_err(json_error)?;
            s.push('\n');
            s
        } else if n == 1 {
            render_text(&r)
        } else {
            format!("\n{}", render_text(&r))
        };
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
                (Target::Device("dm-0".into()), "gone".into(), a),
                (Target::Device("dm-1".into()), "dmp1".into(), a),
            ],
        };
        let mut b = a;
        b.merge(&with(&[(IoKind::Read, 4096, false, 10)]));
        let now = Snapshot {
            at: t0 + Duration::from_secs(10),
            entries: vec![
                (Target::Device("dm-1".into()), "dmp1".into(), b),
                (Target::Device("dm-2".into()), "new".into(), b),
                (Target::Aggregate, "(all)".into(), b),
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

    #[test]
    fn interval_parsing() {
        assert_eq!(parse_interval("1"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_interval("0.25"), Ok(Duration::from_millis(250)));
        for bad in ["0", "-1", "abc", "", "NaN", "inf", "86401"] {
            assert!(parse_interval(bad).is_err(), "{bad:?}");
        }
    }
}
