//! `dmpstat prometheus`: node_exporter textfile collector format.
//!
//! Counter families follow Prometheus naming (`_total` for counters, base
//! unit bytes); each sample carries `device` (dm-N, stable while the device
//! exists) and `name` (the dmsetup name).
//!
//! The request size histograms are exported as Prometheus histograms, not as
//! a counter family per bucket: the kernel's buckets are cumulative-friendly
//! power-of-two ranges, so `le` bounds in bytes let `histogram_quantile()`
//! work directly. A request of exactly 512 bytes lies in the kernel's `512`
//! bucket, whose range is [512, 1023], so the inclusive `le` bounds are
//! 511, 1023, ..., 1048575 and `+Inf` (the `>=1M` bucket). `_sum` is the byte
//! counter and `_count` the number of requests in the buckets.
//!
//! The aggregate (`all_devs`) is not exported: `sum()` over the per-device
//! series gives it, and a second series would be double-counted by such sums.

use std::fmt::Write as _;

use dmp_stats::{Counters, NR_BUCKETS};

use crate::sysfs::DeviceInfo;

/// A counter family: name, help, value.
type CounterFamily = (&'static str, &'static str, fn(&Counters) -> u64);

/// A histogram family: name, help, bucket count, sum.
type HistogramFamily = (
    &'static str,
    &'static str,
    fn(&Counters, usize) -> u64,
    fn(&Counters) -> u64,
);

/// Counter families, in output order.
const COUNTERS: [CounterFamily; 7] = [
    (
        "dmp_reads_total",
        "Read requests seen by the dmp target.",
        Counters::read_cnt,
    ),
    (
        "dmp_read_bytes_total",
        "Bytes read through the dmp target.",
        Counters::read_bytes,
    ),
    (
        "dmp_writes_total",
        "Write requests seen by the dmp target (empty flushes count as writes of 0 bytes).",
        Counters::write_cnt,
    ),
    (
        "dmp_written_bytes_total",
        "Bytes written through the dmp target.",
        Counters::write_bytes,
    ),
    (
        "dmp_discards_total",
        "Discard requests seen by the dmp target.",
        Counters::discard_cnt,
    ),
    (
        "dmp_discarded_bytes_total",
        "Bytes discarded through the dmp target.",
        Counters::discard_bytes,
    ),
    (
        "dmp_flushes_total",
        "Requests with a preflush seen by the dmp target.",
        Counters::flush_cnt,
    ),
];

/// Inclusive upper bound in bytes of histogram bucket `i`; `None` for the last (`+Inf`).
pub fn bucket_le(i: usize) -> Option<u64> {
    if i + 1 < NR_BUCKETS {
        Some((512u64 << i) - 1)
    } else {
        None
    }
}

