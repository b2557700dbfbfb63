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
//! Latency is exported as two Prometheus histograms in seconds,
//! `dmp_read_latency_seconds` and `dmp_write_latency_seconds`: the kernel's
//! latency buckets are `[2^(i-1), 2^i)` µs, so `le` is each bucket's
//! (exclusive) upper bound, 1e-06 to 1 s, then `+Inf`; a request measured at
//! exactly a bound, to the nanosecond, is in the next bucket. `_count` is the
//! number of completed requests in the buckets and `_sum` the time they took
//! (`read_ns`, `write_ns` of the `stat` file, read just before the `latency`
//! file, so under load the two may be a few requests apart). Errors are
//! counters per direction, the requests in flight a gauge, and the busy time
//! (`io_ticks`) the counter `dmp_io_time_seconds_total`. A module without the
//! `stat` file, or one that does not time requests (`latency=0`: nothing
//! measures them), has none of these samples (their HELP and TYPE lines
//! stay).
//!
//! The aggregate (`all_devs`) is not exported: `sum()` over the per-device
//! series gives it, and a second series would be double-counted by such sums.

use std::fmt::Write as _;

use dmp_stats::{lat_bucket_upper_ns, Counters, NR_BUCKETS, NR_LAT_BUCKETS};

use crate::sysfs::{DeviceInfo, Ext, Reading};

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

/// A latency histogram family: name, help, bucket count, sum in nanoseconds.
type LatencyFamily = (
    &'static str,
    &'static str,
    fn(&Counters, usize) -> u64,
    fn(&Ext) -> u64,
);

/// The families of a parsed text: name and type.
pub type Types = Vec<(String, String)>;

