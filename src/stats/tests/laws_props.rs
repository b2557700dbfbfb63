//! Property tests of the arithmetic of counter snapshots:
//!
//! * `merge` (a device into the aggregate) is a commutative monoid with
//!   `Counters::zero()`, wrapping per slot;
//! * `since` (what a reset's baseline subtracts) undoes `merge` and chains
//!   over several baselines, except for the in-flight gauge, which it never
//!   subtracts; the aggregate of differences is the difference of aggregates;
//! * summing per-CPU arrays (`add_percpu`, request counts derived from the
//!   histograms) gives what applying every request to one snapshot gives;
//! * the averages and the in-flight gauge agree with `u128` and `i64`
//!   reference arithmetic, for any slot values.

mod common;

use common::{config, counters, io, percpu_after, sum_percpu, NR_CPUS};
use dmp_stats::{
    account, complete, in_flight_gauge, Counters, Started, Summary, IN_FLIGHT, NR_SLOTS,
};
use proptest::prelude::*;

fn merged(a: &Counters, b: &Counters) -> Counters {
    let mut m = *a;
    m.merge(b);
    m
}

/// `c` with its in-flight slot replaced by `v`.
fn with_in_flight(c: &Counters, v: u64) -> Counters {
    let mut c = *c;
    c.slots[IN_FLIGHT] = v;
    c
}

/// Reference: `floor(a / b)` in `u128`, 0 when `b` is 0, saturated at `u64::MAX`.
fn ref_avg(a: u128, b: u128) -> u64 {
    if b == 0 {
        0
    } else {
        u64::try_from(a / b).unwrap_or(u64::MAX)
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn merge_is_a_commutative_monoid(a in counters(), b in counters(), c in counters()) {
        prop_assert_eq!(merged(&a, &b), merged(&b, &a));
        prop_assert_eq!(merged(&merged(&a, &b), &c), merged(&a, &merged(&b, &c)));
        prop_assert_eq!(merged(&a, &Counters::zero()), a);
        // Per slot, a wrapping sum.
        let m = merged(&a, &b);
        for i in 0..NR_SLOTS {
            prop_assert_eq!(m.slots[i], a.slots[i].wrapping_add(b.slots[i]), "slot {}", i);
        }
    }

    /// A reset's baseline `base`, then `d` more: `since` gives `d` back,
    /// with the gauge of now.
    #[test]
    fn since_undoes_merge_but_keeps_the_gauge(base in counters(), d in counters()) {
        let now = merged(&base, &d);
        prop_assert_eq!(now.since(&base), with_in_flight(&d, now.slots[IN_FLIGHT]));
        prop_assert_eq!(now.since(&now), with_in_flight(&Counters::zero(), now.slots[IN_FLIGHT]));
        prop_assert_eq!(now.since(&Counters::zero()), now);
        prop_assert_eq!(now.since(&base).in_flight(), now.in_flight());
    }

    /// Baselines chain (a device reset, then a global one): what happened
    /// since the first is what happened between them plus since the second.
    #[test]
    fn since_chains(a in counters(), b in counters(), c in counters()) {
        let whole = c.since(&a);
        let parts = merged(&b.since(&a), &c.since(&b));
        prop_assert_eq!(with_in_flight(&parts, 0), with_in_flight(&whole, 0));
        prop_assert_eq!(whole.slots[IN_FLIGHT], c.slots[IN_FLIGHT]);
    }

    /// The aggregate as the registry builds it (each device since its own
    /// baseline, merged) is the merged devices since the merged baselines.
    #[test]
    fn aggregate_of_differences_is_difference_of_aggregates(
        devices in prop::collection::vec((counters(), counters()), 0..5),
    ) {
        let mut agg = Counters::zero();
        let mut now = Counters::zero();
        let mut base = Counters::zero();
        for (b, d) in &devices {
            let n = merged(b, d);
            agg.merge(&n.since(b));
            now.merge(&n);
            base.merge(b);
        }
        prop_assert_eq!(agg, now.since(&base));
        prop_assert_eq!(Summary::of(&agg), Summary::of(&now.since(&base)));
    }

    /// The kernel's way (per-CPU adds, request counts derived from the
    /// histograms by the reader) gives what applying every map and
    /// completion to one snapshot gives, however the requests are spread
    /// over CPUs.
    #[test]
    fn percpu_sum_equals_applying_every_request(ios in prop::collection::vec(io(), 0..32)) {
        let summed = sum_percpu(&percpu_after(&ios));
        let mut direct = Counters::zero();
        for io in &ios {
            account(io.kind, io.bytes, io.preflush).apply(&mut direct.slots);
            direct.slots[IN_FLIGHT] = direct.slots[IN_FLIGHT].wrapping_add(1);
            if io.done {
                complete(&Started::new(io.kind, io.preflush, 0), io.ns, io.error, io.ns)
                    .apply(&mut direct.slots);
            }
        }
        prop_assert_eq!(summed, direct);
        // Exact when nothing is left in flight; never "negative" otherwise.
        let open = ios.iter().filter(|io| !io.done).count() as u64;
        prop_assert_eq!(summed.in_flight(), open);
        // The sum of the CPUs does not depend on their order.
        let mut cpus = percpu_after(&ios);
        cpus.reverse();
        prop_assert_eq!(sum_percpu(&cpus), summed);
        prop_assert_eq!(cpus.len(), NR_CPUS);
    }

    /// Averages against `u128` arithmetic, for any slot values (bytes
    /// without requests, sums beyond `u64`).
    #[test]
    fn averages_match_u128_reference(c in counters()) {
        let (rb, wb) = (u128::from(c.read_bytes()), u128::from(c.write_bytes()));
        let (rc, wc) = (u128::from(c.read_cnt()), u128::from(c.write_cnt()));
        prop_assert_eq!(c.read_avg(), ref_avg(rb, rc));
        prop_assert_eq!(c.write_avg(), ref_avg(wb, wc));
        prop_assert_eq!(c.total_avg(), ref_avg(rb + wb, rc + wc));
        prop_assert_eq!(c.total_cnt(), c.read_cnt().wrapping_add(c.write_cnt()));
    }

    /// The gauge is the wrapping sum read as a signed count, negatives as 0.
    #[test]
    fn gauge_is_the_signed_sum_clamped(sum in common::edgy_u64()) {
        let signed = sum as i64;
        prop_assert_eq!(in_flight_gauge(sum), if signed < 0 { 0 } else { signed as u64 });
    }

    /// With both averages defined, the total average lies between them (so
    /// it always fits in `u64`), as `total_avg` documents.
    #[test]
    fn total_avg_lies_between_the_averages(c in counters()) {
        prop_assume!(c.read_cnt() > 0 && c.write_cnt() > 0);
        let (lo, hi) = if c.read_avg() <= c.write_avg() {
            (c.read_avg(), c.write_avg())
        } else {
            (c.write_avg(), c.read_avg())
        };
        prop_assert!(lo <= c.total_avg() && c.total_avg() <= hi);
    }
}
