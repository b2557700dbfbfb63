//! Tests of the dmp statistics: accounting, formats byte for byte, parsers.

use dmp_stats::*;
use std::fmt::Write as _;

/// The example of interfaces.md: 176 reads of 4096 bytes, 7 writes of 1024 bytes.
fn example() -> Counters {
    let mut slots = [0u64; NR_SLOTS];
    for _ in 0..176 {
        account(IoKind::Read, 4096, false).apply(&mut slots);
    }
    for _ in 0..7 {
        account(IoKind::Write, 1024, false).apply(&mut slots);
    }
    Counters::from_slots(slots)
}

fn render(f: StatFile, c: &Counters) -> String {
    let mut s = String::new();
    f.render(c, &mut s).expect("render into a String");
    s
}

fn summary(c: &Counters) -> String {
    let mut s = String::new();
    write_summary(c, &mut s).expect("write into a String");
    s
}

fn status(c: &Counters) -> String {
    let mut s = String::new();
    write_status(c, &mut s).expect("write into a String");
    s
}

const EXAMPLE_SUMMARY: &str = "read:\n reqs: 176\n avg size: 4096\nwrite:\n reqs: 7\n avg size: 1024\ntotal:\n reqs: 183\n avg size: 3978\n";

// ---------------------------------------------------------------- layout

#[test]
fn slot_layout_is_fixed() {
    assert_eq!(
        [
            READ_CNT,
            READ_BYTES,
            WRITE_CNT,
            WRITE_BYTES,
            DISCARD_CNT,
            DISCARD_BYTES,
            FLUSH_CNT
        ],
        [0, 1, 2, 3, 4, 5, 6]
    );
    assert_eq!(HIST_READ, 7);
    assert_eq!(HIST_WRITE, 20);
    assert_eq!(
        [
            READ_NS,
            WRITE_NS,
            DISCARD_NS,
            FLUSH_NS,
            DISCARD_DONE,
            FLUSH_DONE,
            READ_ERR,
            WRITE_ERR,
            DISCARD_ERR,
            IN_FLIGHT,
            IO_TICKS_NS
        ],
        [33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43]
    );
    assert_eq!((LAT_READ, LAT_WRITE), (44, 66));
    assert_eq!(NR_SLOTS, 88);
    assert_eq!(NR_BUCKETS, 13);
    assert_eq!(BUCKET_LABELS[0], "<512");
    assert_eq!(BUCKET_LABELS[4], "4K");
    assert_eq!(BUCKET_LABELS[12], ">=1M");
}

// ---------------------------------------------------------------- buckets

#[test]
fn bucket_boundaries() {
    let table: &[(u64, usize)] = &[
        (0, 0),
        (1, 0),
        (511, 0),
        (512, 1),
        (1023, 1),
        (1024, 2),
        (2047, 2),
        (2048, 3),
        (4095, 3),
        (4096, 4),
        (8191, 4),
        (8192, 5),
        (65536, 8),
        (512 * 1024 - 1, 10),
        (512 * 1024, 11),
        (1024 * 1024 - 1, 11),
        (1024 * 1024, 12),
        (1024 * 1024 * 1024, 12),
        (u64::MAX, 12),
    ];
    for &(bytes, want) in table {
        assert_eq!(bucket(bytes), want, "bucket({bytes})");
    }
}

#[test]
fn bucket_matches_labels() {
    // Each labelled power of two lands in its own bucket.
    for i in 1..12 {
        let size = 256u64 << i;
        assert_eq!(bucket(size), i, "size {size}");
        assert_eq!(bucket(size * 2 - 1), i, "size {}", size * 2 - 1);
    }
}

// ---------------------------------------------------------------- account

fn updates(u: &Update) -> Vec<(usize, u64)> {
    u.iter().collect()
}

#[test]
fn account_read_and_write() {
    assert_eq!(
        updates(&account(IoKind::Read, 4096, false)),
        vec![(READ_CNT, 1), (READ_BYTES, 4096), (HIST_READ + 4, 1)]
    );
    assert_eq!(
        updates(&account(IoKind::Read, 4096, true)),
        vec![
            (READ_CNT, 1),
            (READ_BYTES, 4096),
            (HIST_READ + 4, 1),
            (FLUSH_CNT, 1)
        ]
    );
    assert_eq!(
        updates(&account(IoKind::Write, 1 << 20, false)),
        vec![(WRITE_CNT, 1), (WRITE_BYTES, 1 << 20), (HIST_WRITE + 12, 1)]
    );
    assert_eq!(
        updates(&account(IoKind::Write, 512, true)),
        vec![
            (WRITE_CNT, 1),
            (WRITE_BYTES, 512),
            (HIST_WRITE + 1, 1),
            (FLUSH_CNT, 1)
        ]
    );
}

