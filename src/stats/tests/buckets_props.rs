//! The request size buckets (`bucket`) and latency buckets (`lat_bucket`,
//! `lat_bucket_upper_ns`) against a reference implementation: the lower
//! bound of every bucket read from its printed label (`BUCKET_LABELS`,
//! `LAT_LABELS`), the bucket of a value found by linear search over those
//! bounds. Checked at and next to every bound, over generated values, and
//! through `account` and `complete`, which must count a request in exactly
//! that bucket.

mod common;

use common::{config, edgy_u64, io_kind};
use dmp_stats::{
    account, bucket, complete, lat_bucket, lat_bucket_upper_ns, IoKind, Started, BUCKET_LABELS,
    HIST_READ, HIST_WRITE, LAT_LABELS, LAT_READ, LAT_WRITE, NR_BUCKETS, NR_LAT_BUCKETS, NR_SLOTS,
};
use proptest::prelude::*;

/// Lower bound in bytes of a size label: `<512` is 0, `512` 512, `1K`
/// 1024, ..., `>=1M` 1 MiB.
fn size_lower(label: &str) -> u64 {
    if label.starts_with('<') {
        return 0;
    }
    let l = label.trim_start_matches(">=");
    let (digits, unit) = match l.strip_suffix('K') {
        Some(d) => (d, 1024),
        None => match l.strip_suffix('M') {
            Some(d) => (d, 1024 * 1024),
            None => (l, 1),
        },
    };
    digits.parse::<u64>().expect("a size label") * unit
}

/// Lower bound in nanoseconds of a latency label: `<1us` is 0, `Nus` is
/// N µs, `>=1s` one second.
fn lat_lower(label: &str) -> u64 {
    if label.starts_with('<') {
        return 0;
    }
    if label == ">=1s" {
        return 1_000_000_000;
    }
    let us = label.strip_suffix("us").expect("a latency label");
    us.parse::<u64>().expect("microseconds") * 1000
}

/// The reference: the last bucket whose lower bound `v` reaches.
fn by_search(lowers: &[u64], v: u64) -> usize {
    let mut b = 0;
    for (i, &lo) in lowers.iter().enumerate() {
        if v >= lo {
            b = i;
        }
    }
    b
}

fn size_lowers() -> Vec<u64> {
    BUCKET_LABELS.iter().map(|l| size_lower(l)).collect()
}

fn lat_lowers() -> Vec<u64> {
    LAT_LABELS.iter().map(|l| lat_lower(l)).collect()
}

/// Every bound and its neighbours, plus the ends of `u64`.
fn around(lowers: &[u64]) -> Vec<u64> {
    let mut v = vec![0, 1, u64::MAX - 1, u64::MAX];
    for &lo in lowers {
        v.extend([lo.saturating_sub(1), lo, lo.saturating_add(1)]);
    }
    v
}

#[test]
fn labels_describe_increasing_bounds() {
    // The reference itself: the documented bounds, strictly increasing.
    let s = size_lowers();
    assert_eq!(s.len(), NR_BUCKETS);
    assert_eq!(s[0], 0);
    for i in 1..NR_BUCKETS {
        assert_eq!(s[i], 256 << i, "size bucket {i}: [256 << i, 512 << i)");
    }
    let l = lat_lowers();
    assert_eq!(l.len(), NR_LAT_BUCKETS);
    assert!(l.windows(2).all(|w| w[0] < w[1]), "{l:?}");
    assert_eq!((l[1], l[20], l[21]), (1000, 524_288_000, 1_000_000_000));
}

#[test]
fn buckets_at_every_bound() {
    let s = size_lowers();
    for v in around(&s) {
        assert_eq!(bucket(v), by_search(&s, v), "{v} bytes");
    }
    let l = lat_lowers();
    for v in around(&l) {
        assert_eq!(lat_bucket(v), by_search(&l, v), "{v} ns");
    }
    // Prometheus's `le` of a bucket is the next one's lower bound.
    for i in 0..NR_LAT_BUCKETS {
        assert_eq!(lat_bucket_upper_ns(i), l.get(i + 1).copied(), "bucket {i}");
    }
    assert_eq!(lat_bucket_upper_ns(NR_LAT_BUCKETS + 5), None);
}

/// Values where buckets are most likely to go wrong: anywhere, near a
/// power of two, near a bound.
fn values(lowers: Vec<u64>) -> impl Strategy<Value = u64> {
    prop_oneof![
        edgy_u64(),
        (0u32..64, -2i64..=2).prop_map(|(s, d)| (1u64 << s).wrapping_add_signed(d)),
        (prop::sample::select(lowers), -3i64..=3).prop_map(|(lo, d)| lo.wrapping_add_signed(d)),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn size_bucket_matches_reference(v in values(size_lowers())) {
        prop_assert_eq!(bucket(v), by_search(&size_lowers(), v));
    }

    #[test]
    fn latency_bucket_matches_reference(v in values(lat_lowers())) {
        prop_assert_eq!(lat_bucket(v), by_search(&lat_lowers(), v));
    }

    /// A read or write of `bytes` increments exactly the reference's
    /// bucket of its histogram, nothing in the other one.
    #[test]
    fn account_counts_the_reference_size_bucket(
        kind in io_kind(),
        bytes in values(size_lowers()),
        preflush in any::<bool>(),
    ) {
        let mut s = [0u64; NR_SLOTS];
        account(kind, bytes, preflush).apply(&mut s);
        let (reads, writes) = (&s[HIST_READ..HIST_READ + NR_BUCKETS], &s[HIST_WRITE..HIST_WRITE + NR_BUCKETS]);
        let mut want = [0u64; NR_BUCKETS];
        want[by_search(&size_lowers(), bytes)] = 1;
        let none = [0u64; NR_BUCKETS];
        match kind {
            IoKind::Read => prop_assert_eq!((reads, writes), (&want[..], &none[..])),
            IoKind::Write => prop_assert_eq!((reads, writes), (&none[..], &want[..])),
            _ => prop_assert_eq!((reads, writes), (&none[..], &none[..])),
        }
    }

    /// A completed read or write after `ns` increments exactly the
    /// reference's latency bucket (0 ns when the clock went back).
    #[test]
    fn complete_counts_the_reference_latency_bucket(
        kind in io_kind(),
        start in edgy_u64(),
        ns in values(lat_lowers()),
        error in any::<bool>(),
    ) {
        let now = start.wrapping_add(ns);
        let took = now.saturating_sub(start);
        let mut s = [0u64; NR_SLOTS];
        complete(&Started::new(kind, false, start), now, error, 0).apply(&mut s);
        let (reads, writes) = (&s[LAT_READ..LAT_READ + NR_LAT_BUCKETS], &s[LAT_WRITE..LAT_WRITE + NR_LAT_BUCKETS]);
        let mut want = [0u64; NR_LAT_BUCKETS];
        want[by_search(&lat_lowers(), took)] = 1;
        let none = [0u64; NR_LAT_BUCKETS];
        match kind {
            IoKind::Read => prop_assert_eq!((reads, writes), (&want[..], &none[..])),
            IoKind::Write => prop_assert_eq!((reads, writes), (&none[..], &want[..])),
            _ => prop_assert_eq!((reads, writes), (&none[..], &none[..])),
        }
    }
}
