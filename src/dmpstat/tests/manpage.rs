//! The hand-written man page must describe the command line that exists.

use clap::CommandFactory;
use dmpstat::cli::Cli;
use dmpstat::error;

const MAN: &str = include_str!("../dmpstat.1");

/// The man page text with roff escapes for '-' removed.
fn man_text() -> String {
    MAN.replace("\\-", "-")
}

#[test]
fn every_command_is_documented() {
    let man = man_text();
    let cmd = Cli::command();
    let mut n = 0;
    for sub in cmd.get_subcommands() {
        let name = sub.get_name();
        if name == "help" {
            continue;
        }
        n += 1;
        assert!(
            man.contains(&format!(".B dmpstat {name}")),
            "SYNOPSIS lacks {name}"
        );
        assert!(
            man.contains(&format!(".TP\n.B {name}\n")),
            "COMMANDS lacks {name}"
        );
    }
    assert_eq!(n, 7);
}

#[test]
fn every_option_is_documented() {
    let man = man_text();
    let cmd = Cli::command();
    let mut all: Vec<&clap::Arg> = cmd.get_arguments().collect();
    for sub in cmd.get_subcommands() {
        all.extend(sub.get_arguments());
    }
    let mut checked = 0;
    for arg in all {
        if let Some(long) = arg.get_long() {
            assert!(
                man.contains(&format!("--{long}")),
                "--{long} missing from the man page"
            );
            checked += 1;
        }
        if let Some(short) = arg.get_short() {
            assert!(
                man.contains(&format!("-{short} ")),
                "-{short} missing from the man page"
            );
        }
    }
    assert!(checked >= 7, "{checked}");
    assert!(man.contains("DMPSTAT_SYSFS_ROOT"));
}

#[test]
fn exit_codes_match_the_code() {
    let section = MAN
        .split(".SH EXIT STATUS\n")
        .nth(1)
        .and_then(|s| s.split("\n.SH ").next())
        .expect("EXIT STATUS section");
    let codes: Vec<i32> = section
        .lines()
        .filter_map(|l| l.strip_prefix(".B "))
        .filter_map(|c| c.parse().ok())
        .collect();
    assert_eq!(
        codes,
        [
            error::EXIT_OK,
            error::EXIT_DIFFERS,
            error::EXIT_USAGE,
            error::EXIT_NOT_FOUND,
            error::EXIT_PERMISSION,
            error::EXIT_FAILURE
        ]
    );
    // --help carries the same list.
    for code in codes {
        assert!(error::EXIT_CODES_HELP.contains(&format!("\n  {code}  ")));
    }
}

#[test]
fn output_columns_are_documented() {
    let man = man_text();
    for c in dmpstat::list::COLUMNS {
        assert!(man.contains(&format!(".B {c}\n")), "list column {c}");
    }
    for c in dmpstat::watch::XCOLUMNS {
        let roff = c.replace('-', "\\-");
        assert!(MAN.contains(&format!(".B {roff}\n")), "extended column {c}");
    }
    for c in dmpstat::watch::COLUMNS {
        assert!(
            man.contains(&format!(".B {c}")) || man.contains(&format!(".BR {c}")),
            "watch column {c}"
        );
    }
}

#[test]
fn renders_without_warnings() {
    // A missing groff is an error, not a pass: scripts/test installs it.
    let o = std::process::Command::new("groff")
        .args([
            "-man",
            "-Tutf8",
            "-ww",
            "-z",
            concat!(env!("CARGO_MANIFEST_DIR"), "/dmpstat.1"),
        ])
        .output()
        .expect("groff is needed to check the man page (apt-get install groff-base)");
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stderr), "", "groff warnings");
}