#[test]
fn account_empty_flush_is_a_zero_byte_write_and_a_flush() {
    let u = account(IoKind::Write, 0, true);
    assert_eq!(
        updates(&u),
        vec![
            (WRITE_CNT, 1),
            (WRITE_BYTES, 0),
            (HIST_WRITE, 1),
            (FLUSH_CNT, 1)
        ]
    );
    let mut slots = [0u64; NR_SLOTS];
    u.apply(&mut slots);
    let c = Counters::from_slots(slots);
    assert_eq!((c.write_cnt(), c.write_bytes(), c.flush_cnt()), (1, 0, 1));
    assert_eq!(c.hist_write(0), 1);
    assert_eq!(c.write_avg(), 0);
}

#[test]
fn account_discard_and_other() {
    assert_eq!(
        updates(&account(IoKind::Discard, 1 << 30, false)),
        vec![(DISCARD_CNT, 1), (DISCARD_BYTES, 1 << 30)]
    );
    assert_eq!(
        updates(&account(IoKind::Discard, 4096, true)),
        vec![(DISCARD_CNT, 1), (DISCARD_BYTES, 4096), (FLUSH_CNT, 1)]
    );
    let other = account(IoKind::Other, 4096, false);
    assert!(other.is_empty());
    assert_eq!(other.len(), 0);
    assert_eq!(
        updates(&account(IoKind::Other, 4096, true)),
        vec![(FLUSH_CNT, 1)]
    );
}

/// The kernel's way (the per-CPU adds only, counts derived by the reader)
/// gives exactly what `apply` gives on a snapshot.
#[test]
fn percpu_adds_summed_equal_apply() {
    let mut percpu = [[0u64; NR_SLOTS]; 2];
    let mut snapshot = [0u64; NR_SLOTS];
    let mut i = 0usize;
    for kind in [IoKind::Read, IoKind::Write, IoKind::Discard, IoKind::Other] {
        for bytes in [0, 1, 511, 512, 4096, 70_000, 1 << 20, u64::MAX] {
            for preflush in [false, true] {
                let u = account(kind, bytes, preflush);
                assert_eq!(
                    u.adds()[UPDATE_ADDS - 1].slot(),
                    FLUSH_CNT,
                    "the last add is the flush count"
                );
                assert_eq!(u.adds()[UPDATE_ADDS - 1].value(), u64::from(preflush));
                u.apply(&mut snapshot);
                let cpu = &mut percpu[i % 2];
                i += 1;
                for a in u.adds() {
                    assert!(a.slot() < NR_SLOTS);
                    cpu[a.slot()] = cpu[a.slot()].wrapping_add(a.value());
                }
            }
        }
    }
    let mut summed = Counters::zero();
    for cpu in &percpu {
        assert_eq!(
            (cpu[READ_CNT], cpu[WRITE_CNT]),
            (0, 0),
            "counts are never added per CPU"
        );
        summed.add_percpu(cpu);
    }
    assert_eq!(summed, Counters::from_slots(snapshot));
    assert_eq!(
        (summed.read_cnt(), summed.write_cnt(), summed.discard_cnt()),
        (16, 16, 16)
    );
    assert_eq!(summed.flush_cnt(), 32);
}

