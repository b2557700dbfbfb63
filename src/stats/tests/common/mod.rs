//! Shared by the property tests of dmp-stats: their proptest configuration
//! and the strategies that generate counters.

#![allow(dead_code)]

use dmp_stats::{
    account, complete, parse_histogram, parse_latency, parse_stat, parse_status, parse_summary,
    parse_u64_line, Counters, IoKind, Slots, Started, Status, Summary, BUCKET_LABELS, IN_FLIGHT,
    LAT_LABELS, NR_SLOTS,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

/// Seed of every property test's random generator, so that a failure in CI
/// repeats exactly on another machine (`cargo test` again).
pub const SEED: u64 = 0x646d_7020_7072_6f70; // "dmp prop"

/// A proptest configuration running `cases` cases from the fixed [`SEED`].
///
/// The case count is fixed here to keep `cargo test` fast; `PROPTEST_CASES`
/// and `PROPTEST_RNG_SEED` in the environment override it and the seed, to
/// search longer or elsewhere locally, e.g.
/// `PROPTEST_CASES=100000 PROPTEST_RNG_SEED=7 cargo test -p dmp-stats --test formats_props`.
/// A failing case is also recorded next to the test file, in
/// `tests/<test>.proptest-regressions` (commit it: later runs replay it first).
pub fn config(cases: u32) -> Config {
    let env = Config::default();
    Config {
        cases: if std::env::var_os("PROPTEST_CASES").is_some() {
            env.cases
        } else {
            cases
        },
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            env.rng_seed
        } else {
            RngSeed::Fixed(SEED)
        },
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..env
    }
}

/// A `u64` biased towards the values where text and arithmetic change:
/// 0, 1, powers of ten and their neighbours (one more digit), the `i64`
/// boundary (the in-flight gauge's cut) and `u64::MAX`.
pub fn edgy_u64() -> impl Strategy<Value = u64> {
    // One flat (class, raw) pair rather than a `prop_oneof!` tree: counters
    // take 88 of these, and a cheap value tree keeps the tests fast. Shrinks
    // towards class 0 and raw 0, i.e. the value 0.
    const EDGES: [u64; 6] = [
        0,
        1,
        i64::MAX as u64,
        i64::MAX as u64 + 1,
        u64::MAX - 1,
        u64::MAX,
    ];
    (0u8..7, any::<u64>()).prop_map(|(class, raw)| match class {
        0..=2 => raw,
        3 | 4 => raw % 2000,
        5 => {
            let p = 10u64.pow((raw % 20) as u32);
            // p - 1, p or p + 1: one digit more or less.
            p - 1 + (raw / 20) % 3
        }
        _ => EDGES[(raw % 6) as usize],
    })
}

/// Counters with every slot independent (not necessarily reachable by
/// I/O: e.g. bytes without requests); what formats and sums must survive.
pub fn any_counters() -> impl Strategy<Value = Counters> {
    // A Vec, not `proptest::array`: 88 value trees overflow a test thread's stack.
    prop::collection::vec(edgy_u64(), NR_SLOTS).prop_map(|v| {
        let mut slots = [0u64; NR_SLOTS];
        slots.copy_from_slice(&v);
        Counters::from_slots(slots)
    })
}

/// A request as the module sees it: kind, size, preflush, time it took, error.
#[derive(Clone, Copy, Debug)]
pub struct Io {
    pub kind: IoKind,
    pub bytes: u64,
    pub preflush: bool,
    pub ns: u64,
    pub error: bool,
    /// CPU of `map` and of the completion, out of [`NR_CPUS`].
    pub map_cpu: usize,
    pub end_cpu: usize,
    /// Whether it completed (else it is still in flight).
    pub done: bool,
}

/// CPUs of the generated per-CPU arrays.
pub const NR_CPUS: usize = 3;

pub fn io_kind() -> impl Strategy<Value = IoKind> {
    prop_oneof![
        Just(IoKind::Read),
        Just(IoKind::Write),
        Just(IoKind::Discard),
        Just(IoKind::Other)
    ]
}

pub fn io() -> impl Strategy<Value = Io> {
    (
        io_kind(),
        prop_oneof![edgy_u64(), (0u64..24).prop_map(|s| 1u64 << s)],
        any::<bool>(),
        prop_oneof![edgy_u64(), 0u64..3_000_000_000],
        any::<bool>(),
        0..NR_CPUS,
        0..NR_CPUS,
        prop::bool::weighted(0.8),
    )
        .prop_map(|(kind, bytes, preflush, ns, error, map_cpu, end_cpu, done)| Io {
            kind,
            bytes,
            preflush,
            ns,
            error,
            map_cpu,
            end_cpu,
            done,
        })
}

/// The per-CPU arrays after `ios`, as the kernel fills them: `map` adds the
/// bio's [`account`] increments and 1 in flight on its CPU, the completion
/// adds [`complete`]'s on its own (busy time: the request's time).
pub fn percpu_after(ios: &[Io]) -> [Slots; NR_CPUS] {
    let mut cpus = [[0u64; NR_SLOTS]; NR_CPUS];
    for io in ios {
        let m = &mut cpus[io.map_cpu];
        for a in account(io.kind, io.bytes, io.preflush).adds() {
            m[a.slot()] = m[a.slot()].wrapping_add(a.value());
        }
        m[IN_FLIGHT] = m[IN_FLIGHT].wrapping_add(1);
        if io.done {
            let d = complete(
                &Started::new(io.kind, io.preflush, 0),
                io.ns,
                io.error,
                io.ns,
            );
            let e = &mut cpus[io.end_cpu];
            for a in d.adds() {
                e[a.slot()] = e[a.slot()].wrapping_add(a.value());
            }
        }
    }
    cpus
}