/// A family of dmp's newer fields: name, type, help, value.
type ExtFamily = (&'static str, &'static str, &'static str, fn(&Ext) -> String);

/// Nanoseconds as seconds, shortest exact-enough decimal.
pub fn seconds(ns: u64) -> String {
    format!("{}", ns as f64 / 1e9)
}

/// Families of the newer fields, in output order.
const EXT_FAMILIES: [ExtFamily; 5] = [
    (
        "dmp_read_errors_total",
        "counter",
        "Reads through the dmp target that completed with an error.",
        |e| e.read_errors.to_string(),
    ),
    (
        "dmp_write_errors_total",
        "counter",
        "Writes through the dmp target that completed with an error.",
        |e| e.write_errors.to_string(),
    ),
    (
        "dmp_discard_errors_total",
        "counter",
        "Discards through the dmp target that completed with an error.",
        |e| e.discard_errors.to_string(),
    ),
    (
        "dmp_in_flight_requests",
        "gauge",
        "Requests mapped by the dmp target and not yet completed.",
        |e| e.in_flight.to_string(),
    ),
    (
        "dmp_io_time_seconds_total",
        "counter",
        "Time the dmp device had a request in flight (busy time, as diskstats io_ticks).",
        |e| seconds(e.io_ticks_ns),
    ),
];

/// The `le` of latency bucket `i` in seconds (`+Inf` for the last), in the
/// shortest form, with a two-digit exponent below 1e-4 as Prometheus
/// clients print it: `1e-06`, `1.6e-05`, `0.000128`, `0.524288`, `1`.
pub fn latency_le(i: usize) -> String {
    let Some(ns) = lat_bucket_upper_ns(i) else {
        return "+Inf".to_string();
    };
    let secs = ns as f64 / 1e9;
    if secs < 1e-4 {
        let e = format!("{secs:e}");
        match e.split_once("e-") {
            Some((mantissa, exp)) => format!("{mantissa}e-{exp:0>2}"),
            None => e,
        }
    } else {
        format!("{secs}")
    }
}

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

/// The whole textfile for the given devices (read with the size histogram
/// and, when the module has it, the latency histogram).
pub fn render(devices: &[(DeviceInfo, Reading)]) -> String {
    let mut s = String::new();
    for (name, help, value) in COUNTERS {
        let _ = writeln!(s, "# HELP {name} {help}");
        let _ = writeln!(s, "# TYPE {name} counter");
        for (d, r) in devices {
            let _ = writeln!(s, "{name}{{{}}} {}", labels(d), value(&r.counters));
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
        for (d, r) in devices {
            let c = &r.counters;
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
    let lats: [LatencyFamily; 2] = [
        (
            "dmp_read_latency_seconds",
            "Time completed reads took in the dmp target, from map to completion.",
            Counters::lat_read,
            |e| e.read_ns,
        ),
        (
            "dmp_write_latency_seconds",
            "Time completed writes took in the dmp target, from map to completion.",
            Counters::lat_write,
            |e| e.write_ns,
        ),
    ];
    for (name, help, bucket, sum_ns) in lats {
        let _ = writeln!(s, "# HELP {name} {help}");
        let _ = writeln!(s, "# TYPE {name} histogram");
        for (d, r) in devices {
            let (Some(e), true) = (r.timed_ext(), r.has_latency) else {
                continue;
            };
            let l = labels(d);
            let mut cumulative: u64 = 0;
            for i in 0..NR_LAT_BUCKETS {
                cumulative = cumulative.wrapping_add(bucket(&r.counters, i));
                let le = latency_le(i);
                let _ = writeln!(s, "{name}_bucket{{{l},le=\"{le}\"}} {cumulative}");
            }
            let _ = writeln!(s, "{name}_sum{{{l}}} {}", seconds(sum_ns(&e)));
            let _ = writeln!(s, "{name}_count{{{l}}} {cumulative}");
        }
    }
    for (name, kind, help, value) in EXT_FAMILIES {
        let _ = writeln!(s, "# HELP {name} {help}");
        let _ = writeln!(s, "# TYPE {name} {kind}");
        for (d, r) in devices {
            if let Some(e) = r.timed_ext() {
                let _ = writeln!(s, "{name}{{{}}} {}", labels(d), value(&e));
            }
        }
    }
    s
}

/// A parsed sample line: metric name, labels, value.
pub type Sample = (String, Vec<(String, String)>, f64);

/// Parses the text format as far as dmpstat writes it (for the tests): every
/// line is `# HELP`, `# TYPE` or `name{k="v",...} value`. Returns the
/// samples, and the family types by name; an error names the bad line.
pub fn parse(text: &str) -> Result<(Vec<Sample>, Types), String> {
    let mut samples = Vec::new();
    let mut types = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (n, t) = rest.split_once(' ').ok_or(line)?;
            types.push((n.to_string(), t.to_string()));
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').ok_or(line)?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().map_err(|_| line.to_string())?,
        };
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.strip_suffix('}').ok_or(line)?),
            None => (series, ""),
        };
        let mut parsed = Vec::new();
        for kv in labels.split(',').filter(|kv| !kv.is_empty()) {
            let (k, v) = kv.split_once('=').ok_or(line)?;
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or(line)?;
            parsed.push((k.to_string(), v.to_string()));
        }
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(line.to_string());
        }
        samples.push((name.to_string(), parsed, value));
    }
    Ok((samples, types))
}

