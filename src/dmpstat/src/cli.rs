//! Command line of dmpstat.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::error::EXIT_CODES_HELP;
use crate::watch::parse_interval;

/// Show, watch, check and reset the I/O statistics of dmp device-mapper devices.
#[derive(Debug, Parser)]
#[command(
    name = "dmpstat",
    version,
    about = "Show, watch, check and reset the I/O statistics of dmp device-mapper devices",
    long_about = "Show, watch, check and reset the I/O statistics of dmp device-mapper devices.\n\n\
        Without a command, lists every dmp device and the aggregate (all_devs). A DEVICE is a \
        dmsetup name, a kernel name (dm-N), /dev/mapper/NAME or /dev/dm-N; all_devs names the \
        aggregate over every dmp device.\n\n\
        Like iostat, dmpstat [DEVICE...] [INTERVAL [COUNT]] prints a report every INTERVAL \
        seconds (COUNT times, or until interrupted), as dmpstat watch -i INTERVAL -c COUNT \
        does. Only the trailing arguments are numbers: an argument made of digits (with an \
        optional sign and fraction) is never a device name, so a device named like a number \
        is given as dm-N or /dev/mapper/NAME. -x prints the extended report of iostat -x; \
        without an INTERVAL, one report since the counters started (per-second rates \
        averaged over the system's uptime). -t prints a timestamp with each report.",
    override_usage = "dmpstat [OPTIONS] [DEVICE]... [INTERVAL [COUNT]]\n       dmpstat [OPTIONS] <COMMAND>",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    /// Root of the sysfs tree to read (for tests and chroots).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "DMPSTAT_SYSFS_ROOT",
        default_value = "/sys"
    )]
    pub sysfs_root: PathBuf,

    /// Arguments of the default command (list, or reports every INTERVAL).
    #[command(flatten)]
    pub top: TopArgs,

    /// The command; list when absent.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Arguments without a command: `dmpstat [-x] [-t] [--json] [DEVICE...] [INTERVAL [COUNT]]`.
#[derive(Debug, Args, Default)]
pub struct TopArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Extended report, like iostat -x: r/s, rkB/s, r_await, rareq-sz, ..., aqu-sz, %util.
    #[arg(short = 'x', long = "extended")]
    pub extended: bool,
    /// Print a timestamp (UTC) with each report.
    #[arg(short = 't', long = "timestamp")]
    pub timestamp: bool,
    /// Devices (default: every dmp device and the aggregate), then optionally
    /// INTERVAL (seconds) and COUNT.
    #[arg(
        value_name = "DEVICE... [INTERVAL [COUNT]]",
        allow_negative_numbers = true
    )]
    pub args: Vec<String>,
}

/// What the positional arguments of `dmpstat` without a command say.
#[derive(Clone, Debug, PartialEq)]
pub struct Positionals {
    /// The devices, as given.
    pub devices: Vec<String>,
    /// Seconds between reports, when given.
    pub interval: Option<Duration>,
    /// Number of reports, when given.
    pub count: Option<u64>,
}

/// True for an argument that is a number: an optional sign, digits, an
/// optional fraction. Such an argument is never a device name.
pub fn is_number(s: &str) -> bool {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    !(int.is_empty() && frac.is_empty()) && digits(int) && digits(frac)
}

/// Parses a COUNT: a whole number of reports, at least 1.
pub fn parse_count(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("COUNT must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "{s:?} is not a COUNT: a whole number of reports, at least 1"
        )),
    }
}

/// Splits `dmpstat [DEVICE...] [INTERVAL [COUNT]]`: the trailing numbers
/// (at most two) are INTERVAL and COUNT; a number anywhere else is an error.
pub fn split_positionals(args: &[String]) -> Result<Positionals, String> {
    let numbers = args.iter().rev().take_while(|a| is_number(a)).count();
    let hint = "a device named like a number is given as dm-N or /dev/mapper/NAME";
    if numbers > 2 {
        return Err(format!(
            "too many numbers ({}): give at most INTERVAL and COUNT, after the devices; {hint}",
            args[args.len() - numbers..].join(" ")
        ));
    }
    let (devices, nums) = args.split_at(args.len() - numbers);
    if let Some(n) = devices.iter().find(|a| is_number(a)) {
        return Err(format!(
            "{n}: INTERVAL and COUNT come after the devices; {hint}"
        ));
    }
    let interval = nums.first().map(|i| parse_interval(i)).transpose()?;
    let count = nums.get(1).map(|c| parse_count(c)).transpose()?;
    Ok(Positionals {
        devices: devices.to_vec(),
        interval,
        count,
    })
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One row per dmp device plus the aggregate (the default command).
    #[command(after_help = EXIT_CODES_HELP)]
    List(ListArgs),
    /// Print rates per interval, iostat-style.
    #[command(after_help = EXIT_CODES_HELP)]
    Watch(WatchArgs),
    /// Compare dmp's counters with /sys/block/dm-N/stat (exact when idle,
    /// bounded under load); exit 1 when they differ.
    #[command(
        after_help = EXIT_CODES_HELP,
        long_about = "Compare dmp's counters with /sys/block/dm-N/stat; exit 1 when they differ.\n\n\
            The block layer counts a request when it ends, dmp when it maps it, so under load \
            they cannot be equal at one instant. check reads /sys/block/dm-N/stat, then dmp's \
            stat file (one snapshot), then /sys/block/dm-N/stat again (re-read for about a \
            second until it has caught up), and requires each dmp counter to lie between the \
            two readings: 'within bounds'. When nothing changed between them (idle) it requires \
            equality: 'equal'. all_devs is checked the same way against the sum over the \
            devices, and against the devices' own counters read between two readings of \
            all_devs. Inside one stat snapshot, the fields derived from others must match \
            exactly, and on an idle device nothing may be in flight and every counted read, \
            write and discard must have completed."
    )]
    Check(CheckArgs),
    /// Zero the counters of some devices, or every counter with --all.
    #[command(after_help = EXIT_CODES_HELP)]
    Reset(ResetArgs),
    /// Print the counters in the Prometheus text format (node_exporter textfile collector).
    #[command(after_help = EXIT_CODES_HELP)]
    Prometheus(PrometheusArgs),
    /// Draw the request size histogram of a device.
    #[command(after_help = EXIT_CODES_HELP)]
    Histogram(HistogramArgs),
    /// Draw the latency histogram of a device (completed reads and writes).
    #[command(
        after_help = EXIT_CODES_HELP,
        long_about = "Draw the latency histogram of a device: how long completed reads and \
            writes took from dmp's map to their completion, in power-of-two buckets labelled \
            by their lower bound (<1us, 1us, 2us, ... 524288us, >=1s). Needs a dmp module \
            with the latency file."
    )]
    Latency(LatencyArgs),
}

