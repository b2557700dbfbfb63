//! `dmpstat [list]`: one row per dmp device plus the aggregate.

use dmp_stats::Counters;
use serde::Serialize;

use crate::error::Result;
use crate::hist::{lat_buckets, LatBucket};
use crate::sysfs::{DeviceInfo, Ext, Parts, Reading, Sysfs, Target, AGGREGATE};
use crate::table;

/// Columns of the text table, in order (documented in the man page).
pub const COLUMNS: [&str; 9] = [
    "NAME",
    "DEVICE",
    "UNDERLYING",
    "READS",
    "RAVG",
    "WRITES",
    "WAVG",
    "DISCARDS",
    "FLUSHES",
];

/// The numbers of one device or of the aggregate, as printed by `--json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Read requests.
    pub read_reqs: u64,
    /// Bytes read.
    pub read_bytes: u64,
    /// Average read size, bytes.
    pub read_avg: u64,
    /// Write requests.
    pub write_reqs: u64,
    /// Bytes written.
    pub write_bytes: u64,
    /// Average write size, bytes.
    pub write_avg: u64,
    /// Read plus write requests.
    pub total_reqs: u64,
    /// Total bytes / total requests.
    pub total_avg: u64,
    /// Discard requests.
    pub discard_reqs: u64,
    /// Bytes discarded.
    pub discard_bytes: u64,
    /// Requests with a preflush.
    pub flush_reqs: u64,
    /// With a module that has the `stat` file and times requests: in flight,
    /// busy and request times in ns, completions and errors (absent
    /// otherwise: with `latency=0` nothing measures them).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub ext: Option<Ext>,
    /// With a module that has the `latency` file, when read: the latency
    /// buckets with their upper bounds in ns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency: Option<Vec<LatBucket>>,
}

impl Stats {
    /// The numbers of a reading, with its newer fields when it has them.
    pub fn of_reading(r: &Reading) -> Stats {
        Stats {
            ext: r.timed_ext(),
            latency: r.has_latency.then(|| lat_buckets(&r.counters)),
            ..Stats::of(&r.counters)
        }
    }

    /// The numbers of a counter snapshot (counts and bytes only).
    pub fn of(c: &Counters) -> Stats {
        Stats {
            read_reqs: c.read_cnt(),
            read_bytes: c.read_bytes(),
            read_avg: c.read_avg(),
            write_reqs: c.write_cnt(),
            write_bytes: c.write_bytes(),
            write_avg: c.write_avg(),
            total_reqs: c.total_cnt(),
            total_avg: c.total_avg(),
            discard_reqs: c.discard_cnt(),
            discard_bytes: c.discard_bytes(),
            flush_reqs: c.flush_cnt(),
            ext: None,
            latency: None,
        }
    }
}

/// One device in the `--json` output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeviceJson {
    /// dmsetup name.
    pub name: String,
    /// Kernel name, dm-N.
    pub device: String,
    /// Underlying devices.
    pub underlying: Vec<String>,
    /// The numbers.
    #[serde(flatten)]
    pub stats: Stats,
}

/// The whole `--json` output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListJson {
    /// The dmp devices listed.
    pub devices: Vec<DeviceJson>,
    /// The aggregate (`all_devs`); present when no device argument was given
    /// or when `all_devs` was one of them.
    pub aggregate: Option<Stats>,
    /// When the list was made (UTC, RFC 3339), with `-t`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// dmp times requests (module parameter `latency`); when false the
    /// timed fields are absent.
    pub timed: bool,
}

