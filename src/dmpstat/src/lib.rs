//! dmpstat: show, watch, check and reset the I/O statistics of dmp devices.
//!
//! The binary is a thin wrapper around [`main_with_args`]; the pieces live in
//! modules with pure functions that the unit tests exercise, and the
//! integration tests in `tests/` run the binary against a fake sysfs tree.

pub mod check;
pub mod cli;
pub mod error;
pub mod hist;
pub mod list;
pub mod prom;
pub mod sysfs;
pub mod table;
pub mod watch;

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use clap::Parser;

use cli::{Cli, Command, ListArgs, TopArgs};
use error::{Error, Result, EXIT_DIFFERS, EXIT_OK};
use sysfs::{Sysfs, Target};

/// Parses `args`, runs the command and returns the exit code; messages go to
/// standard output and standard error.
pub fn main_with_args<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version (exit 0) or the usage error (exit 2).
            let _ = e.print();
            return e.exit_code();
        }
    };
    let top = &cli.top;
    if cli.command.is_some() && (top.json || top.extended || top.timestamp || !top.args.is_empty())
    {
        // `dmpstat --json watch`: the list's arguments given before another command.
        let e = <Cli as clap::CommandFactory>::command().error(
            clap::error::ErrorKind::ArgumentConflict,
            "--json, -x, -t and DEVICE arguments belong after the command name (e.g. dmpstat watch --json dm-0)",
        );
        let _ = e.print();
        return e.exit_code();
    }
    if let Err(msg) = cli::split_positionals(&top.args) {
        let e = <Cli as clap::CommandFactory>::command()
            .error(clap::error::ErrorKind::ValueValidation, msg);
        let _ = e.print();
        return e.exit_code();
    }
    let sys = Sysfs::new(&cli.sysfs_root);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match run(cli, &sys, &mut out) {
        Ok(code) => code,
        Err(Error::Output(e)) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            let _ = out.flush();
            eprintln!("dmpstat: {e}");
            e.exit_code()
        }
    }
}

/// Says on stderr when the module does not time requests (its parameter
/// `latency` is off): the figures that need completions are then not
/// measured, and shown as "-" (null in JSON).
fn warn_if_untimed(sys: &Sysfs) {
    if !sys.timed() {
        eprintln!(
            "dmpstat: dmp does not time requests (module parameter latency is off): awaits, aqu-sz \
             and %util are not measured (shown as -); load it with `modprobe dmp latency=1`"
        );
    }
}

fn emit(out: &mut dyn Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(Error::Output)
}

