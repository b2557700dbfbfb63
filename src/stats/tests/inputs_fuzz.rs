//! Fuzzing, as property tests over arbitrary input (cargo-fuzz needs a
//! nightly toolchain; this one is stable), of every parser dmp-stats has
//! for text from outside:
//!
//! * `parse_reset` (what is written to a `reset` file): accepts exactly
//!   `1` and `1\n`;
//! * `parse_message` (the words of `dmsetup message`): agrees with the
//!   documented table and depends only on the first two words, the ones
//!   the module passes (target.rs: `words[..argc.min(2)]`);
//! * the sysfs parsers dmpstat reads the module's files with
//!   (`parse_u64_line`, `parse_summary`, `parse_histogram`,
//!   `parse_latency`, `parse_stat`, `parse_status`): never panic, and
//!   accept a text only when it is the canonical text of what they return
//!   (leading zeros apart).
//!
//! The inputs are arbitrary bytes and strings, and edits of the committed
//! seed corpus `tests/corpus/<target>/` (one input per file, named `ok-*`
//! when it must be accepted and `bad-*` when it must be rejected); the
//! corpus is also checked as it is. A message corpus file is one message
//! line, split into words at ASCII blanks as dm core splits it (its
//! backslash escapes are not modelled).
//!
//! The constructor's arguments are not here: the module's constructor
//! (target.rs) takes exactly one word and hands it to dm core's
//! `dm_get_device`; no Rust parser of them exists on the host.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{apply, check_reparse, config, edit, FORMATS};
use dmp_stats::{parse_message, parse_reset, InputError, Message, MessageError};
use proptest::prelude::*;
use proptest::sample::Index;

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(target)
}

/// The corpus of `target`: (file name, content, must be accepted), sorted.
fn corpus(target: &str) -> Vec<(String, Vec<u8>, bool)> {
    let dir = corpus_dir(target);
    let mut out: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.expect("corpus entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let ok = match name.split('-').next() {
                Some("ok") => true,
                Some("bad") => false,
                _ => panic!("{}: corpus files are named ok-* or bad-*", e.path().display()),
            };
            (name, fs::read(e.path()).expect("corpus file"), ok)
        })
        .collect();
    out.sort();
    assert!(
        out.iter().any(|c| c.2) && out.iter().any(|c| !c.2),
        "{target}: the corpus has inputs to accept and to reject"
    );
    out
}

/// Corpus inputs of `target` as strings (for the text parsers).
fn text_corpus(target: &str) -> Vec<String> {
    corpus(target)
        .into_iter()
        .map(|(_, bytes, _)| String::from_utf8_lossy(&bytes).into_owned())
        .collect()
}

/// The words of a message line, split as dm core splits them (blanks).
fn words(line: &[u8]) -> Vec<&[u8]> {
    line.split(|b| b.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect()
}

/// The documented table of `dmsetup message` (stats.rs, `parse_message`).
fn reference_message(words: &[&[u8]]) -> Result<Message, MessageError> {
    match words.first() {
        None => Err(MessageError::Empty),
        Some(w) if *w == b"reset" && words.len() == 1 => Ok(Message::Reset),
        Some(w) if *w == b"reset" => Err(MessageError::TooManyArgs),
        Some(_) => Err(MessageError::Unknown),
    }
}

/// Checks `parse_message` on `words`: the reference's answer, and the same
/// answer from the two words the module passes.
fn check_message(words: &[&[u8]]) -> Result<(), TestCaseError> {
    let got = parse_message(words);
    prop_assert_eq!(got, reference_message(words), "{:?}", words);
    prop_assert_eq!(parse_message(&words[..words.len().min(2)]), got);
    Ok(())
}

#[test]
fn corpus_reset() {
    for (name, input, ok) in corpus("reset") {
        let want = if ok { Ok(()) } else { Err(InputError::Invalid) };
        assert_eq!(parse_reset(&input), want, "reset/{name}");
    }
}

#[test]
fn corpus_message() {
    for (name, line, ok) in corpus("message") {
        let w = words(&line);
        assert_eq!(parse_message(&w).is_ok(), ok, "message/{name}");
        check_message(&w).unwrap_or_else(|e| panic!("message/{name}: {e}"));
    }
}

#[test]
fn corpus_sysfs_text() {
    for format in FORMATS {
        for (name, bytes, ok) in corpus(format) {
            // dmpstat refuses a file that is not UTF-8 before parsing it.
            let accepted = match std::str::from_utf8(&bytes) {
                Ok(text) => check_reparse(format, text)
                    .unwrap_or_else(|e| panic!("{format}/{name}: {e}")),
                Err(_) => false,
            };
            assert_eq!(accepted, ok, "{format}/{name}");
        }
    }
}

/// Bytes: arbitrary, or a corpus input with bytes inserted, deleted or replaced.
fn bytes_from(corpus: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        (
            prop::sample::select(corpus),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
        )
            .prop_map(|(mut b, edits)| {
                for (i, byte, op) in edits {
                    match op {
                        0 => b.insert(i.index(b.len() + 1), byte),
                        1 if !b.is_empty() => {
                            b.remove(i.index(b.len()));
                        }
                        _ if !b.is_empty() => {
                            let at = i.index(b.len());
                            b[at] = byte;
                        }
                        _ => {}
                    }
                }
                b
            }),
    ]
}

