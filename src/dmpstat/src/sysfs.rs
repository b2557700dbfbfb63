//! Reading and writing the sysfs files of the dmp module and of the block layer.
//!
//! Every file's content is parsed with the parsers of `dmp-stats`, the crate
//! whose formatters the kernel module uses to write them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use dmp_stats::{
    parse_histogram, parse_latency, parse_stat, parse_summary, parse_u64_line, Counters, StatFile,
    Summary, DISCARD_BYTES, DISCARD_CNT, DISCARD_DONE, DISCARD_ERR, DISCARD_NS, FLUSH_CNT,
    FLUSH_DONE, FLUSH_NS, HIST_READ, HIST_WRITE, IN_FLIGHT, IO_TICKS_NS, LAT_READ, LAT_WRITE,
    READ_BYTES, READ_CNT, READ_ERR, READ_NS, STAT_FIELDS, WRITE_BYTES, WRITE_CNT, WRITE_ERR,
    WRITE_NS,
};
use serde::Serialize;

use crate::error::{Error, Result};

/// Name of the aggregate directory under `stat/`, also accepted as a device argument.
pub const AGGREGATE: &str = "all_devs";

/// Bytes per sector in `/sys/block/*/stat`.
pub const SECTOR: u64 = 512;

/// What a device argument names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// One dmp device, by kernel name (dm-N).
    Device(String),
    /// The aggregate over every dmp device (`all_devs`).
    Aggregate,
}

/// A dmp device: its names and underlying devices.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// Kernel name, dm-N.
    pub kernel: String,
    /// dmsetup name (`-` when unknown).
    pub name: String,
    /// Underlying devices (entries of /sys/block/dm-N/slaves), sorted.
    pub underlying: Vec<String>,
}

/// The fields of dmp's `stat` file that older modules lack (fields 9 and
/// 21 to 32, see `dmp_stats::stat_fields`), by name.
///
/// `in_flight` is a gauge, the others are counters that only grow (until a
/// reset). The kernel sums its per-CPU counters one CPU after another, so a
/// request that starts on one CPU and ends on another while the sum is taken
/// can be seen ended and not started: the in-flight sum may then be
/// "negative" (wrapped); [`Ext::of_stat`] shows that as 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ext {
    /// Requests mapped and not yet completed (field 9).
    pub in_flight: u64,
    /// Nanoseconds the device had a request in flight (field 32).
    pub io_ticks_ns: u64,
    /// Nanoseconds completed reads took, summed (field 21).
    pub read_ns: u64,
    /// Nanoseconds completed writes took (field 22).
    pub write_ns: u64,
    /// Nanoseconds completed discards took (field 23).
    pub discard_ns: u64,
    /// Nanoseconds completed requests with a preflush took (field 24).
    pub flush_ns: u64,
    /// Completed reads (field 25).
    pub read_done: u64,
    /// Completed writes (field 26).
    pub write_done: u64,
    /// Completed discards (field 27).
    pub discard_done: u64,
    /// Completed requests with a preflush (field 28).
    pub flush_done: u64,
    /// Reads completed with an error (field 29).
    pub read_errors: u64,
    /// Writes completed with an error (field 30).
    pub write_errors: u64,
    /// Discards completed with an error (field 31).
    pub discard_errors: u64,
}

/// Field `n` (1-based, as documented) of a `stat` line.
pub fn field(f: &[u64; STAT_FIELDS], n: usize) -> u64 {
    n.checked_sub(1)
        .and_then(|i| f.get(i))
        .copied()
        .unwrap_or(0)
}

impl Ext {
    /// The named fields of a `stat` line; a wrapped ("negative") in-flight sum shows as 0.
    pub fn of_stat(f: &[u64; STAT_FIELDS]) -> Ext {
        let at = |n| field(f, n);
        let in_flight = at(9);
        Ext {
            in_flight: if in_flight > i64::MAX as u64 {
                0
            } else {
                in_flight
            },
            io_ticks_ns: at(32),
            read_ns: at(21),
            write_ns: at(22),
            discard_ns: at(23),
            flush_ns: at(24),
            read_done: at(25),
            write_done: at(26),
            discard_done: at(27),
            flush_done: at(28),
            read_errors: at(29),
            write_errors: at(30),
            discard_errors: at(31),
        }
    }

