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
        aggregate over every dmp device.",
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

    /// Arguments of the default command (list).
    #[command(flatten)]
    pub list: ListArgs,

    /// The command; list when absent.
    #[command(subcommand)]
    pub command: Option<Command>,
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
