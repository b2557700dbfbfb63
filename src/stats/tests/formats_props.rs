//! Property tests of the text formats of dmp-stats, over generated counters
//! (independent slots with values biased to digit-count and `i64`/`u64`
//! edges, and counters reached by generated I/O spread over CPUs):
//!
//! * every file of `StatFile::ALL`, `volumes` and the `dmsetup status` text
//!   parse back, with the parser dmpstat uses, into exactly what was rendered;
//! * a parser accepts only the canonical rendering of what it returns
//!   (checked on renderings with bytes inserted, deleted and replaced), the
//!   one tolerance being leading zeros in a number;
//! * no rendering, whatever the counters, reaches a sysfs page (PAGE_SIZE,
//!   4096 bytes: sysfs treats a `show` of PAGE_SIZE or more as an overflow),
//!   and rendering into the kernel's page writer gives the same bytes.

mod common;

use common::{apply, check_reparse, config, counters, edit, reparse, without_leading_zeros, Reparse};
use dmp_stats::{
    parse_histogram, parse_latency, parse_stat, parse_status, parse_summary, parse_u64_line,
    stat_fields, write_status, write_summary, Counters, SliceWriter, StatFile, Status, Summary,
    NR_SLOTS,
};
use proptest::prelude::*;

/// The sysfs page a `show` fills (x86-64 and every architecture dmp builds for).
const PAGE_SIZE: usize = 4096;

fn render(f: StatFile, c: &Counters) -> String {
    let mut s = String::new();
    f.render(c, &mut s).expect("render into a String");
    s
}

fn status(c: &Counters) -> String {
    let mut s = String::new();
    write_status(c, &mut s).expect("status into a String");
    s
}

fn summary(c: &Counters) -> String {
    let mut s = String::new();
    write_summary(c, &mut s).expect("summary into a String");
    s
}

/// The formats with a parser: the name of its corpus directory, its
/// rendering, its parser's canonical text (see [`common::reparse`]).
fn formats() -> Vec<(&'static str, fn(&Counters) -> String, Reparse)> {
    let renderings: [(&str, fn(&Counters) -> String); 6] = [
        ("single", |c| render(StatFile::TotalAvrBs, c)),
        ("summary", summary),
        ("histogram", |c| render(StatFile::Histogram, c)),
        ("latency", |c| render(StatFile::Latency, c)),
        ("stat", |c| render(StatFile::Stat, c)),
        ("status", status),
    ];
    renderings
        .into_iter()
        .map(|(name, r)| (name, r, reparse(name)))
        .collect()
}

/// The longest text `f` can render: its text for all-zero counters with
/// each number ("0") widened to the 20 digits of `u64::MAX`.
fn bound(text_of_zero: &str) -> usize {
    let numbers = text_of_zero
        .split(|c: char| c == ' ' || c == '\n')
        .filter(|t| *t == "0")
        .count();
    text_of_zero.len() + numbers * (u64::MAX.to_string().len() - 1)
}