    /// The counters as an array, in field order (in_flight excluded).
    fn counts(&self) -> [u64; 12] {
        [
            self.io_ticks_ns,
            self.read_ns,
            self.write_ns,
            self.discard_ns,
            self.flush_ns,
            self.read_done,
            self.write_done,
            self.discard_done,
            self.flush_done,
            self.read_errors,
            self.write_errors,
            self.discard_errors,
        ]
    }

    /// True when a counter went down since `prev`: a reset happened in between.
    pub fn went_down(&self, prev: &Ext) -> bool {
        self.counts()
            .iter()
            .zip(prev.counts().iter())
            .any(|(n, p)| n < p)
    }

    /// What the counters grew by since `base` (wrapping); `in_flight` is the current gauge.
    pub fn since(&self, base: &Ext) -> Ext {
        Ext {
            in_flight: self.in_flight,
            io_ticks_ns: self.io_ticks_ns.wrapping_sub(base.io_ticks_ns),
            read_ns: self.read_ns.wrapping_sub(base.read_ns),
            write_ns: self.write_ns.wrapping_sub(base.write_ns),
            discard_ns: self.discard_ns.wrapping_sub(base.discard_ns),
            flush_ns: self.flush_ns.wrapping_sub(base.flush_ns),
            read_done: self.read_done.wrapping_sub(base.read_done),
            write_done: self.write_done.wrapping_sub(base.write_done),
            discard_done: self.discard_done.wrapping_sub(base.discard_done),
            flush_done: self.flush_done.wrapping_sub(base.flush_done),
            read_errors: self.read_errors.wrapping_sub(base.read_errors),
            write_errors: self.write_errors.wrapping_sub(base.write_errors),
            discard_errors: self.discard_errors.wrapping_sub(base.discard_errors),
        }
    }

    /// Adds another device's fields (wrapping), e.g. to sum devices.
    pub fn add(&mut self, o: &Ext) {
        let sum = |a: u64, b: u64| a.wrapping_add(b);
        *self = Ext {
            in_flight: sum(self.in_flight, o.in_flight),
            io_ticks_ns: sum(self.io_ticks_ns, o.io_ticks_ns),
            read_ns: sum(self.read_ns, o.read_ns),
            write_ns: sum(self.write_ns, o.write_ns),
            discard_ns: sum(self.discard_ns, o.discard_ns),
            flush_ns: sum(self.flush_ns, o.flush_ns),
            read_done: sum(self.read_done, o.read_done),
            write_done: sum(self.write_done, o.write_done),
            discard_done: sum(self.discard_done, o.discard_done),
            flush_done: sum(self.flush_done, o.flush_done),
            read_errors: sum(self.read_errors, o.read_errors),
            write_errors: sum(self.write_errors, o.write_errors),
            discard_errors: sum(self.discard_errors, o.discard_errors),
        };
    }
}

/// What [`Sysfs::read_target`] reads besides the counts and bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Parts {
    /// The request size histogram (`histogram`).
    pub histogram: bool,
    /// The latency histogram (`latency`; only when the module has it).
    pub latency: bool,
}

/// The counters of one target as read from sysfs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reading {
    /// Counts and bytes (from `stat`, or the single-value files of an older
    /// module), the time, completion, error, in-flight and busy slots when
    /// `stat` exists, and the histograms that were asked for.
    pub counters: Counters,
    /// The `stat` line, when the module has that file.
    pub stat: Option<[u64; STAT_FIELDS]>,
    /// The latency histogram was read (`counters` holds it).
    pub has_latency: bool,
    /// dmp times requests ([`Sysfs::timed`]): without it, the completion,
    /// time, error, in-flight and busy fields of `stat` and the latency
    /// histogram are 0 because nothing measured them, not because nothing
    /// happened.
    pub timed: bool,
}

impl Reading {
    /// A reading of counters that are all zero, with the same files as `like`.
    pub fn zero_like(like: &Reading) -> Reading {
        Reading {
            counters: Counters::zero(),
            stat: like.stat.map(|_| [0; STAT_FIELDS]),
            has_latency: like.has_latency,
            timed: like.timed,
        }
    }