/// Runs a parsed command line; returns the exit code of a successful run.
pub fn run(cli: Cli, sys: &Sysfs, out: &mut dyn Write) -> Result<i32> {
    let Some(command) = cli.command else {
        return run_top(cli.top, sys, out);
    };
    match command {
        Command::List(ListArgs { json, devices }) => {
            let targets = sys.resolve_all(&devices)?;
            let l = list::collect(sys, &targets, json)?;
            let text = if json {
                list::render_json(&l)?
            } else {
                list::render_text(&l)
            };
            emit(out, &text)?;
            if !json && l.devices.is_empty() && devices.is_empty() {
                eprintln!("dmpstat: no dmp device exists; only the aggregate is shown");
            }
            Ok(EXIT_OK)
        }
        Command::Watch(a) => {
            let targets = sys.resolve_all(&a.devices)?;
            if a.extended {
                warn_if_untimed(sys);
            }
            let opts = watch::Opts {
                extended: a.extended,
                timestamp: a.timestamp,
                json: a.json,
            };
            watch::run(sys, &targets, a.interval, a.count, opts, out)?;
            Ok(EXIT_OK)
        }
        Command::Check(a) => {
            let targets = sys.resolve_all(&a.devices)?;
            let timed = sys.timed();
            let outcomes = check::run(sys, &targets, timed)?;
            if !timed {
                eprintln!("dmpstat: {}", check::UNTIMED);
            }
            emit(out, &check::render(&outcomes))?;
            Ok(if outcomes.iter().all(check::Outcome::ok) {
                EXIT_OK
            } else {
                EXIT_DIFFERS
            })
        }
        Command::Reset(a) => {
            if a.all {
                sys.ensure_loaded()?;
                sys.reset(&Target::Aggregate)?;
                emit(out, "reset every dmp counter\n")?;
                return Ok(EXIT_OK);
            }
            let targets = sys.resolve_all(&a.devices)?;
            if targets.contains(&Target::Aggregate) {
                return Err(Error::AggregateNotAllowed {
                    hint: "use dmpstat reset --all to zero every counter",
                });
            }
            for t in &targets {
                sys.reset(t)?;
                if let Target::Device(k) = t {
                    emit(out, &format!("reset {} ({})\n", k, sys.device_info(k).name))?;
                }
            }
            Ok(EXIT_OK)
        }
        Command::Prometheus(a) => {
            let mut devices = Vec::new();
            for k in sys.list_devices()? {
                let parts = sysfs::Parts {
                    histogram: true,
                    latency: true,
                };
                let r = sys.read_target(&Target::Device(k.clone()), parts)?;
                devices.push((sys.device_info(&k), r));
            }
            let text = prom::render(&devices);
            match a.output {
                Some(path) => write_atomically(&path, &text)?,
                None => emit(out, &text)?,
            }
            Ok(EXIT_OK)
        }
        Command::Histogram(a) => {
            let t = sys.resolve(&a.device)?;
            let c = sys.read_counters(&t)?;
            let title = match &t {
                Target::Device(k) => format!("{} ({})", k, sys.device_info(k).name),
                Target::Aggregate => sysfs::AGGREGATE.to_string(),
            };
            emit(out, &hist::render(&title, &c, usize::from(a.width)))?;
            Ok(EXIT_OK)
        }
        Command::Latency(a) => {
            let t = sys.resolve(&a.device)?;
            if !sys.timed() {
                return Err(Error::Untimed {
                    what: "dmpstat latency",
                });
            }
            let parts = sysfs::Parts {
                histogram: false,
                latency: true,
            };
            let r = sys.read_target(&t, parts)?;
            if !r.has_latency {
                return Err(Error::Missing {
                    path: sys.target_dir(&t).join(dmp_stats::StatFile::Latency.name()),
                    what: "dmpstat latency",
                });
            }
            let (name, device) = match &t {
                Target::Device(k) => (sys.device_info(k).name, k.clone()),
                Target::Aggregate => ("(all)".to_string(), sysfs::AGGREGATE.to_string()),
            };
            let text = if a.json {
                let j = hist::LatencyJson {
                    name,
                    device,
                    buckets: hist::lat_buckets(&r.counters),
                };
                let mut s = serde_json::to_string_pretty(&j).map_err(error::json_error)?;
                s.push('\n');
                s
            } else {
                let title = match &t {
                    Target::Device(_) => format!("{device} ({name})"),
                    Target::Aggregate => device,
                };
                hist::render_latency(&title, &r.counters, usize::from(a.width))
            };
            emit(out, &text)?;
            Ok(EXIT_OK)
        }
    }
}

/// `dmpstat [-x] [-t] [--json] [DEVICE...] [INTERVAL [COUNT]]`: reports every
/// INTERVAL like `watch`, or one extended report since the counters started
/// (`-x`), or the list.
fn run_top(top: TopArgs, sys: &Sysfs, out: &mut dyn Write) -> Result<i32> {
    let p = cli::split_positionals(&top.args).map_err(|detail| Error::Parse {
        path: "command line".into(),
        detail,
    })?;
    let opts = watch::Opts {
        extended: top.extended,
        timestamp: top.timestamp,
        json: top.json,
    };
    if top.extended {
        warn_if_untimed(sys);
    }
    if let Some(interval) = p.interval {
        let targets = sys.resolve_all(&p.devices)?;
        watch::run(sys, &targets, interval, p.count, opts, out)?;
        return Ok(EXIT_OK);
    }
    if top.extended {
        let targets = sys.resolve_all(&p.devices)?;
        let since = watch::uptime(Path::new("/proc/uptime"))?;
        watch::run_since_start(sys, &targets, since, opts, out)?;
        return Ok(EXIT_OK);
    }
    let targets = sys.resolve_all(&p.devices)?;
    let mut l = list::collect(sys, &targets, top.json)?;
    if top.timestamp {
        l.timestamp = Some(watch::timestamp(std::time::SystemTime::now()));
    }
    let text = if top.json {
        list::render_json(&l)?
    } else {
        let mut s = l.timestamp.clone().map(|t| t + "\n").unwrap_or_default();
        s.push_str(&list::render_text(&l));
        s
    };
    emit(out, &text)?;
    if !top.json && l.devices.is_empty() && p.devices.is_empty() {
        eprintln!("dmpstat: no dmp device exists; only the aggregate is shown");
    }
    Ok(EXIT_OK)
}

/// Writes `text` to a temporary file beside `path`, then renames it over `path`.
fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "dmpstat.prom".to_string());
    let tmp = path.with_file_name(format!(".{}.{}.tmp", file_name, std::process::id()));
    fs::write(&tmp, text).map_err(|e| Error::io(tmp.clone(), e, true))?;
    fs::rename(&tmp, path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io(path.to_path_buf(), e, true)
    })
}