/// What a reader sums from the per-CPU arrays ([`Counters::add_percpu`]).
pub fn sum_percpu(cpus: &[Slots]) -> Counters {
    let mut c = Counters::zero();
    for s in cpus {
        c.add_percpu(s);
    }
    c
}

/// Counters reachable by I/O: requests spread over CPUs, most completed.
pub fn io_counters() -> impl Strategy<Value = Counters> {
    prop::collection::vec(io(), 0..24).prop_map(|ios| sum_percpu(&percpu_after(&ios)))
}

/// Either kind of counters.
pub fn counters() -> impl Strategy<Value = Counters> {
    prop_oneof![any_counters(), io_counters()]
}

// ------------------------------------------------------------ canonical texts
//
// Written here from the formats' documentation (stats.rs, interfaces), not
// with the module's formatters: what a parser's result must render back to.

pub fn canon_summary(s: &Summary) -> String {
    format!(
        "read:\n reqs: {}\n avg size: {}\nwrite:\n reqs: {}\n avg size: {}\ntotal:\n reqs: {}\n avg size: {}\n",
        s.read_reqs, s.read_avg, s.write_reqs, s.write_avg, s.total_reqs, s.total_avg
    )
}

pub fn canon_labelled(labels: &[&str], rows: &[(u64, u64)]) -> String {
    labels
        .iter()
        .zip(rows)
        .map(|(l, (r, w))| format!("{l} {r} {w}\n"))
        .collect()
}

pub fn canon_fields(v: &[u64]) -> String {
    v.iter().map(u64::to_string).collect::<Vec<_>>().join(" ")
}

pub fn canon_status(s: &Status) -> String {
    let mut v = vec![
        s.read_cnt,
        s.read_bytes,
        s.write_cnt,
        s.write_bytes,
        s.discard_cnt,
        s.discard_bytes,
        s.flush_cnt,
    ];
    if let Some(l) = &s.latency {
        v.extend([
            l.in_flight,
            l.io_ticks_ms,
            l.read_ms,
            l.write_ms,
            l.discard_ms,
            l.flush_ms,
            l.read_errors,
            l.write_errors,
            l.discard_errors,
        ]);
    }
    canon_fields(&v)
}

/// `text` with leading zeros dropped from every run of digits ("007" is
/// "7", "0" stays): the parsers accept them, the one leniency they have.
pub fn without_leading_zeros(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if !run.is_empty() {
            let t = run.trim_start_matches('0');
            out.push_str(if t.is_empty() { "0" } else { t });
            run.clear();
        }
    };
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            run.push(ch);
        } else {
            flush(&mut run, &mut out);
            out.push(ch);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// A parser of sysfs text and the canonical text of what it returned
/// (`None`: it rejected the text).
pub type Reparse = fn(&str) -> Option<String>;

/// The formats with a parser, by the name of their corpus directory.
pub const FORMATS: [&str; 6] = ["single", "summary", "histogram", "latency", "stat", "status"];

/// The [`Reparse`] of a format of [`FORMATS`].
pub fn reparse(format: &str) -> Reparse {
    match format {
        "single" => |t| parse_u64_line(t).ok().map(|v| format!("{v}\n")),
        "summary" => |t| parse_summary(t).ok().map(|s| canon_summary(&s)),
        "histogram" => |t| {
            parse_histogram(t)
                .ok()
                .map(|h| canon_labelled(&BUCKET_LABELS, &h))
        },
        "latency" => |t| parse_latency(t).ok().map(|h| canon_labelled(&LAT_LABELS, &h)),
        "stat" => |t| parse_stat(t).ok().map(|f| canon_fields(&f) + "\n"),
        "status" => |t| {
            // One trailing newline is tolerated (a line of dmsetup's output).
            parse_status(t)
                .ok()
                .map(|s| canon_status(&s) + if t.ends_with('\n') { "\n" } else { "" })
        },
        other => panic!("no format {other}"),
    }
}

/// Checks what a parser made of `text`: rejected, or accepted and then
/// `text` is the canonical text of the result (up to leading zeros).
/// Returns whether it was accepted.
pub fn check_reparse(format: &str, text: &str) -> Result<bool, TestCaseError> {
    match reparse(format)(text) {
        None => Ok(false),
        Some(canonical) => {
            prop_assert_eq!(
                canonical,
                without_leading_zeros(text),
                "{} accepted a text that is not canonical",
                format
            );
            Ok(true)
        }
    }
}

/// One edit of a text: a character inserted, deleted or replaced.
#[derive(Clone, Debug)]
pub enum Edit {
    Insert(Index, char),
    Delete(Index),
    Replace(Index, char),
}

pub fn edit() -> impl Strategy<Value = Edit> {
    // Characters the formats give meaning to, and a few they must refuse.
    let ch = prop::sample::select(vec![
        '0', '1', '9', ' ', '\n', '\t', '\r', ':', '-', '+', 'K', 'u', 's', '<', '>', '=', 'x',
        '\u{0661}', '\u{ff10}', '\0',
    ]);
    prop_oneof![
        (any::<Index>(), ch.clone()).prop_map(|(i, c)| Edit::Insert(i, c)),
        any::<Index>().prop_map(Edit::Delete),
        (any::<Index>(), ch).prop_map(|(i, c)| Edit::Replace(i, c)),
    ]
}

pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        match e {
            Edit::Insert(i, c) => {
                let at = i.index(chars.len() + 1);
                chars.insert(at, *c);
            }
            Edit::Delete(i) if !chars.is_empty() => {
                let at = i.index(chars.len());
                chars.remove(at);
            }
            Edit::Replace(i, c) if !chars.is_empty() => {
                let at = i.index(chars.len());
                chars[at] = *c;
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

