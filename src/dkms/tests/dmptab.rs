//! Fuzzing `dmptab`'s parsing of /etc/dmptab (files/dmptab, bash), through
//! `dmptab -f FILE check`, which parses the file and prints what it would
//! create, touching no device:
//!
//! * a differential test: generated files (names, devices and options,
//!   valid and not, blanks, comments, extra fields) give exactly the
//!   entries, bad lines and exit status of a reference parser written here
//!   from the format's documentation (files/dmptab.conf, the script's
//!   header): `NAME DEVICE [OPTIONS]`, blanks between fields, `#` to the end
//!   of the line a comment; NAME of letters, digits, `_ . + -` (1 to 127,
//!   not `.` or `..`), listed once; DEVICE a `/dev/` path or `UUID=`,
//!   `LABEL=`, `PARTUUID=`, `PARTLABEL=` and a value (a label's `/` and
//!   blanks written `\x2f`, `\x20`, as the script says udev names the
//!   links; udev escapes more, see the ignored test at the end); OPTIONS
//!   comma-separated from `ro`, `nofail`, `timeout=` and 1 to 5 digits,
//!   `defaults`; a bad line is reported with its number and skipped;
//! * arbitrary bytes (NUL, CR, bytes that are not UTF-8) never make the
//!   script fail: exit 0 or 1, every line it prints its own, and its
//!   summary agreeing with what it printed;
//! * the committed corpus `tests/corpus/dmptab/` (`ok-*` files check
//!   clean, `bad-*` do not), checked against the reference too.
//!
//! `check` runs in a directory holding files named like options (`ro`,
//! `nofail`, ...), so that an option that were expanded as a file name
//! pattern would show.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

/// A fixed seed and case count, as in dmp-stats' property tests
/// (`PROPTEST_CASES` and `PROPTEST_RNG_SEED` override them).
fn config(cases: u32) -> Config {
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
            RngSeed::Fixed(0x646d_7020_7072_6f70)
        },
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..env
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("files/dmptab")
}

