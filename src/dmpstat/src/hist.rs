//! `dmpstat histogram`: the request size histogram drawn with bars.

use dmp_stats::{
    lat_bucket_upper_ns, Counters, BUCKET_LABELS, LAT_LABELS, NR_BUCKETS, NR_LAT_BUCKETS,
};
use serde::Serialize;

/// Length of the bar for `count` when `max` gets `width` characters: at
/// least one character for any non-zero count, rounded down otherwise.
pub fn bar_len(count: u64, max: u64, width: usize) -> usize {
    if count == 0 || max == 0 {
        return 0;
    }
    let len = u128::from(count) * width as u128 / u128::from(max);
    usize::try_from(len).unwrap_or(width).clamp(1, width)
}

/// Draws the read and the write request size histograms of `c`, on one
/// scale, `width` characters for the largest bucket.
pub fn render(title: &str, c: &Counters, width: usize) -> String {
    let reads: Vec<u64> = (0..NR_BUCKETS).map(|i| c.hist_read(i)).collect();
    let writes: Vec<u64> = (0..NR_BUCKETS).map(|i| c.hist_write(i)).collect();
    draw(
        &format!("{title}: request sizes"),
        "size",
        &BUCKET_LABELS,
        &reads,
        &writes,
        width,
    )
}

/// Draws the read and the write latency histograms of `c` (completed
/// requests; bucket labels are lower bounds), on one scale.
pub fn render_latency(title: &str, c: &Counters, width: usize) -> String {
    let reads: Vec<u64> = (0..NR_LAT_BUCKETS).map(|i| c.lat_read(i)).collect();
    let writes: Vec<u64> = (0..NR_LAT_BUCKETS).map(|i| c.lat_write(i)).collect();
    draw(
        &format!("{title}: latency of completed requests"),
        "latency",
        &LAT_LABELS,
        &reads,
        &writes,
        width,
    )
}

/// Draws two histograms with the same `labels` (a block `reads`, then a
/// block `writes`) under a `title` line, bars of `#` on one scale, `width`
/// characters for the largest bucket; `head` names the label column.
pub fn draw(
    title: &str,
    head: &str,
    labels: &[&str],
    reads: &[u64],
    writes: &[u64],
    width: usize,
) -> String {
    let max = reads.iter().chain(writes).copied().max().unwrap_or(0);
    let label_w = labels
        .iter()
        .map(|l| l.len())
        .chain(std::iter::once(head.len()))
        .max()
        .unwrap_or(4);
    let num_w = reads
        .iter()
        .chain(writes)
        .map(|n| n.to_string().len())
        .max()
        .unwrap_or(1)
        .max("writes".len());
    let mut s = format!("{title}\n");
    for (name, counts) in [("reads", reads), ("writes", writes)] {
        s.push_str(&format!("\n{head:<label_w$}  {name:>num_w$}\n"));
        for (label, &n) in labels.iter().zip(counts) {
            let bar = "#".repeat(bar_len(n, max, width));
            let line = format!("{label:<label_w$}  {n:>num_w$}  {bar}");
            s.push_str(line.trim_end());
            s.push('\n');
        }
    }
    s
}

/// One latency bucket in JSON output.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LatBucket {
    /// The bucket's label in the `latency` file (its lower bound).
    pub label: &'static str,
    /// Exclusive upper bound in nanoseconds; null for the last bucket.
    pub upper_ns: Option<u64>,
    /// Completed reads in the bucket.
    pub reads: u64,
    /// Completed writes in the bucket.
    pub writes: u64,
}

/// The latency buckets of `c`.
pub fn lat_buckets(c: &Counters) -> Vec<LatBucket> {
    LAT_LABELS
        .iter()
        .enumerate()
        .map(|(i, label)| LatBucket {
            label,
            upper_ns: lat_bucket_upper_ns(i),
            reads: c.lat_read(i),
            writes: c.lat_write(i),
        })
        .collect()
}

/// The JSON of `dmpstat latency --json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LatencyJson {
    /// dmsetup name (`(all)` for the aggregate).
    pub name: String,
    /// dm-N or `all_devs`.
    pub device: String,
    /// Every bucket, in order.
    pub buckets: Vec<LatBucket>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use dmp_stats::{account, IoKind};

    #[test]
    fn bar_lengths() {
        assert_eq!(bar_len(0, 100, 40), 0);
        assert_eq!(bar_len(100, 100, 40), 40);
        assert_eq!(bar_len(50, 100, 40), 20);
        assert_eq!(bar_len(1, 1_000_000, 40), 1);
        assert_eq!(bar_len(u64::MAX, u64::MAX, 40), 40);
        assert_eq!(bar_len(5, 0, 40), 0);
    }

    #[test]
    fn draws_both_histograms_on_one_scale() {
        let mut c = Counters::zero();
        for _ in 0..176 {
            account(IoKind::Read, 4096, false).apply(&mut c.slots);
        }
        for _ in 0..88 {
            account(IoKind::Write, 1024, false).apply(&mut c.slots);
        }
        let text = render("dm-0 (dmp1)", &c, 10);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "dm-0 (dmp1): request sizes");
        assert_eq!(lines[2], "size   reads");
        assert_eq!(lines[3], "<512       0");
        assert_eq!(lines[7], "4K       176  ##########");
        let w = lines
            .iter()
            .position(|l| l.ends_with("writes"))
            .expect("writes block");
        assert_eq!(lines[w + 3], "1K        88  #####");
        assert_eq!(lines.len(), 1 + 2 * 15);
    }

    #[test]
    fn draws_latency() {
        use dmp_stats::{complete, Started};
        let mut c = Counters::zero();
        for (kind, ns, n) in [
            (IoKind::Read, 150_000, 40),
            (IoKind::Read, 3_000_000_000, 1),
            (IoKind::Write, 500, 20),
        ] {
            for _ in 0..n {
                complete(&Started::new(kind, false, 0), ns, false, 0).apply(&mut c.slots);
            }
        }
        let text = render_latency("dm-0 (dmp1)", &c, 8);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "dm-0 (dmp1): latency of completed requests");
        assert_eq!(lines[2], "latency    reads");
        assert_eq!(lines[3], "<1us           0");
        assert!(lines.contains(&"128us         40  ########"), "{text}");
        assert!(lines.contains(&">=1s           1  #"), "{text}");
        let w = lines
            .iter()
            .position(|l| l.ends_with("writes"))
            .expect("writes");
        assert_eq!(lines[w + 1], "<1us          20  ####");
        assert_eq!(lines.len(), 1 + 2 * (2 + NR_LAT_BUCKETS));
        let b = lat_buckets(&c);
        assert_eq!(
            b[0],
            LatBucket {
                label: "<1us",
                upper_ns: Some(1000),
                reads: 0,
                writes: 20
            }
        );
        assert_eq!(b[21].upper_ns, None);
        assert_eq!(b[8].reads, 40);
    }
}
