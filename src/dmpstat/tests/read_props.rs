//! parse(render(c)) == c end to end: counters rendered into a sysfs tree
//! with the module's own formatters (`StatFile::render`, `write_summary`)
//! and read back by dmpstat (`Sysfs::read_target`, `Sysfs::read_volumes`)
//! give back every slot, the in-flight gauge as the module shows it; also
//! from a module older than the `stat` file, and for the aggregate. And
//! dmpstat's own arithmetic on the `stat` fields (`Ext::since`, `Ext::add`)
//! agrees with the module's (`Counters::since`, `Counters::merge`).
//!
//! Generated counters have independent slots, their values biased to the
//! edges of `u64`, of `i64` (the gauge's cut) and of digit counts.

mod common;

use common::{write, Tree};
use dmp_stats::{stat_fields, Counters, Summary, HIST_READ, HIST_WRITE, IN_FLIGHT, NR_BUCKETS, NR_SLOTS};
use dmpstat::sysfs::{Ext, Parts, Sysfs, Target};
use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

/// A fixed seed and case count, as in dmp-stats' property tests
/// (`PROPTEST_CASES` and `PROPTEST_RNG_SEED` override them).
fn config(cases: u32) -> Config {
    let env = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() { env.cases } else { cases },
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            env.rng_seed
        } else {
            RngSeed::Fixed(0x646d_7020_7072_6f70)
        },
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        ..env
    }
}

fn edgy_u64() -> impl Strategy<Value = u64> {
    const EDGES: [u64; 6] = [0, 1, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX - 1, u64::MAX];
    (0u8..6, any::<u64>()).prop_map(|(class, raw)| match class {
        0..=2 => raw,
        3 => raw % 2000,
        4 => 10u64.pow((raw % 20) as u32),
        _ => EDGES[(raw % 6) as usize],
    })
}

fn counters() -> impl Strategy<Value = Counters> {
    prop::collection::vec(edgy_u64(), NR_SLOTS).prop_map(|v| {
        let mut slots = [0u64; NR_SLOTS];
        slots.copy_from_slice(&v);
        Counters::from_slots(slots)
    })
}

/// What the files show of `c`: every slot, the gauge clamped.
fn shown(c: &Counters) -> Counters {
    let mut s = *c;
    s.slots[IN_FLIGHT] = c.in_flight();
    s
}

fn ext(c: &Counters) -> Ext {
    Ext::of_stat(&stat_fields(c))
}

const ALL: Parts = Parts {
    histogram: true,
    latency: true,
};

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn device_and_aggregate_read_back(c in counters(), agg in counters()) {
        let t = Tree::loaded();
        write(&t.sys().join("module/dmp/parameters/latency"), "Y\n");
        t.add_dmp(3, "data", &["sda"], &c, &Counters::zero());
        t.set_aggregate(&agg);
        let sys = Sysfs::new(t.sys());

        let r = sys.read_target(&Target::Device("dm-3".into()), ALL).expect("dm-3 reads");
        prop_assert_eq!(r.counters, shown(&c));
        prop_assert_eq!(r.stat, Some(stat_fields(&c)));
        prop_assert!(r.has_latency && r.timed);
        prop_assert_eq!(r.ext(), Some(ext(&c)));

        let a = sys.read_target(&Target::Aggregate, ALL).expect("all_devs reads");
        prop_assert_eq!(a.counters, shown(&agg));
        prop_assert_eq!(sys.read_volumes().expect("volumes reads"), Summary::of(&agg));
    }

    /// A module without `stat` and `latency`: the seven counts and bytes
    /// from the single-value files, the request sizes from `histogram`.
    #[test]
    fn older_module_reads_back(c in counters()) {
        let t = Tree::loaded();
        t.add_dmp(0, "old", &[], &c, &Counters::zero());
        t.make_old(0);
        let r = Sysfs::new(t.sys())
            .read_target(&Target::Device("dm-0".into()), ALL)
            .expect("dm-0 reads");
        let mut want = Counters::zero();
        for slot in (0..7).chain(HIST_READ..HIST_READ + NR_BUCKETS).chain(HIST_WRITE..HIST_WRITE + NR_BUCKETS) {
            want.slots[slot] = c.slots[slot];
        }
        prop_assert_eq!(r.counters, want);
        prop_assert_eq!((r.stat, r.has_latency), (None, false));
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// dmpstat's interval arithmetic on `stat` fields is the module's
    /// `since` and `merge`, read through the `stat` line.
    #[test]
    fn ext_arithmetic_is_the_modules(base in counters(), now in counters()) {
        prop_assert_eq!(ext(&now).since(&ext(&base)), ext(&now.since(&base)));
        let mut merged = now;
        merged.merge(&base);
        let mut sum = ext(&now);
        sum.add(&ext(&base));
        // The gauge of a sum is not the sum of the gauges when one is
        // clamped or the sum passes i64::MAX; every counter must agree.
        let gauge_exact = [now, base, merged].iter().all(|c| c.slots[IN_FLIGHT] <= i64::MAX as u64);
        if !gauge_exact {
            sum.in_flight = ext(&merged).in_flight;
        }
        prop_assert_eq!(sum, ext(&merged));
    }
}