/// What `dmptab check` printed.
#[derive(Debug)]
struct Checked {
    path: String,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `dmptab -f FILE check` on `content`, in a directory of files named
/// like options.
fn check(content: &[u8]) -> Checked {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path().join("cwd");
    fs::create_dir(&cwd).expect("mkdir");
    for f in ["ro", "nofail", "timeout=1", "defaults"] {
        fs::write(cwd.join(f), "").expect("decoy");
    }
    let file = dir.path().join("dmptab");
    fs::write(&file, content).expect("write");
    let out = Command::new("bash")
        .arg(script())
        .arg("-f")
        .arg(&file)
        .arg("check")
        .current_dir(&cwd)
        .env("LC_ALL", "C")
        .output()
        .expect("run bash");
    Checked {
        path: file.display().to_string(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

// ------------------------------------------------------------ the reference

/// What the reference makes of a file.
#[derive(Debug, Default, PartialEq, Eq)]
struct Parsed {
    /// The `check` lines of the entries, in order.
    entries: Vec<String>,
    /// Numbers of the bad lines.
    bad: BTreeSet<usize>,
}

fn name_ok(name: &[u8]) -> bool {
    (1..=127).contains(&name.len())
        && name != b"."
        && name != b".."
        && name
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"_.+-".contains(b))
}

/// The block device of a DEVICE field; `None` when it is not one.
fn resolve(spec: &[u8]) -> Option<Vec<u8>> {
    let esc = |v: &[u8]| -> Vec<u8> {
        let mut out = Vec::new();
        for &b in v {
            match b {
                b'/' => out.extend_from_slice(b"\\x2f"),
                b' ' => out.extend_from_slice(b"\\x20"),
                _ => out.push(b),
            }
        }
        out
    };
    let tagged: [(&[u8], &[u8], bool); 4] = [
        (b"UUID=", b"/dev/disk/by-uuid/", false),
        (b"LABEL=", b"/dev/disk/by-label/", true),
        (b"PARTUUID=", b"/dev/disk/by-partuuid/", false),
        (b"PARTLABEL=", b"/dev/disk/by-partlabel/", true),
    ];
    if spec.starts_with(b"/dev/") {
        return Some(spec.to_vec());
    }
    for (tag, dir, escaped) in tagged {
        if let Some(v) = spec.strip_prefix(tag) {
            if v.is_empty() {
                return None;
            }
            let mut out = dir.to_vec();
            out.extend(if escaped { esc(v) } else { v.to_vec() });
            return Some(out);
        }
    }
    None
}

/// The documented format (see the module comment).
fn reference(content: &[u8]) -> Parsed {
    let mut p = Parsed::default();
    let mut seen: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut lines: Vec<&[u8]> = content.split(|&b| b == b'\n').collect();
    if content.ends_with(b"\n") || content.is_empty() {
        lines.pop();
    }
    for (i, raw) in lines.iter().enumerate() {
        let n = i + 1;
        let line = raw.split(|&b| b == b'#').next().unwrap_or(&[]);
        let fields: Vec<&[u8]> = line
            .split(|&b| b == b' ' || b == b'\t')
            .filter(|f| !f.is_empty())
            .collect();
        let (name, spec, opts) = match fields.as_slice() {
            [] => continue,
            [name, spec] => (*name, *spec, &b""[..]),
            [name, spec, opts] => (*name, *spec, *opts),
            _ => {
                p.bad.insert(n);
                continue;
            }
        };
        if !name_ok(name) || seen.contains(name) {
            p.bad.insert(n);
            continue;
        }
        let Some(dev) = resolve(spec) else {
            p.bad.insert(n);
            continue;
        };
        let (mut ro, mut nofail, mut timeout, mut ok) = (0, 0, b"30".to_vec(), true);
        for o in opts.split(|&b| b == b',') {
            match o {
                b"ro" => ro = 1,
                b"nofail" => nofail = 1,
                b"defaults" | b"" => {}
                _ => match o.strip_prefix(b"timeout=") {
                    Some(t) if (1..=5).contains(&t.len()) && t.iter().all(u8::is_ascii_digit) => {
                        timeout = t.to_vec()
                    }
                    _ => ok = false,
                },
            }
        }
        if !ok {
            p.bad.insert(n);
            continue;
        }
        seen.insert(name.to_vec());
        p.entries.push(format!(
            "dmptab: line {n}: {} on {} (ro={ro} nofail={nofail} timeout={}s)",
            String::from_utf8_lossy(name),
            String::from_utf8_lossy(&dev),
            String::from_utf8_lossy(&timeout),
        ));
    }
    p
}

/// What the script said, read back: its entries, the numbers of the lines
/// it warned about, its summary; an error if any line is not its own.
fn parse_output(c: &Checked) -> Result<(Parsed, String), String> {
    let mut out: Vec<&str> = c.stdout.lines().collect();
    let summary = out.pop().ok_or("no summary line")?.to_string();
    if let Some(l) = out.iter().find(|l| !l.starts_with("dmptab: line ")) {
        return Err(format!("not an entry: {l:?}"));
    }
    let prefix = format!("dmptab: {} line ", c.path);
    let mut bad = BTreeSet::new();
    for l in c.stderr.lines() {
        let n = l
            .strip_prefix(&prefix)
            .and_then(|r| r.split(':').next())
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| format!("not a warning about a line: {l:?}"))?;
        bad.insert(n);
    }
    Ok((
        Parsed {
            entries: out.iter().map(|l| l.to_string()).collect(),
            bad,
        },
        summary,
    ))
}

/// Checks the script on `content`: its own lines only, a consistent
/// summary and status; with `differential`, exactly the reference's result.
fn check_file(content: &[u8], differential: bool) -> Result<(), TestCaseError> {
    let c = check(content);
    let (got, summary) = parse_output(&c).map_err(|e| TestCaseError::fail(format!("{e}\n{c:?}")))?;
    prop_assert_eq!(
        &summary,
        &format!("dmptab: {} devices, {} bad lines", got.entries.len(), got.bad.len()),
        "{:?}",
        c
    );
    prop_assert_eq!(c.code, Some(if got.bad.is_empty() { 0 } else { 1 }), "{:?}", c);
    if differential {
        let want = reference(content);
        prop_assert_eq!(got, want, "{}\n{:?}", String::from_utf8_lossy(content), c);
    }
    Ok(())
}

// ------------------------------------------------------------ generated files

fn pick(v: &[&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(v.to_vec()).prop_map(str::to_string)
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z0-9_.+-]{1,12}",
        1 => pick(&["data", "scratch", "archive", "a.b", "x_1+2-3", ".", "..", "-n", "+"]),
        1 => Just("n".repeat(127)),
        1 => Just("n".repeat(128)),
        1 => pick(&["a/b", "bad'q", "é", "$x", "a*", "a=b", "a,b", "{}", "\\"]),
    ]
}

fn device() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => pick(&[
            "/dev/sdb1",
            "/dev/mapper/vg0-data",
            "/dev/disk/by-id/ata-EXAMPLE_SERIAL-part1",
            "/dev/",
            "UUID=0a1b-2c3d",
            "LABEL=scratch",
            "LABEL=a/b",
            "PARTUUID=1234-01",
            "PARTLABEL=p/q/r",
            "PARTLABEL=x",
        ]),
        1 => pick(&["LABEL=", "UUID=", "PARTUUID=", "sdb1", "dev/sdb1", "label=x", "/dev", "/sys/block"]),
        // Labels that echo would take for its options.
        1 => pick(&["LABEL=-n", "LABEL=-e", "PARTLABEL=-E", "LABEL=-neE", "LABEL=-n/x"]),
        1 => "(/dev/|UUID=|LABEL=|PARTLABEL=)[A-Za-z0-9/_.:=@+-]{1,10}",
    ]
}

