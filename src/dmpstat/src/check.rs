//! `dmpstat check`: dmp's counters against the block layer's `/sys/block/dm-N/stat`.

use dmp_stats::{Counters, Summary};

use crate::error::{Error, Result};
use crate::sysfs::{DiskStats, Sysfs, Target, SECTOR};

/// One number compared with its counterpart.
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
    /// The second value.
    pub other: u64,
    /// Exactly which file and field the second value is.
    pub source: String,
}

impl Pair {
    /// True when both values are equal.
    pub fn equal(&self) -> bool {
        self.dmp == self.other
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
    /// True when every compared value is equal.
    pub fn equal(&self) -> bool {
        self.pairs.iter().all(Pair::equal)
    }
}

/// Compares dmp's counters with diskstats fields (`stat` names the file, or the sum).
///
/// read_cnt = field 1, read_bytes = field 3 × 512, write_cnt = field 5,
/// write_bytes = field 7 × 512, discard_cnt = field 12, discard_bytes = field 14 × 512.
pub fn compare(c: &Counters, d: &DiskStats, stat: &str) -> (Vec<Pair>, Vec<String>) {
    let pair = |what, dmp, field: &str, other| Pair {
        what,
        dmp_label: "dmp",
        dmp,
        other_label: "block layer",
        other,
        source: format!("{field} of {stat}"),
    };
    let mut pairs = vec![
        pair("read_cnt", c.read_cnt(), "field 1", d.reads),
        pair(
            "read_bytes",
            c.read_bytes(),
            "field 3 x 512",
            d.read_sectors.wrapping_mul(SECTOR),
        ),
        pair("write_cnt", c.write_cnt(), "field 5", d.writes),
        pair(
            "write_bytes",
            c.write_bytes(),
            "field 7 x 512",
            d.write_sectors.wrapping_mul(SECTOR),
        ),
    ];
    let mut notes = Vec::new();
    match d.discards {
        Some((n, sectors)) => {
            pairs.push(pair("discard_cnt", c.discard_cnt(), "field 12", n));
            pairs.push(pair(
                "discard_bytes",
                c.discard_bytes(),
                "field 14 x 512",
                sectors.wrapping_mul(SECTOR),
            ));
        }
        None => notes.push(format!(
            "{stat} has no discard fields (kernel before 4.18): discards not compared"
        )),
    }
    (pairs, notes)
}

/// Compares the legacy `volumes` file with the `all_devs` counters.
pub fn compare_volumes(v: &Summary, c: &Counters) -> Vec<Pair> {
    let s = Summary::of(c);
    let pair = |what, dmp, other| Pair {
        what,
        dmp_label: "volumes",
        dmp,
        other_label: "all_devs",
        other,
        source: "computed from the all_devs files".to_string(),
    };
    vec![
        pair("volumes read reqs", v.read_reqs, s.read_reqs),
        pair("volumes read avg size", v.read_avg, s.read_avg),
        pair("volumes write reqs", v.write_reqs, s.write_reqs),
        pair("volumes write avg size", v.write_avg, s.write_avg),
        pair("volumes total reqs", v.total_reqs, s.total_reqs),
        pair("volumes total avg size", v.total_avg, s.total_avg),
    ]
}

/// Checks the targets; with none, every dmp device and the aggregate.
pub fn run(sys: &Sysfs, targets: &[Target]) -> Result<Vec<Outcome>> {
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
        match t {
            Target::Device(k) => {
                let c = sys.read_counters(t)?;
                let d = sys.read_diskstats(k)?;
                let info = sys.device_info(k);
                let (pairs, notes) = compare(&c, &d, &format!("/sys/block/{k}/stat"));
                out.push(Outcome {
                    label: format!("{} ({})", k, info.name),
                    pairs,
                    notes,
                });
            }
            Target::Aggregate => {
                let devices = sys.list_devices()?;
                if devices.is_empty() {
                    return Err(Error::NoDevices {
                        what: "compare the aggregate with",
                    });
                }
                let c = sys.read_counters(t)?;
                let mut sum: Option<DiskStats> = None;
                for k in &devices {
                    let d = sys.read_diskstats(k)?;
                    match &mut sum {
                        Some(s) => s.add(&d),
                        None => sum = Some(d),
                    }
                }
                let sum = sum.unwrap_or_default();
                let source = format!(
                    "the sum of /sys/block/dm-N/stat over {} dmp device{}",
                    devices.len(),
                    if devices.len() == 1 { "" } else { "s" }
                );
                let (mut pairs, notes) = compare(&c, &sum, &source);
                pairs.extend(compare_volumes(&sys.read_volumes()?, &c));
                out.push(Outcome {
                    label: "all_devs".to_string(),
                    pairs,
                    notes,
                });
            }
        }
    }
    Ok(out)
}