/// Checks every histogram of a parsed text: per series, buckets with
/// increasing `le`, cumulative counts that never go down, the `+Inf`
/// bucket last and equal to `_count`. Returns how many series it checked.
pub fn check_histograms(samples: &[Sample], types: &[(String, String)]) -> Result<usize, String> {
    let mut checked = 0;
    for (family, _) in types.iter().filter(|(_, t)| t == "histogram") {
        let bucket_name = format!("{family}_bucket");
        let count_name = format!("{family}_count");
        let sum_name = format!("{family}_sum");
        // Series: the labels other than le.
        let key = |l: &[(String, String)]| -> Vec<(String, String)> {
            l.iter().filter(|(k, _)| k != "le").cloned().collect()
        };
        let mut series: Vec<Vec<(String, String)>> = Vec::new();
        for (n, l, _) in samples.iter().filter(|(n, _, _)| *n == bucket_name) {
            let _ = n;
            let k = key(l);
            if !series.contains(&k) {
                series.push(k);
            }
        }
        for k in series {
            let mut prev_le = f64::NEG_INFINITY;
            let mut prev_count = 0.0;
            let mut inf = None;
            for (_, l, v) in samples
                .iter()
                .filter(|(n, l, _)| *n == bucket_name && key(l) == k)
            {
                let le = l
                    .iter()
                    .find(|(k, _)| k == "le")
                    .ok_or("bucket without le")?;
                let le: f64 = if le.1 == "+Inf" {
                    f64::INFINITY
                } else {
                    le.1.parse().map_err(|_| format!("bad le {}", le.1))?
                };
                if inf.is_some() {
                    return Err(format!("{family}: bucket after +Inf"));
                }
                if le <= prev_le {
                    return Err(format!("{family}: le {le} not above {prev_le}"));
                }
                if *v < prev_count {
                    return Err(format!("{family}: count {v} below {prev_count} at le {le}"));
                }
                prev_le = le;
                prev_count = *v;
                if le.is_infinite() {
                    inf = Some(*v);
                }
            }
            let inf = inf.ok_or(format!("{family}: no +Inf bucket"))?;
            let count = samples
                .iter()
                .find(|(n, l, _)| *n == count_name && *l == k)
                .ok_or(format!("{family}: no _count"))?;
            if count.2 != inf {
                return Err(format!("{family}: _count {} != +Inf bucket {inf}", count.2));
            }
            samples
                .iter()
                .find(|(n, l, _)| *n == sum_name && *l == k)
                .ok_or(format!("{family}: no _sum"))?;
            checked += 1;
        }
    }
    Ok(checked)
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
        let old = Reading {
            counters: c,
            stat: None,
            has_latency: false,
            timed: true,
        };
        let text = render(&[(d, old)]);
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
        assert_eq!(lines.iter().filter(|l| l.starts_with("# HELP")).count(), 16);
        assert_eq!(lines.iter().filter(|l| l.starts_with("# TYPE")).count(), 16);
        assert!(
            !text.contains("dmp_read_latency_seconds_bucket"),
            "no stat file, no samples"
        );
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
        assert_eq!(text.lines().count(), 32);
    }

    #[test]
    fn latency_le_bounds() {
        let les: Vec<String> = (0..NR_LAT_BUCKETS).map(latency_le).collect();
        assert_eq!(&les[..5], ["1e-06", "2e-06", "4e-06", "8e-06", "1.6e-05"]);
        assert_eq!(les[6], "6.4e-05");
        assert_eq!(les[7], "0.000128");
        assert_eq!(les[19], "0.524288");
        assert_eq!(les[20], "1");
        assert_eq!(les[21], "+Inf");
        // Each le parses to the kernel's bound.
        for (i, le) in les.iter().enumerate().take(NR_LAT_BUCKETS - 1) {
            let ns = lat_bucket_upper_ns(i).expect("finite");
            let v: f64 = le.parse().expect("float");
            assert!((v * 1e9 - ns as f64).abs() < 1e-3, "{le}");
        }
    }

    fn with_latency() -> Reading {
        use dmp_stats::{complete, Started, IN_FLIGHT};
        let mut c = Counters::zero();
        let mut io = |kind, bytes, ns: u64, err: bool| {
            account(kind, bytes, false).apply(&mut c.slots);
            c.slots[IN_FLIGHT] = c.slots[IN_FLIGHT].wrapping_add(1);
            complete(&Started::new(kind, false, 0), ns, err, ns).apply(&mut c.slots);
        };
        for _ in 0..3 {
            io(IoKind::Read, 4096, 150_000, false);
        }
        io(IoKind::Read, 4096, 1_500_000_000, true);
        io(IoKind::Write, 512, 500, false);
        io(IoKind::Write, 512, 2_000_000, false);
        // One read in flight.
        account(IoKind::Read, 4096, false).apply(&mut c.slots);
        c.slots[IN_FLIGHT] = c.slots[IN_FLIGHT].wrapping_add(1);
        Reading {
            counters: c,
            stat: Some(dmp_stats::stat_fields(&c)),
            has_latency: true,
            timed: true,
        }
    }

    #[test]
    fn renders_latency_histograms_errors_in_flight_and_busy() {
        let d = DeviceInfo {
            kernel: "dm-0".into(),
            name: "dmp1".into(),
            underlying: vec![],
        };
        let text = render(&[(d, with_latency())]);
        let lines: Vec<&str> = text.lines().collect();
        let l = "device=\"dm-0\",name=\"dmp1\"";
        for want in [
            "# TYPE dmp_read_latency_seconds histogram".to_string(),
            format!("dmp_read_latency_seconds_bucket{{{l},le=\"1e-06\"}} 0"),
            format!("dmp_read_latency_seconds_bucket{{{l},le=\"0.000128\"}} 0"),
            format!("dmp_read_latency_seconds_bucket{{{l},le=\"0.000256\"}} 3"),
            format!("dmp_read_latency_seconds_bucket{{{l},le=\"1\"}} 3"),
            format!("dmp_read_latency_seconds_bucket{{{l},le=\"+Inf\"}} 4"),
            format!("dmp_read_latency_seconds_sum{{{l}}} 1.50045"),
            format!("dmp_read_latency_seconds_count{{{l}}} 4"),
            format!("dmp_write_latency_seconds_bucket{{{l},le=\"1e-06\"}} 1"),
            format!("dmp_write_latency_seconds_bucket{{{l},le=\"+Inf\"}} 2"),
            format!("dmp_write_latency_seconds_sum{{{l}}} 0.0020005"),
            "# TYPE dmp_read_errors_total counter".to_string(),
            format!("dmp_read_errors_total{{{l}}} 1"),
            format!("dmp_write_errors_total{{{l}}} 0"),
            "# TYPE dmp_in_flight_requests gauge".to_string(),
            format!("dmp_in_flight_requests{{{l}}} 1"),
            "# TYPE dmp_io_time_seconds_total counter".to_string(),
            format!("dmp_io_time_seconds_total{{{l}}} 1.5024505"),
        ] {
            assert!(
                lines.contains(&want.as_str()),
                "missing {want:?} in\n{text}"
            );
        }
        let (samples, types) = parse(&text).expect("parses");
        assert_eq!(check_histograms(&samples, &types), Ok(4));
        // Every family has HELP and TYPE; names end as conventions say.
        for (name, kind) in &types {
            assert!(text.contains(&format!("# HELP {name} ")), "{name}");
            match kind.as_str() {
                "counter" => assert!(name.ends_with("_total"), "{name}"),
                "histogram" => assert!(
                    name.ends_with("_seconds") || name.ends_with("_bytes"),
                    "{name}"
                ),
                "gauge" => {}
                k => panic!("{k}"),
            }
        }
    }

    #[test]
    fn histogram_checker_finds_broken_histograms() {
        let d = DeviceInfo {
            kernel: "dm-0".into(),
            name: "dmp1".into(),
            underlying: vec![],
        };
        let text = render(&[(d, with_latency())]);
        let (samples, types) = parse(&text).expect("parses");
        // A bucket that goes down, a +Inf that is not the count.
        let l0 = "le=\"0.000256\"}} 3";
        let broken = text.replace(&l0.replace("}}", "}"), "le=\"0.000256\"} 9");
        let (s2, t2) = parse(&broken).expect("parses");
        assert!(check_histograms(&s2, &t2).is_err(), "non-cumulative bucket");
        let broken = text.replace(
            "dmp_read_latency_seconds_count{device=\"dm-0\",name=\"dmp1\"} 4",
            "dmp_read_latency_seconds_count{device=\"dm-0\",name=\"dmp1\"} 5",
        );
        let (s3, t3) = parse(&broken).expect("parses");
        assert!(check_histograms(&s3, &t3).is_err(), "+Inf != _count");
        assert!(check_histograms(&samples, &types).is_ok());
    }
}