#[test]
fn account_never_touches_slots_out_of_range() {
    for kind in [IoKind::Read, IoKind::Write, IoKind::Discard, IoKind::Other] {
        for bytes in [0, 511, 512, 4096, 1 << 20, u64::MAX] {
            for preflush in [false, true] {
                for (slot, _) in account(kind, bytes, preflush).iter() {
                    assert!(slot < NR_SLOTS, "{kind:?} {bytes} {preflush}: slot {slot}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------- counters

#[test]
fn example_accessors() {
    let c = example();
    assert_eq!(c.read_cnt(), 176);
    assert_eq!(c.read_bytes(), 176 * 4096);
    assert_eq!(c.write_cnt(), 7);
    assert_eq!(c.write_bytes(), 7 * 1024);
    assert_eq!(c.total_cnt(), 183);
    assert_eq!(c.total_bytes(), 176 * 4096 + 7 * 1024);
    assert_eq!(c.read_avg(), 4096);
    assert_eq!(c.write_avg(), 1024);
    // (720896 + 7168) / 183 = 3978.49..., not the mean of the averages (2560).
    assert_eq!(c.total_avg(), 3978);
    assert_eq!(c.hist_read(4), 176);
    assert_eq!(c.hist_write(2), 7);
    assert_eq!(c.hist_read(2), 0);
    assert_eq!(c.hist_read(NR_BUCKETS), 0);
    assert_eq!(c.hist_write(usize::MAX), 0);
    assert_eq!(
        (c.discard_cnt(), c.discard_bytes(), c.flush_cnt()),
        (0, 0, 0)
    );
}

#[test]
fn idle_device_is_all_zero() {
    let c = Counters::zero();
    assert_eq!(c, Counters::default());
    assert_eq!((c.read_avg(), c.write_avg(), c.total_avg()), (0, 0, 0));
    assert_eq!(
        summary(&c),
        "read:\n reqs: 0\n avg size: 0\nwrite:\n reqs: 0\n avg size: 0\ntotal:\n reqs: 0\n avg size: 0\n"
    );
    for f in StatFile::ALL {
        let text = render(f, &c);
        match f {
            StatFile::Summary | StatFile::Histogram | StatFile::Latency => {}
            StatFile::Stat => assert_eq!(text, format!("{}0\n", "0 ".repeat(STAT_FIELDS - 1))),
            _ => assert_eq!(text, "0\n", "{}", f.name()),
        }
    }
    assert_eq!(status(&c), "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0");
}

#[test]
fn averages_round_down() {
    let mut c = Counters::zero();
    c.slots[READ_CNT] = 3;
    c.slots[READ_BYTES] = 10;
    c.slots[WRITE_CNT] = 2;
    c.slots[WRITE_BYTES] = 3;
    assert_eq!(c.read_avg(), 3);
    assert_eq!(c.write_avg(), 1);
    assert_eq!(c.total_avg(), 2); // 13 / 5
}

#[test]
fn only_writes_total_avg_is_write_avg() {
    let mut c = Counters::zero();
    c.slots[WRITE_CNT] = 4;
    c.slots[WRITE_BYTES] = 4 * 8192;
    assert_eq!(c.read_avg(), 0);
    assert_eq!(c.total_avg(), 8192);
}

#[test]
fn large_values_do_not_overflow_the_averages() {
    let mut c = Counters::zero();
    c.slots[READ_CNT] = 2;
    c.slots[READ_BYTES] = u64::MAX;
    c.slots[WRITE_CNT] = 2;
    c.slots[WRITE_BYTES] = u64::MAX;
    // Sum of bytes exceeds u64: the exact quotient is (2^65 - 2) / 4.
    let want = ((u64::MAX as u128 * 2) / 4) as u64;
    assert_eq!(c.total_avg(), want);
    assert_eq!(c.read_avg(), u64::MAX / 2);
    // Totals wrap like the counters themselves (documented).
    assert_eq!(c.total_bytes(), u64::MAX.wrapping_add(u64::MAX));
    assert_eq!(c.total_cnt(), 4);

    // Both sums overflow.
    let mut c = Counters::zero();
    c.slots[READ_CNT] = u64::MAX;
    c.slots[READ_BYTES] = u64::MAX;
    c.slots[WRITE_CNT] = u64::MAX;
    c.slots[WRITE_BYTES] = u64::MAX;
    assert_eq!(c.total_avg(), 1);
    assert_eq!(c.total_cnt(), u64::MAX - 1);

    // Request count overflows but bytes do not.
    let mut c = Counters::zero();
    c.slots[READ_CNT] = u64::MAX;
    c.slots[READ_BYTES] = 0;
    c.slots[WRITE_CNT] = 1;
    c.slots[WRITE_BYTES] = 1000;
    assert_eq!(c.total_avg(), 0);
}

#[test]
fn total_avg_matches_u128_reference() {
    // A small deterministic generator: xorshift64.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..2000 {
        let mut c = Counters::zero();
        let shift = (i % 64) as u32;
        c.slots[READ_CNT] = next() >> shift;
        c.slots[WRITE_CNT] = next() >> (63 - shift);
        c.slots[READ_BYTES] = next();
        c.slots[WRITE_BYTES] = next() >> shift;
        let bytes = c.read_bytes() as u128 + c.write_bytes() as u128;
        let reqs = c.read_cnt() as u128 + c.write_cnt() as u128;
        let want = bytes
            .checked_div(reqs)
            .map_or(0, |q| q.min(u64::MAX as u128) as u64);
        assert_eq!(c.total_avg(), want, "{:?}", &c.slots[..4]);
    }
}

#[test]
fn merge_and_since() {
    let a = example();
    let mut b = Counters::zero();
    account(IoKind::Discard, 4096, true).apply(&mut b.slots);
    let mut sum = a;
    sum.merge(&b);
    assert_eq!(sum.read_cnt(), 176);
    assert_eq!(sum.discard_cnt(), 1);
    assert_eq!(sum.flush_cnt(), 1);
    assert_eq!(sum.since(&a), b);
    assert_eq!(sum.since(&b), a);
    assert_eq!(a.since(&a), Counters::zero());

    let mut via_slots = Counters::zero();
    via_slots.add_slots(&a.slots);
    via_slots.add_slots(&b.slots);
    assert_eq!(via_slots, sum);
}

#[test]
fn merge_and_since_wrap() {
    let mut base = Counters::zero();
    base.slots[READ_CNT] = u64::MAX - 1;
    let mut now = base;
    let mut one = Counters::zero();
    one.slots[READ_CNT] = 5;
    now.merge(&one); // wraps to 3
    assert_eq!(now.read_cnt(), 3);
    assert_eq!(now.since(&base).read_cnt(), 5);
}

// ---------------------------------------------------------------- formats

#[test]
fn summary_matches_interfaces_md() {
    let c = example();
    assert_eq!(summary(&c), EXAMPLE_SUMMARY);
    assert_eq!(render(StatFile::Summary, &c), EXAMPLE_SUMMARY);
}

#[test]
fn single_value_files_of_the_example() {
    let c = example();
    let want = [
        (StatFile::ReadCnt, "176\n"),
        (StatFile::WriteCnt, "7\n"),
        (StatFile::TotalCnt, "183\n"),
        (StatFile::ReadAvrBs, "4096\n"),
        (StatFile::WriteAvrBs, "1024\n"),
        (StatFile::TotalAvrBs, "3978\n"),
        (StatFile::ReadBytes, "720896\n"),
        (StatFile::WriteBytes, "7168\n"),
        (StatFile::DiscardCnt, "0\n"),
        (StatFile::DiscardBytes, "0\n"),
        (StatFile::FlushCnt, "0\n"),
    ];
    for (f, text) in want {
        assert_eq!(render(f, &c), text, "{}", f.name());
    }
}

#[test]
fn histogram_of_the_example() {
    let c = example();
    let want = "<512 0 0\n512 0 0\n1K 0 7\n2K 0 0\n4K 176 0\n8K 0 0\n16K 0 0\n32K 0 0\n64K 0 0\n128K 0 0\n256K 0 0\n512K 0 0\n>=1M 0 0\n";
    assert_eq!(render(StatFile::Histogram, &c), want);
}

#[test]
fn status_of_the_example() {
    let mut c = example();
    account(IoKind::Discard, 8192, false).apply(&mut c.slots);
    account(IoKind::Write, 0, true).apply(&mut c.slots);
    assert_eq!(status(&c), "176 720896 8 7168 1 8192 1 0 0 0 0 0 0 0 0 0");
}

#[test]
fn u64_max_is_printed_in_full() {
    // Every counter in full; the in-flight gauge (field 8) at 2^64 − 1 is a
    // "negative" per-CPU sum and reads 0 (in_flight_never_wraps).
    let c = Counters::from_slots([u64::MAX; NR_SLOTS]);
    assert_eq!(render(StatFile::ReadBytes, &c), "18446744073709551615\n");
    assert_eq!(
        status(&c),
        "18446744073709551615 18446744073709551615 18446744073709551615 18446744073709551615 \
         18446744073709551615 18446744073709551615 18446744073709551615 \
         0 18446744073709 18446744073709 18446744073709 18446744073709 18446744073709 \
         18446744073709551615 18446744073709551615 18446744073709551615"
    );
    assert_eq!(c.total_avg(), 1);
}

#[test]
fn stat_file_names_and_order() {
    let names: Vec<&str> = StatFile::ALL.iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        [
            "read_cnt",
            "write_cnt",
            "total_cnt",
            "read_avr_bs",
            "write_avr_bs",
            "total_avr_bs",
            "summary",
            "read_bytes",
            "write_bytes",
            "discard_cnt",
            "discard_bytes",
            "flush_cnt",
            "histogram",
            "stat",
            "latency"
        ]
    );
    for f in StatFile::ALL {
        assert_eq!(StatFile::from_name(f.name()), Some(f));
    }
    assert_eq!(StatFile::from_name("volumes"), None);
    assert_eq!(StatFile::from_name(""), None);
}

// ---------------------------------------------------------------- SliceWriter

#[test]
fn slice_writer_fits() {
    let mut buf = [0xAAu8; 64];
    let mut w = SliceWriter::new(&mut buf);
    assert!(w.is_empty());
    StatFile::TotalAvrBs
        .render(&example(), &mut w)
        .expect("fits");
    assert_eq!(w.len(), 5);
    assert_eq!(w.written(), b"3978\n");
    assert_eq!(buf[5], 0xAA);
}

#[test]
fn slice_writer_overflow_stops_at_the_end() {
    let mut buf = [0u8; 40];
    {
        let mut w = SliceWriter::new(&mut buf[..20]);
        assert!(write_summary(&example(), &mut w).is_err());
        assert_eq!(w.len(), 20);
        assert_eq!(w.written(), &EXAMPLE_SUMMARY.as_bytes()[..20]);
        // Once full, every further write fails and changes nothing.
        assert!(w.write_str("x").is_err());
        assert!(w.write_str("").is_ok());
        assert_eq!(w.len(), 20);
    }
    assert!(buf[20..].iter().all(|&b| b == 0), "wrote past the slice");
}

#[test]
fn slice_writer_exact_fit_and_empty_buffer() {
    let mut buf = [0u8; 5];
    let mut w = SliceWriter::new(&mut buf);
    assert!(w.write_str("3978\n").is_ok());
    assert!(w.write_str("1").is_err());
    let mut empty: [u8; 0] = [];
    let mut w = SliceWriter::new(&mut empty);
    assert!(w.write_str("1").is_err());
    assert_eq!(w.len(), 0);
}

#[test]
fn full_summary_of_u64_max_fits_a_page() {
    let c = Counters::from_slots([u64::MAX; NR_SLOTS]);
    let mut page = [0u8; 4096];
    for f in StatFile::ALL {
        let mut w = SliceWriter::new(&mut page);
        f.render(&c, &mut w).expect("fits in a page");
    }
}

// ---------------------------------------------------------------- reset / message

#[test]
fn parse_reset_table() {
    assert_eq!(parse_reset(b"1"), Ok(()));
    assert_eq!(parse_reset(b"1\n"), Ok(()));
    let long = [b'1'; 8192];
    let rejects: &[&[u8]] = &[
        b"",
        b"\n",
        b"0",
        b"0\n",
        b"2",
        b"abc",
        b"11",
        b"1 ",
        b" 1",
        b"1\n\n",
        b"1\r\n",
        b"1\0",
        b"\x01",
        b"\xff\xfe",
        b"01",
        b"+1",
        b"true",
        &long,
    ];
    for r in rejects {
        assert_eq!(parse_reset(r), Err(InputError::Invalid), "{:?}", r);
    }
    assert!(InputError::Invalid.to_string().contains("write 1"));
}

#[test]
fn parse_message_table() {
    assert_eq!(parse_message(&[b"reset"]), Ok(Message::Reset));
    assert_eq!(parse_message(&[]), Err(MessageError::Empty));
    assert_eq!(parse_message(&[b"RESET"]), Err(MessageError::Unknown));
    assert_eq!(parse_message(&[b"resetx"]), Err(MessageError::Unknown));
    assert_eq!(parse_message(&[b""]), Err(MessageError::Unknown));
    assert_eq!(parse_message(&[b"stats"]), Err(MessageError::Unknown));
    assert_eq!(
        parse_message(&[b"stats", b"reset"]),
        Err(MessageError::Unknown)
    );
    assert_eq!(
        parse_message(&[b"reset", b"1"]),
        Err(MessageError::TooManyArgs)
    );
    assert_eq!(
        parse_message(&[b"reset", b"reset", b"x"]),
        Err(MessageError::TooManyArgs)
    );
    assert_eq!(
        MessageError::Unknown.to_string(),
        "unknown message; the only message is: reset"
    );
    assert!(MessageError::TooManyArgs
        .to_string()
        .contains("no arguments"));
    assert!(MessageError::Empty.to_string().contains("reset"));
}

// ---------------------------------------------------------------- parsers

#[test]
fn parse_summary_of_the_example() {
    let s = parse_summary(EXAMPLE_SUMMARY).expect("the example parses");
    assert_eq!(
        s,
        Summary {
            read_reqs: 176,
            read_avg: 4096,
            write_reqs: 7,
            write_avg: 1024,
            total_reqs: 183,
            total_avg: 3978,
        }
    );
    assert_eq!(s, Summary::of(&example()));
}

#[test]
fn parse_summary_rejects_deviations() {
    let cases: &[(&str, ParseError)] = &[
        ("", ParseError::Newline),
        (
            &EXAMPLE_SUMMARY[..EXAMPLE_SUMMARY.len() - 1],
            ParseError::Newline,
        ),
        (
            "read:\n",
            ParseError::LineCount {
                expected: 9,
                found: 1,
            },
        ),
    ];
    for (text, err) in cases {
        assert_eq!(parse_summary(text), Err(*err), "{text:?}");
    }
    let bad_line = |from: &str, to: &str| EXAMPLE_SUMMARY.replacen(from, to, 1);
    assert_eq!(
        parse_summary(&bad_line("read:", "Read:")),
        Err(ParseError::Line {
            line: 1,
            expected: "read:"
        })
    );
    assert_eq!(
        parse_summary(&bad_line(" reqs: 176", "  reqs: 176")),
        Err(ParseError::Line {
            line: 2,
            expected: " reqs: <number>"
        })
    );
    assert_eq!(
        parse_summary(&bad_line(" reqs: 176", " reqs:176")),
        Err(ParseError::Line {
            line: 2,
            expected: " reqs: <number>"
        })
    );
    assert_eq!(
        parse_summary(&bad_line(" reqs: 176", " reqs: -176")),
        Err(ParseError::Number { line: 2 })
    );
    assert_eq!(
        parse_summary(&bad_line(" reqs: 176", " reqs: 176 ")),
        Err(ParseError::Number { line: 2 })
    );
    assert_eq!(
        parse_summary(&bad_line(
            " avg size: 3978",
            " avg size: 18446744073709551616"
        )),
        Err(ParseError::Number { line: 9 })
    );
    assert_eq!(
        parse_summary(&bad_line(" avg size: 1024", " avg size: ")),
        Err(ParseError::Number { line: 6 })
    );
    assert_eq!(
        parse_summary(&bad_line("total:", "sum:")),
        Err(ParseError::Line {
            line: 7,
            expected: "total:"
        })
    );
    assert_eq!(
        parse_summary(&format!("{EXAMPLE_SUMMARY}\n")),
        Err(ParseError::LineCount {
            expected: 9,
            found: 10
        })
    );
    assert_eq!(
        parse_summary(&EXAMPLE_SUMMARY.replace('\n', "\r\n")),
        Err(ParseError::Line {
            line: 1,
            expected: "read:"
        })
    );
}

#[test]
fn parse_u64_line_table() {
    assert_eq!(parse_u64_line("0\n"), Ok(0));
    assert_eq!(parse_u64_line("183\n"), Ok(183));
    assert_eq!(parse_u64_line("18446744073709551615\n"), Ok(u64::MAX));
    assert_eq!(
        parse_u64_line("18446744073709551616\n"),
        Err(ParseError::Number { line: 1 })
    );
    assert_eq!(parse_u64_line("183"), Err(ParseError::Newline));
    assert_eq!(parse_u64_line(""), Err(ParseError::Newline));
    assert_eq!(parse_u64_line("\n"), Err(ParseError::Number { line: 1 }));
    assert_eq!(parse_u64_line("1\n2\n"), Err(ParseError::Newline));
    for bad in ["+1\n", "-1\n", " 1\n", "1 \n", "0x10\n", "1.5\n", "١\n"] {
        assert_eq!(
            parse_u64_line(bad),
            Err(ParseError::Number { line: 1 }),
            "{bad:?}"
        );
    }
}

#[test]
fn parse_histogram_rejects_deviations() {
    let good = render(StatFile::Histogram, &example());
    assert!(parse_histogram(&good).is_ok());
    assert_eq!(
        parse_histogram(&good.replacen("1K", "1k", 1)),
        Err(ParseError::Line {
            line: 3,
            expected: "<bucket label> <reads> <writes>, labels in order"
        })
    );
    assert_eq!(
        parse_histogram(&good.replacen("4K 176 0", "4K 176", 1)),
        Err(ParseError::Number { line: 5 })
    );
    assert_eq!(
        parse_histogram(&good.replacen("4K 176 0", "4K 176 0 0", 1)),
        Err(ParseError::Number { line: 5 })
    );
    assert_eq!(
        parse_histogram(&good.replacen("4K 176 0", "4K  176 0", 1)),
        Err(ParseError::Number { line: 5 })
    );
    let twelve: String = good.lines().take(12).map(|l| format!("{l}\n")).collect();
    assert_eq!(
        parse_histogram(&twelve),
        Err(ParseError::LineCount {
            expected: 13,
            found: 12
        })
    );
    // Swapped lines: labels must come in order.
    let mut lines: Vec<&str> = good.lines().collect();
    lines.swap(0, 1);
    let swapped: String = lines.iter().map(|l| format!("{l}\n")).collect();
    assert!(matches!(
        parse_histogram(&swapped),
        Err(ParseError::Line { line: 1, .. })
    ));
}

#[test]
fn parse_status_table() {
    let v1 = Status {
        read_cnt: 1,
        read_bytes: 2,
        write_cnt: 3,
        write_bytes: 4,
        discard_cnt: 5,
        discard_bytes: 6,
        flush_cnt: 7,
        latency: None,
    };
    // dmp 1.0's seven fields still parse.
    assert_eq!(parse_status("1 2 3 4 5 6 7"), Ok(v1));
    assert_eq!(parse_status("1 2 3 4 5 6 7\n").map(|s| s.flush_cnt), Ok(7));
    assert_eq!(
        parse_status("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16"),
        Ok(Status {
            latency: Some(StatusLatency {
                in_flight: 8,
                io_ticks_ms: 9,
                read_ms: 10,
                write_ms: 11,
                discard_ms: 12,
                flush_ms: 13,
                read_errors: 14,
                write_errors: 15,
                discard_errors: 16,
            }),
            ..v1
        })
    );
    assert_eq!(
        parse_status("1 2 3 4 5 6"),
        Err(ParseError::FieldCount {
            expected: 16,
            found: 6
        })
    );
    assert_eq!(
        parse_status("1 2 3 4 5 6 7 8"),
        Err(ParseError::FieldCount {
            expected: 16,
            found: 8
        })
    );
    assert_eq!(
        parse_status("1 2 3 4 5 6  7"),
        Err(ParseError::FieldCount {
            expected: 16,
            found: 8
        })
    );
    assert_eq!(
        parse_status("1 2 3 4 5 6 x"),
        Err(ParseError::Number { line: 1 })
    );
    assert_eq!(
        parse_status("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 x"),
        Err(ParseError::Number { line: 1 })
    );
    assert_eq!(parse_status("1 2 3 4 5 6 7\n\n"), Err(ParseError::Newline));
    assert_eq!(
        parse_status(""),
        Err(ParseError::FieldCount {
            expected: 16,
            found: 1
        })
    );
}

#[test]
fn parse_errors_display_clearly() {
    assert_eq!(
        ParseError::Line {
            line: 2,
            expected: " reqs: <number>"
        }
        .to_string(),
        "line 2: expected \" reqs: <number>\""
    );
    assert_eq!(
        ParseError::LineCount {
            expected: 9,
            found: 1
        }
        .to_string(),
        "expected 9 lines, found 1"
    );
    assert_eq!(
        ParseError::Number { line: 4 }.to_string(),
        "line 4: not a decimal number that fits in 64 bits"
    );
    assert!(ParseError::Newline.to_string().contains("newline"));
    assert_eq!(
        ParseError::FieldCount {
            expected: 7,
            found: 3
        }
        .to_string(),
        "expected 7 numbers, found 3"
    );
}

// ---------------------------------------------------------------- round trips

fn sample_counters() -> Vec<Counters> {
    let mut out = vec![
        Counters::zero(),
        example(),
        Counters::from_slots([u64::MAX; NR_SLOTS]),
    ];
    let mut c = Counters::zero();
    for (i, v) in c.slots.iter_mut().enumerate() {
        *v = (i as u64 + 1) * 1_000_003;
    }
    out.push(c);
    let mut mixed = example();
    for bytes in [0, 300, 512, 70_000, 3 << 20] {
        account(IoKind::Read, bytes, true).apply(&mut mixed.slots);
        account(IoKind::Write, bytes, false).apply(&mut mixed.slots);
        account(IoKind::Discard, bytes, false).apply(&mut mixed.slots);
    }
    for (i, ns) in [0u64, 999, 1000, 123_456, 2_000_000_000]
        .into_iter()
        .enumerate()
    {
        let err = i % 2 == 0;
        for kind in [IoKind::Read, IoKind::Write, IoKind::Discard, IoKind::Other] {
            complete(&Started::new(kind, err, 10), 10 + ns, err, ns).apply(&mut mixed.slots);
        }
    }
    out.push(mixed);
    out
}

#[test]
fn round_trip_every_file() {
    for c in sample_counters() {
        for f in StatFile::ALL {
            let text = render(f, &c);
            match f {
                StatFile::Summary => {
                    assert_eq!(parse_summary(&text), Ok(Summary::of(&c)));
                }
                StatFile::Histogram => {
                    let h = parse_histogram(&text).expect("histogram parses");
                    for (i, &(r, w)) in h.iter().enumerate() {
                        assert_eq!((r, w), (c.hist_read(i), c.hist_write(i)), "bucket {i}");
                    }
                }
                StatFile::Latency => {
                    let h = parse_latency(&text).expect("latency parses");
                    for (i, &(r, w)) in h.iter().enumerate() {
                        assert_eq!((r, w), (c.lat_read(i), c.lat_write(i)), "bucket {i}");
                    }
                }
                StatFile::Stat => {
                    assert_eq!(parse_stat(&text), Ok(stat_fields(&c)));
                }
                _ => {
                    assert_eq!(
                        parse_u64_line(&text),
                        Ok(f.value(&c).expect("single value")),
                        "{}",
                        f.name()
                    );
                }
            }
        }
        assert_eq!(parse_status(&status(&c)), Ok(Status::of(&c)));
    }
}

#[test]
fn round_trip_through_slice_writer() {
    let c = example();
    let mut page = [0u8; 4096];
    let mut w = SliceWriter::new(&mut page);
    StatFile::Summary.render(&c, &mut w).expect("fits");
    let text = std::str::from_utf8(w.written()).expect("utf-8");
    assert_eq!(text, EXAMPLE_SUMMARY);
    assert_eq!(parse_summary(text).map(|s| s.total_avg), Ok(3978));
}

// ---------------------------------------------------------------- latency, completions, busy time

#[test]
fn latency_bucket_boundaries() {
    let table: &[(u64, usize)] = &[
        (0, 0),
        (999, 0),
        (1000, 1),
        (1999, 1),
        (2000, 2),
        (3999, 2),
        (4000, 3),
        (262_143_999, 18),
        (262_144_000, 19),
        (524_287_999, 19),
        (524_288_000, 20),
        (999_999_999, 20),
        (1_000_000_000, 21),
        (u64::MAX, 21),
    ];
    for &(ns, b) in table {
        assert_eq!(lat_bucket(ns), b, "{ns} ns");
    }
    // Every bucket's upper bound is the next one's first value.
    for i in 0..NR_LAT_BUCKETS - 1 {
        let upper = lat_bucket_upper_ns(i).expect("bounded");
        assert_eq!(lat_bucket(upper - 1), i, "below the bound of {i}");
        assert_eq!(lat_bucket(upper), i + 1, "at the bound of {i}");
    }
    assert_eq!(lat_bucket_upper_ns(NR_LAT_BUCKETS - 1), None);
    assert_eq!(LAT_LABELS[0], "<1us");
    assert_eq!(LAT_LABELS[11], "1024us");
    assert_eq!(LAT_LABELS[21], ">=1s");
}

/// A request's life: map (account + in flight) then completion.
fn life(c: &mut Counters, kind: IoKind, bytes: u64, preflush: bool, ns: u64, error: bool) {
    account(kind, bytes, preflush).apply(&mut c.slots);
    c.slots[IN_FLIGHT] = c.slots[IN_FLIGHT].wrapping_add(1);
    complete(&Started::new(kind, preflush, 1_000), 1_000 + ns, error, 0).apply(&mut c.slots);
}

#[test]
fn completions_fill_times_histograms_errors() {
    let mut c = Counters::zero();
    life(&mut c, IoKind::Read, 4096, false, 1_500, false);
    life(&mut c, IoKind::Read, 4096, false, 3_000_000, true);
    life(&mut c, IoKind::Write, 512, true, 2_000_000_000, false);
    life(&mut c, IoKind::Write, 0, true, 700, true);
    life(&mut c, IoKind::Discard, 1 << 20, false, 5_000, true);
    life(&mut c, IoKind::Other, 0, false, 9_999, true);
    assert_eq!(
        (c.read_ns(), c.write_ns(), c.discard_ns()),
        (3_001_500, 2_000_000_700, 5_000)
    );
    assert_eq!((c.flush_ns(), c.flush_done()), (2_000_000_700, 2));
    assert_eq!((c.read_done(), c.write_done(), c.discard_done()), (2, 2, 1));
    assert_eq!(
        (c.read_errors(), c.write_errors(), c.discard_errors()),
        (1, 1, 1)
    );
    assert_eq!(c.in_flight(), 0);
    assert_eq!((c.lat_read(1), c.lat_read(12)), (1, 1)); // 1.5 us; 3 ms = 2929 us
    assert_eq!((c.lat_write(0), c.lat_write(21)), (1, 1));
    let fields = stat_fields(&c);
    // diskstats fields 4, 8, 9, 11, 15, 16, 17 and dmp's 25..31.
    assert_eq!(
        [fields[3], fields[7], fields[8], fields[10], fields[14], fields[15], fields[16]],
        [3, 2000, 0, 2003, 0, 2, 2000]
    );
    assert_eq!(&fields[24..31], &[2, 2, 1, 2, 1, 1, 1]);
    assert_eq!(
        status(&c),
        "2 8192 2 512 1 1048576 2 0 0 3 2000 0 2000 1 1 1"
    );
}

#[test]
fn in_flight_spread_over_cpus_and_kept_by_reset() {
    // Mapped on one CPU, completed on another: only the sum means something.
    let mut cpu0 = [0u64; NR_SLOTS];
    let mut cpu1 = [0u64; NR_SLOTS];
    for _ in 0..3 {
        account(IoKind::Read, 4096, false).apply(&mut cpu0);
        cpu0[IN_FLIGHT] = cpu0[IN_FLIGHT].wrapping_add(1);
    }
    complete(&Started::new(IoKind::Read, false, 0), 10, false, 0).apply(&mut cpu1);
    let mut c = Counters::zero();
    c.add_percpu(&cpu0);
    c.add_percpu(&cpu1);
    assert_eq!((c.read_cnt(), c.read_done(), c.in_flight()), (3, 1, 2));
    // A reset's baseline leaves what is in flight.
    let since = c.since(&c);
    assert_eq!(
        (since.read_cnt(), since.read_done(), since.in_flight()),
        (0, 0, 2)
    );
}

#[test]
fn clock_going_back_counts_zero_time() {
    let mut s = [0u64; NR_SLOTS];
    complete(&Started::new(IoKind::Write, false, 500), 100, false, 0).apply(&mut s);
    assert_eq!((s[WRITE_NS], s[LAT_WRITE]), (0, 1));
}

#[test]
fn busy_stamp_counts_busy_intervals() {
    const MS: u64 = 1_000_000;
    let b = BusyStamp::new();
    // Idle start at 10 ms: the stamp moves, nothing is busy yet.
    assert_eq!(b.start(10 * MS, || 0), 0);
    // Completion at 15 ms: 5 ms busy.
    assert_eq!(b.end(15 * MS), 5 * MS);
    // Idle gap to 40 ms, start with nothing in flight: not busy.
    assert_eq!(b.start(40 * MS, || 0), 0);
    // A second start at 42 ms while one is in flight: busy since 40.
    assert_eq!(b.start(42 * MS, || 1), 2 * MS);
    // Within the granularity nothing is added and in_flight is not asked.
    assert_eq!(b.end(42 * MS + MS / 2), 0);
    assert_eq!(b.start(42 * MS + MS / 2, || panic!("asked")), 0);
    // The next move adds the whole interval.
    assert_eq!(b.end(45 * MS), 3 * MS);
    // A clock behind the stamp (another CPU moved it) adds nothing.
    assert_eq!(b.end(44 * MS), 0);
}

/// A completion summed before its start (another CPU) makes the wrapping
/// per-CPU sum "negative": the kernel's files and dmsetup status read 0,
/// never 2^64 − 1, and sums over devices stay exact.
#[test]
fn in_flight_never_wraps() {
    assert_eq!(in_flight_gauge(0), 0);
    assert_eq!(in_flight_gauge(3), 3);
    assert_eq!(in_flight_gauge(u64::MAX), 0, "one ended, none started yet");
    assert_eq!(in_flight_gauge(u64::MAX - 31), 0);
    assert_eq!(in_flight_gauge(i64::MAX as u64), i64::MAX as u64);
    let mut c = example();
    c.slots[IN_FLIGHT] = u64::MAX;
    assert_eq!(c.in_flight(), 0);
    assert_eq!(stat_fields(&c)[8], 0, "stat field 9");
    let text = status(&c);
    assert_eq!(
        text.split_whitespace().nth(7),
        Some("0"),
        "status field 8: {text}"
    );
    // The raw slot stays the wrapping sum: another device with 2 in flight
    // makes the aggregate 1.
    let mut other = example();
    other.slots[IN_FLIGHT] = 2;
    c.merge(&other);
    assert_eq!(c.in_flight(), 1);
}