/// Collects what `list` shows. With no `targets`, every dmp device and the
/// aggregate; the latency histograms only when `latency` (for `--json`).
pub fn collect(sys: &Sysfs, targets: &[Target], latency: bool) -> Result<ListJson> {
    let targets: Vec<Target> = if targets.is_empty() {
        let mut all: Vec<Target> = sys
            .list_devices()?
            .into_iter()
            .map(Target::Device)
            .collect();
        all.push(Target::Aggregate);
        all
    } else {
        targets.to_vec()
    };
    let mut out = ListJson {
        devices: Vec::new(),
        aggregate: None,
        timestamp: None,
        timed: sys.timed(),
    };
    for t in &targets {
        let parts = Parts {
            histogram: false,
            latency,
        };
        let stats = Stats::of_reading(&sys.read_target(t, parts)?);
        match t {
            Target::Device(k) => {
                let DeviceInfo {
                    kernel,
                    name,
                    underlying,
                } = sys.device_info(k);
                out.devices.push(DeviceJson {
                    name,
                    device: kernel,
                    underlying,
                    stats,
                });
            }
            Target::Aggregate => out.aggregate = Some(stats),
        }
    }
    Ok(out)
}

/// Joins underlying devices for the table (`-` when none).
pub fn underlying_cell(u: &[String]) -> String {
    if u.is_empty() {
        "-".to_string()
    } else {
        u.join(",")
    }
}

fn stats_cells(s: &Stats) -> [String; 6] {
    [
        s.read_reqs.to_string(),
        s.read_avg.to_string(),
        s.write_reqs.to_string(),
        s.write_avg.to_string(),
        s.discard_reqs.to_string(),
        s.flush_reqs.to_string(),
    ]
}

/// The text table.
pub fn render_text(l: &ListJson) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    for d in &l.devices {
        let mut row = vec![
            d.name.clone(),
            d.device.clone(),
            underlying_cell(&d.underlying),
        ];
        row.extend(stats_cells(&d.stats));
        rows.push(row);
    }
    if let Some(a) = &l.aggregate {
        let mut row = vec!["(all)".to_string(), AGGREGATE.to_string(), "-".to_string()];
        row.extend(stats_cells(a));
        rows.push(row);
    }
    table::render(&COLUMNS, &rows, 3)
}

/// The JSON text (pretty, with a final newline).
pub fn render_json(l: &ListJson) -> Result<String> {
    let mut s = serde_json::to_string_pretty(l).map_err(crate::error::json_error)?;
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmp_stats::{account, IoKind};

    fn example() -> Counters {
        let mut c = Counters::zero();
        for _ in 0..176 {
            account(IoKind::Read, 4096, false).apply(&mut c.slots);
        }
        for _ in 0..7 {
            account(IoKind::Write, 1024, false).apply(&mut c.slots);
        }
        account(IoKind::Write, 0, true).apply(&mut c.slots);
        c
    }

    fn sample() -> ListJson {
        ListJson {
            timed: true,
            devices: vec![DeviceJson {
                name: "dmp1".into(),
                device: "dm-1".into(),
                underlying: vec!["dm-0".into()],
                stats: Stats::of(&example()),
            }],
            aggregate: Some(Stats::of(&example())),
            timestamp: None,
        }
    }

    #[test]
    fn text_table() {
        assert_eq!(
            render_text(&sample()),
            "\
NAME   DEVICE    UNDERLYING  READS  RAVG  WRITES  WAVG  DISCARDS  FLUSHES
dmp1   dm-1      dm-0          176  4096       8   896         0        1
(all)  all_devs  -             176  4096       8   896         0        1
"
        );
    }

    #[test]
    fn json_fields() {
        let v: serde_json::Value =
            serde_json::from_str(&render_json(&sample()).expect("serializes")).expect("valid JSON");
        let d = &v["devices"][0];
        assert_eq!(d["name"], "dmp1");
        assert_eq!(d["device"], "dm-1");
        assert_eq!(d["underlying"][0], "dm-0");
        assert_eq!(d["read_reqs"], 176);
        assert_eq!(d["read_bytes"], 720896);
        assert_eq!(d["write_reqs"], 8);
        assert_eq!(d["write_avg"], 896);
        assert_eq!(d["total_reqs"], 184);
        assert_eq!(d["total_avg"], (720896 + 7168) / 184);
        assert_eq!(d["flush_reqs"], 1);
        assert_eq!(v["aggregate"]["read_reqs"], 176);
    }
}