proptest! {
    #![proptest_config(config(256))]

    /// parse(render(c)) is what the file shows of `c`, for every file.
    #[test]
    fn every_file_parses_back(c in counters()) {
        for f in StatFile::ALL {
            let text = render(f, &c);
            match f {
                StatFile::Summary => prop_assert_eq!(parse_summary(&text), Ok(Summary::of(&c))),
                StatFile::Histogram => {
                    let h = parse_histogram(&text).expect("histogram parses");
                    for (i, &(r, w)) in h.iter().enumerate() {
                        prop_assert_eq!((r, w), (c.hist_read(i), c.hist_write(i)), "bucket {}", i);
                    }
                }
                StatFile::Latency => {
                    let h = parse_latency(&text).expect("latency parses");
                    for (i, &(r, w)) in h.iter().enumerate() {
                        prop_assert_eq!((r, w), (c.lat_read(i), c.lat_write(i)), "bucket {}", i);
                    }
                }
                StatFile::Stat => prop_assert_eq!(parse_stat(&text), Ok(stat_fields(&c))),
                _ => prop_assert_eq!(
                    parse_u64_line(&text),
                    Ok(f.value(&c).expect("a single-value file")),
                    "{}", f.name()
                ),
            }
        }
        // `volumes` is the summary of the aggregate, the status line dmsetup's.
        prop_assert_eq!(parse_summary(&summary(&c)), Ok(Summary::of(&c)));
        prop_assert_eq!(parse_status(&status(&c)), Ok(Status::of(&c)));
        prop_assert_eq!(parse_status(&(status(&c) + "\n")), Ok(Status::of(&c)));
    }

    /// The renderings are the canonical texts written here from the
    /// documentation, and a parser accepts a text only when it is the
    /// canonical text of what it returns (up to leading zeros).
    #[test]
    fn parsers_accept_only_canonical_text(
        c in counters(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        for (name, rendering, reparse) in formats() {
            let text = rendering(&c);
            prop_assert_eq!(reparse(&text), Some(text.clone()), "{} renders canonically", name);
            check_reparse(name, &apply(&text, &edits))?;
        }
    }

    /// Whatever the counters, no file reaches a page and the kernel's page
    /// writer gets every byte of it.
    #[test]
    fn every_rendering_fits_a_page(c in counters()) {
        let mut texts: Vec<(&str, String)> =
            StatFile::ALL.iter().map(|f| (f.name(), render(*f, &c))).collect();
        texts.push(("volumes", summary(&c)));
        texts.push(("status", status(&c)));
        for (name, text) in &texts {
            prop_assert!(text.len() < PAGE_SIZE, "{}: {} bytes", name, text.len());
        }
        for f in StatFile::ALL {
            let mut page = [0u8; PAGE_SIZE];
            let mut w = SliceWriter::new(&mut page);
            prop_assert!(f.render(&c, &mut w).is_ok(), "{} fits the page writer", f.name());
            let text = render(f, &c);
            prop_assert_eq!(w.written(), text.as_bytes());
        }
        let mut page = [0u8; PAGE_SIZE];
        let mut w = SliceWriter::new(&mut page);
        prop_assert!(write_status(&c, &mut w).is_ok());
        let text = status(&c);
        prop_assert_eq!(w.written(), text.as_bytes());
    }

    /// The bound of `longest_renderings_fit_a_page` holds for any counters
    /// (every number a file prints takes at most 20 digits, the text around
    /// it is fixed).
    #[test]
    fn renderings_stay_within_their_bound(c in counters()) {
        let zero = Counters::zero();
        for f in StatFile::ALL {
            prop_assert!(render(f, &c).len() <= bound(&render(f, &zero)), "{}", f.name());
        }
        prop_assert!(status(&c).len() <= bound(&status(&zero)));
    }
}

/// The longest text each file can have (all its numbers of 20 digits, see
/// [`bound`]) stays under a page.
#[test]
fn longest_renderings_fit_a_page() {
    let zero = Counters::zero();
    let max = Counters::from_slots([u64::MAX; NR_SLOTS]);
    for f in StatFile::ALL {
        let b = bound(&render(f, &zero));
        assert!(b < PAGE_SIZE, "{}: up to {} bytes", f.name(), b);
        assert!(render(f, &max).len() <= b, "{}", f.name());
    }
    let b = bound(&status(&zero));
    assert!(b < PAGE_SIZE, "status: up to {b} bytes");
    // The widest file is the latency histogram: 22 labelled lines of two numbers.
    assert_eq!(bound(&render(StatFile::Latency, &zero)), 1062);
}

#[test]
fn leading_zeros_are_tolerated() {
    // The one leniency the canonical-text property allows, pinned here so
    // that a change to it is seen.
    assert_eq!(parse_u64_line("007\n"), Ok(7));
    assert_eq!(without_leading_zeros("read 007 0 00 10\n"), "read 7 0 0 10\n");
}
