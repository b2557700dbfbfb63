//! `dmpstat histogram`: the request size histogram drawn with bars.

use dmp_stats::{Counters, BUCKET_LABELS, NR_BUCKETS};

/// Length of the bar for `count` when `max` gets `width` characters: at
/// least one character for any non-zero count, rounded down otherwise.
pub fn bar_len(count: u64, max: u64, width: usize) -> usize {
    if count == 0 || max == 0 {
        return 0;
    }
    let len = u128::from(count) * width as u128 / u128::from(max);
    usize::try_from(len).unwrap_or(width).clamp(1, width)
}

/// Draws the read and the write histogram of `c`, on one scale, `width`
/// characters for the largest bucket.
pub fn render(title: &str, c: &Counters, width: usize) -> String {
    let max = (0..NR_BUCKETS)
        .map(|i| c.hist_read(i).max(c.hist_write(i)))
        .max()
        .unwrap_or(0);
    let label_w = BUCKET_LABELS.iter().map(|l| l.len()).max().unwrap_or(4);
    let num_w = (0..NR_BUCKETS)
        .map(|i| c.hist_read(i).max(c.hist_write(i)).to_string().len())
        .max()
        .unwrap_or(1)
        .max("writes".len());
    let mut s = format!("{title}: request sizes\n");
    for (head, get) in [
        ("reads", Counters::hist_read as fn(&Counters, usize) -> u64),
        ("writes", Counters::hist_write),
    ] {
        s.push_str(&format!("\n{:<label_w$}  {:>num_w$}\n", "size", head));
        for (i, label) in BUCKET_LABELS.iter().enumerate() {
            let n = get(c, i);
            let bar = "#".repeat(bar_len(n, max, width));
            let line = format!("{label:<label_w$}  {n:>num_w$}  {bar}");
            s.push_str(line.trim_end());
            s.push('\n');
        }
    }
    s
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
}