fn corpus_bytes(target: &str) -> Vec<Vec<u8>> {
    corpus(target).into_iter().map(|(_, b, _)| b).collect()
}

/// `text` with digits inserted before or replacing its own digits: the
/// shape kept, what a parser should accept unless a number no longer fits.
fn edit_digits(text: &str, edits: &[(Index, char, bool)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (i, c, insert) in edits {
        let digits: Vec<usize> = (0..chars.len()).filter(|&k| chars[k].is_ascii_digit()).collect();
        if digits.is_empty() {
            break;
        }
        let at = digits[i.index(digits.len())];
        if *insert {
            chars.insert(at, *c);
        } else {
            chars[at] = *c;
        }
    }
    chars.into_iter().collect()
}

/// A text: arbitrary, or an edited corpus input of `format`.
fn text_from(format: &'static str) -> impl Strategy<Value = String> {
    let accepted: Vec<String> = corpus(format)
        .into_iter()
        .filter(|c| c.2)
        .map(|(_, b, _)| String::from_utf8(b).expect("an accepted input is UTF-8"))
        .collect();
    prop_oneof![
        any::<String>(),
        "[0-9 \n:a-z<>=]{0,80}",
        (
            prop::sample::select(text_corpus(format)),
            prop::collection::vec(edit(), 1..4)
        )
            .prop_map(|(t, e)| apply(&t, &e)),
        (
            prop::sample::select(accepted),
            prop::collection::vec((any::<Index>(), prop::char::range('0', '9'), any::<bool>()), 1..4)
        )
            .prop_map(|(t, e)| edit_digits(&t, &e)),
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn reset_accepts_exactly_one(input in bytes_from(corpus_bytes("reset"))) {
        let want = if input == b"1" || input == b"1\n" { Ok(()) } else { Err(InputError::Invalid) };
        prop_assert_eq!(parse_reset(&input), want);
    }

    #[test]
    fn message_follows_its_table(
        line in bytes_from(corpus_bytes("message")),
        extra in prop::collection::vec(
            prop_oneof![Just(b"reset".to_vec()), prop::collection::vec(any::<u8>(), 0..8)],
            0..4,
        ),
    ) {
        // The words of a line, and the same with more words of any bytes
        // (dm core passes whatever the table's words are, empty ones included).
        let mut w = words(&line);
        check_message(&w)?;
        w.extend(extra.iter().map(Vec::as_slice));
        check_message(&w)?;
    }
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn single_value_parser(text in text_from("single")) {
        check_reparse("single", &text)?;
    }

    #[test]
    fn summary_parser(text in text_from("summary")) {
        check_reparse("summary", &text)?;
    }

    #[test]
    fn histogram_parser(text in text_from("histogram")) {
        check_reparse("histogram", &text)?;
    }

    #[test]
    fn latency_parser(text in text_from("latency")) {
        check_reparse("latency", &text)?;
    }

    #[test]
    fn stat_parser(text in text_from("stat")) {
        check_reparse("stat", &text)?;
    }

    #[test]
    fn status_parser(text in text_from("status")) {
        check_reparse("status", &text)?;
    }
}