fn option() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => pick(&["ro", "nofail", "defaults", "", "timeout=5", "timeout=08", "timeout=99999"]),
        1 => pick(&["timeout=100000", "timeout=", "timeout=x", "timeout=-1", "rw", "RO", "noauto", "ro=1"]),
        // File name patterns: an option is a word, never matched against files.
        1 => pick(&["r?", "*", "nofai[l]", "timeout=?", "[rn]*"]),
        1 => "timeout=[0-9]{0,7}",
    ]
}

fn options() -> impl Strategy<Value = String> {
    prop::collection::vec(option(), 1..4).prop_map(|v| v.join(","))
}

fn blank() -> impl Strategy<Value = String> {
    pick(&[" ", "\t", "  ", " \t "])
}

/// One line: a comment, a blank line, an entry (with its options, extra
/// fields, blanks around it, a comment after it), or any printable text.
fn line() -> impl Strategy<Value = String> {
    let entry = (
        prop::option::of(blank()),
        name(),
        prop::option::weighted(0.9, (blank(), device(), prop::option::weighted(0.7, (blank(), options())))),
        prop::option::weighted(0.1, (blank(), "[a-z]{1,4}")),
        prop::option::of(blank()),
        prop::option::of(pick(&["#", "# a comment", "#ro"])),
    )
        .prop_map(|(lead, name, rest, extra, trail, comment)| {
            let mut s = lead.unwrap_or_default() + &name;
            if let Some((b, dev, opts)) = rest {
                s += &(b + &dev);
                if let Some((b, o)) = opts {
                    s += &(b + &o);
                }
            }
            if let Some((b, x)) = extra {
                s += &(b + &x);
            }
            s += &trail.unwrap_or_default();
            s + &comment.unwrap_or_default()
        });
    prop_oneof![
        6 => entry,
        1 => pick(&["", "   ", "# /etc/dmptab", "\t# x y z"]),
        1 => "[ -~\t]{0,30}",
    ]
}

fn file() -> impl Strategy<Value = Vec<u8>> {
    (prop::collection::vec(line(), 0..10), any::<bool>()).prop_map(|(lines, final_newline)| {
        let mut s = lines.join("\n");
        if final_newline && !s.is_empty() {
            s.push('\n');
        }
        s.into_bytes()
    })
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn check_agrees_with_the_reference(content in file()) {
        check_file(&content, true)?;
    }

    #[test]
    fn check_survives_any_bytes(content in prop::collection::vec(any::<u8>(), 0..200)) {
        check_file(&content, false)?;
    }
}

#[test]
fn corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/dmptab");
    let mut n = 0;
    for e in fs::read_dir(&dir).expect("corpus") {
        let path = e.expect("entry").path();
        let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let content = fs::read(&path).expect("read");
        check_file(&content, true).unwrap_or_else(|e| panic!("{name}: {e}"));
        let clean = check(&content).code == Some(0);
        let want = name.starts_with("ok-");
        assert!(want || name.starts_with("bad-"), "{name}: named ok-* or bad-*");
        assert_eq!(clean, want, "{name}");
        n += 1;
    }
    assert!(n > 0);
    // The packaged /etc/dmptab (every line a comment) checks clean.
    let shipped = fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("files/dmptab.conf")).expect("dmptab.conf");
    check_file(&shipped, true).unwrap_or_else(|e| panic!("dmptab.conf: {e}"));
    assert_eq!(check(&shipped).code, Some(0));
}

/// Known bug (see the report of issue 26): udev names the by-label and
/// by-partlabel links with blkid's encoding, every byte but letters,
/// digits, `#+-.:=@_` (and UTF-8 sequences) written `\xNN`; dmptab's
/// `label_escape` only writes `/` and blanks so. A label with `$`, `(`,
/// `,`, `\`, `'` ... resolves to a link that never appears.
#[test]
#[ignore = "known bug: dmptab escapes a label's / and blanks only, udev every unusual byte"]
fn labels_resolve_to_the_links_udev_makes() {
    let c = check(b"a LABEL=my$disk\nb PARTLABEL=x(1),y\n");
    assert_eq!(
        c.stdout.lines().take(2).collect::<Vec<_>>(),
        [
            r"dmptab: line 1: a on /dev/disk/by-label/my\x24disk (ro=0 nofail=0 timeout=30s)",
            r"dmptab: line 2: b on /dev/disk/by-partlabel/x\x281\x29\x2cy (ro=0 nofail=0 timeout=30s)",
        ],
        "{c:?}"
    );
}
