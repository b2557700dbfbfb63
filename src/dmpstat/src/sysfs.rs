//! Reading and writing the sysfs files of the dmp module and of the block layer.
//!
//! Every file's content is parsed with the parsers of `dmp-stats`, the crate
//! whose formatters the kernel module uses to write them.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use dmp_stats::{
    parse_histogram, parse_summary, parse_u64_line, Counters, StatFile, Summary, DISCARD_BYTES,
    DISCARD_CNT, FLUSH_CNT, HIST_READ, HIST_WRITE, READ_BYTES, READ_CNT, WRITE_BYTES, WRITE_CNT,
};

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

    /// Reads the counters of a target from its statistics files.
    ///
    /// Each file is read separately: under load the files of one snapshot come
    /// from slightly different instants.
    pub fn read_counters(&self, t: &Target) -> Result<Counters> {
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
        Ok(c)
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
        };
        a.add(&a.clone());
        assert_eq!(
            (a.reads, a.write_sectors, a.discards),
            (2, 8, Some((10, 12)))
        );
        a.add(&DiskStats::default());
        assert_eq!(a.discards, None);
    }
}