    /// dmp's own fields, when the module has the `stat` file.
    pub fn ext(&self) -> Option<Ext> {
        self.stat.as_ref().map(Ext::of_stat)
    }

    /// dmp's own fields when they were measured: the module has the `stat`
    /// file and times requests. What a report shows of them.
    pub fn timed_ext(&self) -> Option<Ext> {
        self.ext().filter(|_| self.timed)
    }
}

/// The fields of `/sys/block/dm-N/stat` that dmp's counters correspond to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskStats {
    /// Field 1: read I/Os.
    pub reads: u64,
    /// Field 3: read sectors.
    pub read_sectors: u64,
    /// Field 5: write I/Os.
    pub writes: u64,
    /// Field 7: write sectors.
    pub write_sectors: u64,
    /// Fields 12 and 14: discard I/Os and sectors (absent before Linux 4.18).
    pub discards: Option<(u64, u64)>,
    /// Field 9: I/Os in flight.
    pub in_flight: u64,
    /// Field 10: milliseconds busy (grows with any I/O, of any kind).
    pub io_ticks_ms: u64,
}

impl DiskStats {
    /// Parses the content of a `stat` file: whitespace-separated decimal fields.
    pub fn parse(text: &str) -> std::result::Result<DiskStats, String> {
        let fields = text
            .split_whitespace()
            .enumerate()
            .map(|(i, f)| {
                f.parse::<u64>()
                    .map_err(|e| format!("field {}: {:?}: {}", i + 1, f, e))
            })
            .collect::<std::result::Result<Vec<u64>, String>>()?;
        if fields.len() < 11 {
            return Err(format!("{} fields, expected at least 11", fields.len()));
        }
        let at = |n: usize| fields.get(n - 1).copied().unwrap_or(0);
        Ok(DiskStats {
            reads: at(1),
            read_sectors: at(3),
            writes: at(5),
            write_sectors: at(7),
            discards: if fields.len() >= 14 {
                Some((at(12), at(14)))
            } else {
                None
            },
            in_flight: at(9),
            io_ticks_ms: at(10),
        })
    }

    /// Adds another device's fields (wrapping, like the kernel's counters).
    pub fn add(&mut self, o: &DiskStats) {
        self.reads = self.reads.wrapping_add(o.reads);
        self.read_sectors = self.read_sectors.wrapping_add(o.read_sectors);
        self.writes = self.writes.wrapping_add(o.writes);
        self.write_sectors = self.write_sectors.wrapping_add(o.write_sectors);
        self.discards = match (self.discards, o.discards) {
            (Some((a, b)), Some((c, d))) => Some((a.wrapping_add(c), b.wrapping_add(d))),
            _ => None,
        };
        self.in_flight = self.in_flight.wrapping_add(o.in_flight);
        self.io_ticks_ms = self.io_ticks_ms.wrapping_add(o.io_ticks_ms);
    }
}

/// Fills the count, byte, time, completion, error, in-flight and busy slots
/// of `c` from a `stat` line (the fields of `dmp_stats::stat_fields`).
/// The read and write completions live in the latency histogram's slots,
/// which this leaves alone: take them from [`Ext`].
pub fn fill_from_stat(c: &mut Counters, f: &[u64; STAT_FIELDS]) {
    let at = |n| field(f, n);
    for (slot, n) in [
        (READ_CNT, 1),
        (READ_BYTES, 18),
        (WRITE_CNT, 5),
        (WRITE_BYTES, 19),
        (DISCARD_CNT, 12),
        (DISCARD_BYTES, 20),
        (FLUSH_CNT, 16),
        (READ_NS, 21),
        (WRITE_NS, 22),
        (DISCARD_NS, 23),
        (FLUSH_NS, 24),
        (DISCARD_DONE, 27),
        (FLUSH_DONE, 28),
        (READ_ERR, 29),
        (WRITE_ERR, 30),
        (DISCARD_ERR, 31),
        (IN_FLIGHT, 9),
        (IO_TICKS_NS, 32),
    ] {
        c.slots[slot] = at(n);
    }
}