/// Escapes a label value: backslash, double quote and newline.
pub fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for ch in v.chars() {
        match ch {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

fn labels(d: &DeviceInfo) -> String {
    format!(
        "device=\"{}\",name=\"{}\"",
        escape(&d.kernel),
        escape(&d.name)
    )
}

/// The whole textfile for the given devices.
pub fn render(devices: &[(DeviceInfo, Counters)]) -> String {
    let mut s = String::new();
    for (name, help, value) in COUNTERS {
        let _ = writeln!(s, "# HELP {name} {help}");
        let _ = writeln!(s, "# TYPE {name} counter");
        for (d, c) in devices {
            let _ = writeln!(s, "{name}{{{}}} {}", labels(d), value(c));
        }
    }
    let hists: [HistogramFamily; 2] = [
        (
            "dmp_read_size_bytes",
            "Size of read requests seen by the dmp target.",
            Counters::hist_read,
            Counters::read_bytes,
        ),
        (
            "dmp_write_size_bytes",
            "Size of write requests seen by the dmp target.",
            Counters::hist_write,
            Counters::write_bytes,
        ),
    ];
    for (name, help, bucket, sum) in hists {
        let _ = writeln!(s, "# HELP {name} {help}");
        let _ = writeln!(s, "# TYPE {name} histogram");
        for (d, c) in devices {
            let l = labels(d);
            let mut cumulative: u64 = 0;
            for i in 0..NR_BUCKETS {
                cumulative = cumulative.wrapping_add(bucket(c, i));
                let le = match bucket_le(i) {
                    Some(b) => b.to_string(),
                    None => "+Inf".to_string(),
                };
                let _ = writeln!(s, "{name}_bucket{{{l},le=\"{le}\"}} {cumulative}");
            }
            let _ = writeln!(s, "{name}_sum{{{l}}} {}", sum(c));
            let _ = writeln!(s, "{name}_count{{{l}}} {cumulative}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmp_stats::{account, bucket, IoKind};

    #[test]
    fn le_bounds_match_the_kernel_buckets() {
        for i in 0..NR_BUCKETS - 1 {
            let le = bucket_le(i).expect("finite");
            assert_eq!(bucket(le), i, "largest size of bucket {i}");
            assert_eq!(bucket(le + 1), i + 1, "next size after bucket {i}");
        }
        assert_eq!(bucket_le(0), Some(511));
        assert_eq!(bucket_le(11), Some(1_048_575));
        assert_eq!(bucket_le(12), None);
    }

    #[test]
    fn escapes_label_values() {
        assert_eq!(escape(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escape("x\ny"), "x\\ny");
    }

    #[test]
    fn renders_counters_and_histograms() {
        let mut c = Counters::zero();
        for _ in 0..3 {
            account(IoKind::Read, 4096, false).apply(&mut c.slots);
        }
        account(IoKind::Read, 2 << 20, false).apply(&mut c.slots);
        account(IoKind::Write, 0, true).apply(&mut c.slots);
        let d = DeviceInfo {
            kernel: "dm-0".into(),
            name: "dmp1".into(),
            underlying: vec![],
        };
        let text = render(&[(d, c)]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&"# TYPE dmp_reads_total counter"));
        assert!(lines.contains(&"dmp_reads_total{device=\"dm-0\",name=\"dmp1\"} 4"));
        assert!(lines.contains(&"dmp_read_bytes_total{device=\"dm-0\",name=\"dmp1\"} 2109440"));
        assert!(lines.contains(&"dmp_writes_total{device=\"dm-0\",name=\"dmp1\"} 1"));
        assert!(lines.contains(&"dmp_flushes_total{device=\"dm-0\",name=\"dmp1\"} 1"));
        assert!(lines.contains(&"# TYPE dmp_read_size_bytes histogram"));
        assert!(lines
            .contains(&"dmp_read_size_bytes_bucket{device=\"dm-0\",name=\"dmp1\",le=\"4095\"} 0"));
        assert!(lines
            .contains(&"dmp_read_size_bytes_bucket{device=\"dm-0\",name=\"dmp1\",le=\"8191\"} 3"));
        assert!(lines.contains(
            &"dmp_read_size_bytes_bucket{device=\"dm-0\",name=\"dmp1\",le=\"1048575\"} 3"
        ));
        assert!(lines
            .contains(&"dmp_read_size_bytes_bucket{device=\"dm-0\",name=\"dmp1\",le=\"+Inf\"} 4"));
        assert!(lines.contains(&"dmp_read_size_bytes_sum{device=\"dm-0\",name=\"dmp1\"} 2109440"));
        assert!(lines.contains(&"dmp_read_size_bytes_count{device=\"dm-0\",name=\"dmp1\"} 4"));
        assert!(lines
            .contains(&"dmp_write_size_bytes_bucket{device=\"dm-0\",name=\"dmp1\",le=\"511\"} 1"));
        // Every family has HELP and TYPE, every sample line is name{labels} value.
        assert_eq!(lines.iter().filter(|l| l.starts_with("# HELP")).count(), 9);
        assert_eq!(lines.iter().filter(|l| l.starts_with("# TYPE")).count(), 9);
        for l in lines.iter().filter(|l| !l.starts_with('#')) {
            let (series, value) = l.rsplit_once(' ').expect("value");
            assert!(value.parse::<u64>().is_ok(), "{l}");
            assert!(series.starts_with("dmp_") && series.ends_with('}'), "{l}");
        }
    }

    #[test]
    fn no_devices_gives_only_metadata() {
        let text = render(&[]);
        assert!(text.lines().all(|l| l.starts_with('#')));
        assert_eq!(text.lines().count(), 18);
    }
}