/// Why dmp's numbers may legitimately differ; printed when something differs.
pub const EXPLANATION: &str = "\
note: /sys/block/dm-N/stat counts every bio since the device was created and is never reset,
  so a device whose dmp statistics were reset (dmpstat reset, writing 1 to a reset file,
  dmsetup message NAME 0 reset) cannot match it; nor can the aggregate after a global reset.
  Other legitimate causes: I/O in flight while the files are read (check an idle device),
  a table with several dmp segments or other targets (an empty flush reaches every segment),
  and dmp devices removed since the last global reset (the aggregate may still count them).";

/// The text report.
pub fn render(outcomes: &[Outcome]) -> String {
    let mut s = String::new();
    for o in outcomes {
        if o.equal() {
            s.push_str(&format!("{}: equal\n", o.label));
        } else {
            s.push_str(&format!("{}: DIFFERENT\n", o.label));
            for p in o.pairs.iter().filter(|p| !p.equal()) {
                let diff = i128::from(p.dmp) - i128::from(p.other);
                s.push_str(&format!(
                    "  {}: {} {}, {} {} ({}), difference {:+}\n",
                    p.what, p.dmp_label, p.dmp, p.other_label, p.other, p.source, diff
                ));
            }
        }
        for n in &o.notes {
            s.push_str(&format!("  {n}\n"));
        }
    }
    if outcomes.iter().any(|o| !o.equal()) {
        s.push_str(EXPLANATION);
        s.push('\n');
    }
    s
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
        account(IoKind::Discard, 1 << 20, false).apply(&mut c.slots);
        c
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

    #[test]
    fn equal_counters() {
        let (pairs, notes) = compare(&example(), &matching(), "stat");
        assert_eq!(pairs.len(), 6);
        assert!(pairs.iter().all(Pair::equal), "{pairs:?}");
        assert!(notes.is_empty());
    }

    #[test]
    fn each_field_is_compared() {
        let base = matching();
        let variants: [(&str, DiskStats); 6] = [
            ("read_cnt", DiskStats { reads: 175, ..base }),
            (
                "read_bytes",
                DiskStats {
                    read_sectors: 1,
                    ..base
                },
            ),
            ("write_cnt", DiskStats { writes: 8, ..base }),
            (
                "write_bytes",
                DiskStats {
                    write_sectors: 15,
                    ..base
                },
            ),
            (
                "discard_cnt",
                DiskStats {
                    discards: Some((2, 2048)),
                    ..base
                },
            ),
            (
                "discard_bytes",
                DiskStats {
                    discards: Some((1, 2047)),
                    ..base
                },
            ),
        ];
        for (what, d) in variants {
            let (pairs, _) = compare(&example(), &d, "stat");
            let differing: Vec<&str> = pairs
                .iter()
                .filter(|p| !p.equal())
                .map(|p| p.what)
                .collect();
            assert_eq!(differing, [what]);
        }
    }

    #[test]
    fn missing_discard_fields_are_a_note() {
        let d = DiskStats {
            discards: None,
            ..matching()
        };
        let (pairs, notes) = compare(&example(), &d, "/sys/block/dm-0/stat");
        assert_eq!(pairs.len(), 4);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("discards not compared"));
    }

    #[test]
    fn render_lists_only_differences_and_explains() {
        let (pairs, notes) = compare(
            &example(),
            &DiskStats {
                reads: 180,
                ..matching()
            },
            "/sys/block/dm-1/stat",
        );
        let out = vec![
            Outcome {
                label: "dm-0 (a)".into(),
                pairs: compare(&example(), &matching(), "x").0,
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
        assert!(compare_volumes(&same, &c).iter().all(Pair::equal));
        let off = Summary {
            total_avg: same.total_avg + 1,
            ..same
        };
        let diff: Vec<_> = compare_volumes(&off, &c)
            .into_iter()
            .filter(|p| !p.equal())
            .map(|p| p.what)
            .collect();
        assert_eq!(diff, ["volumes total avg size"]);
    }
}