/// True for kernel names of device-mapper devices: `dm-` and decimal digits.
pub fn is_dm_name(s: &str) -> bool {
    s.strip_prefix("dm-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Sort key of a dm-N name: by N.
fn dm_number(s: &str) -> u64 {
    s.strip_prefix("dm-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(u64::MAX)
}

/// The sysfs tree dmpstat works on (`/sys`, or a fake tree in tests).
#[derive(Clone, Debug)]
pub struct Sysfs {
    root: PathBuf,
}

impl Sysfs {
    /// A sysfs tree rooted at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Sysfs { root: root.into() }
    }

    /// `ROOT/module/dmp`.
    pub fn module_dir(&self) -> PathBuf {
        self.root.join("module").join("dmp")
    }

    /// The module parameter `latency` (`ROOT/module/dmp/parameters/latency`,
    /// `Y` or `N`); `None` when unreadable (not loaded, an older module).
    pub fn latency_param(&self) -> Option<bool> {
        match fs::read_to_string(self.module_dir().join("parameters").join("latency"))
            .ok()?
            .trim()
        {
            "Y" | "1" => Some(true),
            "N" | "0" => Some(false),
            _ => None,
        }
    }

    /// Whether dmp times requests to their completion: its parameter
    /// `latency` is on, or the module predates the parameter (and always
    /// timed them).
    pub fn timed(&self) -> bool {
        self.latency_param() != Some(false)
    }

    /// `ROOT/module/dmp/stat`.
    pub fn stat_dir(&self) -> PathBuf {
        self.module_dir().join("stat")
    }

    /// The statistics directory of a target (`stat/dm-N` or `stat/all_devs`).
    pub fn target_dir(&self, t: &Target) -> PathBuf {
        match t {
            Target::Device(k) => self.stat_dir().join(k),
            Target::Aggregate => self.stat_dir().join(AGGREGATE),
        }
    }

    /// `ROOT/block/<kernel>`.
    fn block_dir(&self, kernel: &str) -> PathBuf {
        self.root.join("block").join(kernel)
    }

    /// Fails unless the dmp module is loaded and has its statistics directory.
    pub fn ensure_loaded(&self) -> Result<()> {
        let module = self.module_dir();
        if !module.is_dir() {
            return Err(Error::ModuleNotLoaded { path: module });
        }
        let stat = self.stat_dir();
        if !stat.is_dir() {
            return Err(Error::NoStatDir { path: stat });
        }
        Ok(())
    }

    /// Kernel names of every dmp device, sorted by number.
    pub fn list_devices(&self) -> Result<Vec<String>> {
        self.ensure_loaded()?;
        let dir = self.stat_dir();
        let entries = fs::read_dir(&dir).map_err(|e| Error::io(dir.clone(), e, false))?;
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(dir.clone(), e, false))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_dm_name(&name) && entry.path().is_dir() {
                out.push(name);
            }
        }
        out.sort_by_key(|n| dm_number(n));
        Ok(out)
    }

    /// Reads a whole file as text.
    pub fn read(&self, path: &Path) -> Result<String> {
        let bytes = fs::read(path).map_err(|e| Error::io(path.to_path_buf(), e, false))?;
        String::from_utf8(bytes).map_err(|_| Error::Parse {
            path: path.to_path_buf(),
            detail: "not UTF-8 text".into(),
        })
    }

    /// Reads the counters of a target with its request size histogram (see
    /// [`Sysfs::read_target`]).
    pub fn read_counters(&self, t: &Target) -> Result<Counters> {
        Ok(self
            .read_target(
                t,
                Parts {
                    histogram: true,
                    latency: false,
                },
            )?
            .counters)
    }

    /// Reads the counters of a target.
    ///
    /// From the `stat` file when the module has it: one line written from one
    /// snapshot, so its counts, bytes, times, completions, errors, in-flight
    /// and busy time agree with each other. From a module without it, from
    /// the single-value files, each read separately (under load they come
    /// from slightly different instants). The histograms asked for in
    /// `parts` are separate files, read after that (a module without
    /// `latency` has no latency histogram: `has_latency` stays false).
    pub fn read_target(&self, t: &Target, parts: Parts) -> Result<Reading> {
        let dir = self.target_dir(t);
        if !dir.is_dir() {
            self.ensure_loaded()?;
            return Err(match t {
                Target::Device(k) => Error::NotDmp {
                    arg: k.clone(),
                    kernel: k.clone(),
                },
                Target::Aggregate => Error::NoStatDir { path: dir },
            });
        }
        let mut c = Counters::zero();
        let path = dir.join(StatFile::Stat.name());
        let stat = match fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|_| Error::Parse {
                    path: path.clone(),
                    detail: "not UTF-8 text".into(),
                })?;
                let f = parse_stat(&text).map_err(|e| Error::Parse {
                    path,
                    detail: e.to_string(),
                })?;
                fill_from_stat(&mut c, &f);
                Some(f)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.read_singles(&dir, &mut c)?;
                None
            }
            Err(e) => return Err(Error::io(path, e, false)),
        };
        if parts.histogram {
            let path = dir.join(StatFile::Histogram.name());
            let text = self.read(&path)?;
            let hist = parse_histogram(&text).map_err(|e| Error::Parse {
                path,
                detail: e.to_string(),
            })?;
            for (i, (r, w)) in hist.iter().enumerate() {
                c.slots[HIST_READ + i] = *r;
                c.slots[HIST_WRITE + i] = *w;
            }
        }
        let timed = self.timed();
        let mut has_latency = false;
        if parts.latency && stat.is_some() && timed {
            let path = dir.join(StatFile::Latency.name());
            let text = self.read(&path)?;
            let lat = parse_latency(&text).map_err(|e| Error::Parse {
                path,
                detail: e.to_string(),
            })?;
            for (i, (r, w)) in lat.iter().enumerate() {
                c.slots[LAT_READ + i] = *r;
                c.slots[LAT_WRITE + i] = *w;
            }
            has_latency = true;
        }
        Ok(Reading {
            counters: c,
            stat,
            has_latency,
            timed,
        })
    }

    /// The single-value files of a module without `stat`.
    fn read_singles(&self, dir: &Path, c: &mut Counters) -> Result<()> {
        let singles = [
            (StatFile::ReadCnt, READ_CNT),
            (StatFile::ReadBytes, READ_BYTES),
            (StatFile::WriteCnt, WRITE_CNT),
            (StatFile::WriteBytes, WRITE_BYTES),
            (StatFile::DiscardCnt, DISCARD_CNT),
            (StatFile::DiscardBytes, DISCARD_BYTES),
            (StatFile::FlushCnt, FLUSH_CNT),
        ];
        for (file, slot) in singles {
            let path = dir.join(file.name());
            let text = self.read(&path)?;
            c.slots[slot] = parse_u64_line(&text).map_err(|e| Error::Parse {
                path,
                detail: e.to_string(),
            })?;
        }
        Ok(())
    }

    /// Reads `ROOT/module/dmp/stat/volumes`, the legacy aggregate summary.
    pub fn read_volumes(&self) -> Result<Summary> {
        let path = self.stat_dir().join("volumes");
        let text = self.read(&path)?;
        parse_summary(&text).map_err(|e| Error::Parse {
            path,
            detail: e.to_string(),
        })
    }

    /// Names and underlying devices of a dmp device.
    pub fn device_info(&self, kernel: &str) -> DeviceInfo {
        let trim = |s: String| s.trim_end_matches('\n').to_string();
        let name = self
            .read(&self.stat_dir().join(kernel).join("name"))
            .or_else(|_| self.read(&self.block_dir(kernel).join("dm").join("name")))
            .map(trim)
            .ok()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "-".to_string());
        let mut underlying: Vec<String> = fs::read_dir(self.block_dir(kernel).join("slaves"))
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        underlying.sort();
        DeviceInfo {
            kernel: kernel.to_string(),
            name,
            underlying,
        }
    }

    /// Reads `ROOT/block/<kernel>/stat`.
    pub fn read_diskstats(&self, kernel: &str) -> Result<DiskStats> {
        let path = self.block_dir(kernel).join("stat");
        let text = self.read(&path)?;
        DiskStats::parse(&text).map_err(|detail| Error::Parse { path, detail })
    }

    /// Resolves a device argument: a dmsetup name, dm-N, `/dev/mapper/NAME`,
    /// `/dev/dm-N`, or `all_devs` for the aggregate.
    pub fn resolve(&self, arg: &str) -> Result<Target> {
        self.ensure_loaded()?;
        if arg == AGGREGATE {
            return Ok(Target::Aggregate);
        }
        let (kernel_hint, name_hint) = if let Some(n) = arg.strip_prefix("/dev/mapper/") {
            (None, Some(n))
        } else if let Some(k) = arg.strip_prefix("/dev/") {
            (Some(k), None)
        } else if is_dm_name(arg) {
            (Some(arg), None)
        } else {
            (None, Some(arg))
        };
        let devices = self.list_devices()?;
        if let Some(k) = kernel_hint {
            if devices.iter().any(|d| d == k) {
                return Ok(Target::Device(k.to_string()));
            }
            if self.block_dir(k).exists() {
                return Err(Error::NotDmp {
                    arg: arg.to_string(),
                    kernel: k.to_string(),
                });
            }
            return Err(Error::NotFound {
                arg: arg.to_string(),
            });
        }
        let name = name_hint.unwrap_or(arg);
        for d in &devices {
            if self.device_info(d).name == name {
                return Ok(Target::Device(d.clone()));
            }
        }
        // A device-mapper device of that name without dmp statistics?
        if let Ok(rd) = fs::read_dir(self.root.join("block")) {
            for e in rd.filter_map(|e| e.ok()) {
                let k = e.file_name().to_string_lossy().into_owned();
                if !is_dm_name(&k) {
                    continue;
                }
                if let Ok(n) = self.read(&self.block_dir(&k).join("dm").join("name")) {
                    if n.trim_end_matches('\n') == name {
                        return Err(Error::NotDmp {
                            arg: arg.to_string(),
                            kernel: k,
                        });
                    }
                }
            }
        }
        Err(Error::NotFound {
            arg: arg.to_string(),
        })
    }

    /// Resolves several device arguments, keeping their order, dropping repeats.
    pub fn resolve_all(&self, args: &[String]) -> Result<Vec<Target>> {
        let mut out: Vec<Target> = Vec::new();
        for a in args {
            let t = self.resolve(a)?;
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// Writes "1" to a reset file: a device's, or the global one.
    pub fn reset(&self, t: &Target) -> Result<()> {
        let path = match t {
            Target::Device(k) => self.stat_dir().join(k).join("reset"),
            Target::Aggregate => self.stat_dir().join("reset"),
        };
        // Open without creating: a missing reset file is an error, not a new file.
        let mut f = fs::OpenOptions::new()
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io(path.clone(), e, true))?;
        io::Write::write_all(&mut f, b"1\n").map_err(|e| Error::io(path, e, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dm_names() {
        assert!(is_dm_name("dm-0"));
        assert!(is_dm_name("dm-123"));
        assert!(!is_dm_name("dm-"));
        assert!(!is_dm_name("dm-1a"));
        assert!(!is_dm_name("all_devs"));
        assert!(!is_dm_name("loop0"));
        let mut v = vec!["dm-10", "dm-2", "dm-1"];
        v.sort_by_key(|n| dm_number(n));
        assert_eq!(v, ["dm-1", "dm-2", "dm-10"]);
    }

    #[test]
    fn diskstats_fields() {
        // 17 fields as in Linux 5.5+.
        let text = "     176        0     1408       12        7        0       56        3        0       20       15        2        0       16        0        1        0\n";
        let d = DiskStats::parse(text).expect("parses");
        assert_eq!(
            d,
            DiskStats {
                reads: 176,
                read_sectors: 1408,
                writes: 7,
                write_sectors: 56,
                discards: Some((2, 16)),
                in_flight: 0,
                io_ticks_ms: 20,
            }
        );
        // 11 fields (before 4.18): no discards.
        let old = DiskStats::parse("1 2 3 4 5 6 7 8 9 10 11\n").expect("parses");
        assert_eq!(old.discards, None);
        assert_eq!(old.writes, 5);
        assert!(DiskStats::parse("1 2 3\n").is_err());
        assert!(DiskStats::parse("1 2 3 4 5 x 7 8 9 10 11").is_err());
        assert!(DiskStats::parse("1 2 3 4 5 -6 7 8 9 10 11").is_err());
    }

    #[test]
    fn diskstats_add() {
        let mut a = DiskStats {
            reads: 1,
            read_sectors: 2,
            writes: 3,
            write_sectors: 4,
            discards: Some((5, 6)),
            in_flight: 1,
            io_ticks_ms: 7,
        };
        a.add(&a.clone());
        assert_eq!(
            (
                a.reads,
                a.write_sectors,
                a.discards,
                a.in_flight,
                a.io_ticks_ms
            ),
            (2, 8, Some((10, 12)), 2, 14)
        );
        a.add(&DiskStats::default());
        assert_eq!(a.discards, None);
    }

    /// Counters after some requests were mapped and most completed.
    fn busy_counters() -> Counters {
        use dmp_stats::{account, complete, IoKind, Started};
        let mut c = Counters::zero();
        let ops = [
            (IoKind::Read, 4096, false, 5_000, false),
            (IoKind::Read, 8192, false, 2_000_000, true),
            (IoKind::Write, 65536, false, 30_000, false),
            (IoKind::Write, 0, true, 7_000_000, false),
            (IoKind::Discard, 1 << 20, false, 1_500_000_000, true),
        ];
        for (kind, bytes, flush, ns, err) in ops {
            account(kind, bytes, flush).apply(&mut c.slots);
            c.slots[IN_FLIGHT] = c.slots[IN_FLIGHT].wrapping_add(1);
            complete(&Started::new(kind, flush, 100), 100 + ns, err, ns).apply(&mut c.slots);
        }
        // One read still in flight.
        account(IoKind::Read, 512, false).apply(&mut c.slots);
        c.slots[IN_FLIGHT] = c.slots[IN_FLIGHT].wrapping_add(1);
        c
    }

    #[test]
    fn stat_line_fills_counters_and_ext() {
        let c = busy_counters();
        let mut text = String::new();
        dmp_stats::write_stat(&c, &mut text).expect("format");
        let f = parse_stat(&text).expect("parse");
        let mut got = Counters::zero();
        fill_from_stat(&mut got, &f);
        for slot in crate::watch::MAIN_SLOTS {
            assert_eq!(got.slots[slot], c.slots[slot], "slot {slot}");
        }
        assert_eq!(got.read_ns(), c.read_ns());
        assert_eq!(got.io_ticks_ns(), c.io_ticks_ns());
        let e = Ext::of_stat(&f);
        assert_eq!(
            e,
            Ext {
                in_flight: 1,
                io_ticks_ns: c.io_ticks_ns(),
                read_ns: 2_005_000,
                write_ns: 7_030_000,
                discard_ns: 1_500_000_000,
                flush_ns: 7_000_000,
                read_done: 2,
                write_done: 2,
                discard_done: 1,
                flush_done: 1,
                read_errors: 1,
                write_errors: 0,
                discard_errors: 1,
            }
        );
        assert_eq!(c.read_cnt(), 3);
    }

    #[test]
    fn wrapped_in_flight_shows_as_zero() {
        let mut f = [0u64; STAT_FIELDS];
        f[8] = u64::MAX; // field 9: one more completion than starts seen
        assert_eq!(Ext::of_stat(&f).in_flight, 0);
        f[8] = 3;
        assert_eq!(Ext::of_stat(&f).in_flight, 3);
    }

    #[test]
    fn ext_since_keeps_the_gauge_and_detects_resets() {
        let a = Ext {
            in_flight: 4,
            read_done: 10,
            io_ticks_ns: 100,
            ..Ext::default()
        };
        let b = Ext {
            in_flight: 1,
            read_done: 15,
            io_ticks_ns: 160,
            ..Ext::default()
        };
        let d = b.since(&a);
        assert_eq!((d.in_flight, d.read_done, d.io_ticks_ns), (1, 5, 60));
        assert!(!b.went_down(&a));
        assert!(a.went_down(&b));
        let mut s = a;
        s.add(&b);
        assert_eq!((s.in_flight, s.read_done), (5, 25));
    }
}