/// Arguments of `list`.
#[derive(Debug, Args, Default)]
pub struct ListArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Devices to show (default: every dmp device and the aggregate).
    #[arg(value_name = "DEVICE")]
    pub devices: Vec<String>,
}

/// Arguments of `watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Extended report, like iostat -x (see dmpstat --help).
    #[arg(short = 'x', long = "extended")]
    pub extended: bool,
    /// Print a timestamp (UTC) with each report.
    #[arg(short = 't', long = "timestamp")]
    pub timestamp: bool,
    /// Seconds between reports (fractions allowed, e.g. 0.5).
    #[arg(short, long, value_name = "SECONDS", default_value = "1", value_parser = parse_interval)]
    pub interval: Duration,
    /// Stop after COUNT reports (default: run until interrupted).
    #[arg(short, long, value_name = "COUNT", value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
    /// Print each report as one line of JSON.
    #[arg(long)]
    pub json: bool,
    /// Devices to watch (default: every dmp device and the aggregate).
    #[arg(value_name = "DEVICE")]
    pub devices: Vec<String>,
}

/// Arguments of `check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Devices to check (default: every dmp device, and the aggregate against their sum).
    #[arg(value_name = "DEVICE")]
    pub devices: Vec<String>,
}

/// Arguments of `reset`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct ResetArgs {
    /// Reset every counter of the module (writes 1 to /sys/module/dmp/stat/reset).
    #[arg(long)]
    pub all: bool,
    /// Devices whose counters to reset.
    #[arg(value_name = "DEVICE")]
    pub devices: Vec<String>,
}

/// Arguments of `prometheus`.
#[derive(Debug, Args)]
pub struct PrometheusArgs {
    /// Write to FILE atomically (a temporary file renamed over it) instead of
    /// standard output, as the textfile collector expects.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Arguments of `histogram`.
#[derive(Debug, Args)]
pub struct HistogramArgs {
    /// Characters of the longest bar.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub width: u16,
    /// The device (or all_devs).
    #[arg(value_name = "DEVICE")]
    pub device: String,
}

/// Arguments of `latency`.
#[derive(Debug, Args)]
pub struct LatencyArgs {
    /// Characters of the longest bar.
    #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub width: u16,
    /// Print the buckets as JSON (label, upper_ns, reads, writes) instead of bars.
    #[arg(long)]
    pub json: bool,
    /// The device (or all_devs).
    #[arg(value_name = "DEVICE")]
    pub device: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(args: &[&str]) -> Result<Positionals, String> {
        split_positionals(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn numbers() {
        for n in ["0", "1", "10", "0.5", ".5", "5.", "-1", "+2", "1.25"] {
            assert!(is_number(n), "{n}");
        }
        for n in [
            "", ".", "-", "dm-1", "1e3", "inf", "NaN", "1.2.3", "0x10", "dmp1", "1a",
        ] {
            assert!(!is_number(n), "{n}");
        }
    }

    #[test]
    fn positionals() {
        let p = split(&[]).expect("empty");
        assert_eq!((p.devices.len(), p.interval, p.count), (0, None, None));
        let p = split(&["dmp1", "dm-2"]).expect("devices");
        assert_eq!(
            (p.devices, p.interval),
            (vec!["dmp1".to_string(), "dm-2".to_string()], None)
        );
        let p = split(&["2"]).expect("interval");
        assert_eq!((p.interval, p.count), (Some(Duration::from_secs(2)), None));
        let p = split(&["dmp1", "0.5", "3"]).expect("all");
        assert_eq!(p.devices, ["dmp1"]);
        assert_eq!(
            (p.interval, p.count),
            (Some(Duration::from_millis(500)), Some(3))
        );
        // A device named 5 through its kernel name, then an interval.
        let p = split(&["dm-5", "1"]).expect("dm-5");
        assert_eq!(p.devices, ["dm-5"]);
    }

    #[test]
    fn positional_errors() {
        for (args, msg) in [
            (&["0"][..], "out of range"),
            (&["-1"], "out of range"),
            (&["1", "0"], "at least 1"),
            (&["1", "2.5"], "not a COUNT"),
            (&["1", "-3"], "not a COUNT"),
            (&["1", "2", "3"], "too many numbers (1 2 3)"),
            (&["dmp1", "1", "2", "3"], "too many numbers"),
            (&["1", "dmp1"], "come after the devices"),
            (
                &["dmp1", "5", "dmp2", "1"],
                "5: INTERVAL and COUNT come after",
            ),
            (&["86401"], "out of range"),
        ] {
            let e = split(args).expect_err(&format!("{args:?}"));
            assert!(e.contains(msg), "{args:?}: {e}");
        }
    }
}
