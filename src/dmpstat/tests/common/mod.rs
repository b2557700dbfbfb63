//! A fake sysfs tree, written with the same formatters the kernel module uses.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dmp_stats::{account, complete, write_summary, Counters, IoKind, Started, StatFile};

/// A temporary directory holding `sys/`.
pub struct Tree {
    pub dir: tempfile::TempDir,
}

/// Latency the fake requests of [`counters`] take: reads 150 µs, writes
/// 2 ms, discards 40 ms, empty flushes 5 ms.
pub fn latency_ns(kind: IoKind, flush: bool) -> u64 {
    match (kind, flush) {
        (IoKind::Write, true) => 5_000_000,
        (IoKind::Read, _) => 150_000,
        (IoKind::Write, _) => 2_000_000,
        (IoKind::Discard, _) => 40_000_000,
        (IoKind::Other, _) => 0,
    }
}

/// One request mapped and completed, as the module counts it (busy time:
/// its latency).
pub fn io(c: &mut Counters, kind: IoKind, bytes: u64, flush: bool) {
    account(kind, bytes, flush).apply(&mut c.slots);
    let ns = latency_ns(kind, flush);
    // The module adds 1 to the in-flight gauge at map (the per-CPU array
    // holds it; `account` leaves it to the caller) and `complete` takes it off.
    c.slots[dmp_stats::IN_FLIGHT] = c.slots[dmp_stats::IN_FLIGHT].wrapping_add(1);
    complete(&Started::new(kind, flush, 1_000), 1_000 + ns, false, ns).apply(&mut c.slots);
}

/// Counters after `reads` reads of `rsize` bytes, `writes` writes of `wsize`
/// bytes, `discards` discards of 1 MiB and `flushes` empty flushes, every
/// one completed (see [`latency_ns`]).
pub fn counters(
    reads: u64,
    rsize: u64,
    writes: u64,
    wsize: u64,
    discards: u64,
    flushes: u64,
) -> Counters {
    let mut c = Counters::zero();
    for _ in 0..reads {
        io(&mut c, IoKind::Read, rsize, false);
    }
    for _ in 0..writes {
        io(&mut c, IoKind::Write, wsize, false);
    }
    for _ in 0..discards {
        io(&mut c, IoKind::Discard, 1 << 20, false);
    }
    for _ in 0..flushes {
        io(&mut c, IoKind::Write, 0, true);
    }
    c
}

/// A 17-field /sys/block/dm-N/stat line whose fields match `c`.
pub fn diskstats_of(c: &Counters) -> String {
    format!(
        "{:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}\n",
        c.read_cnt(),
        0,
        c.read_bytes() / 512,
        3,
        c.write_cnt(),
        0,
        c.write_bytes() / 512,
        5,
        0,
        9,
        11,
        c.discard_cnt(),
        0,
        c.discard_bytes() / 512,
        1,
        c.flush_cnt(),
        2
    )
}

/// Writes a file of the tree atomically (a temporary file renamed over it),
/// so that dmpstat running meanwhile never reads a half-written file.
pub fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        fs::create_dir_all(p).expect("mkdir");
    }
    let tmp = path.with_extension("tmp~");
    fs::write(&tmp, text).expect("write");
    fs::rename(&tmp, path).expect("rename");
}

/// Writes every statistics file of `StatFile::ALL` (`stat` and `latency`
/// included) for `c` into `dir`.
pub fn write_stat_files(dir: &Path, c: &Counters) {
    for f in StatFile::ALL {
        let mut s = String::new();
        f.render(c, &mut s).expect("render");
        write(&dir.join(f.name()), &s);
    }
}

impl Tree {
    /// A tree with the dmp module loaded and no device.
    pub fn loaded() -> Tree {
        let t = Tree::empty();
        t.set_aggregate(&Counters::zero());
        write(&t.stat().join("reset"), "");
        fs::create_dir_all(t.sys().join("block")).expect("mkdir");
        t
    }

    /// A tree without the dmp module.
    pub fn empty() -> Tree {
        let dir = tempfile::tempdir().expect("tempdir");
        fs::create_dir_all(dir.path().join("sys/module/dm_mod")).expect("mkdir");
        Tree { dir }
    }

    pub fn sys(&self) -> PathBuf {
        self.dir.path().join("sys")
    }

    pub fn stat(&self) -> PathBuf {
        self.sys().join("module/dmp/stat")
    }

    /// Writes `all_devs/*` and `volumes` for `c`.
    pub fn set_aggregate(&self, c: &Counters) {
        write_stat_files(&self.stat().join("all_devs"), c);
        let mut s = String::new();
        write_summary(c, &mut s).expect("summary");
        write(&self.stat().join("volumes"), &s);
    }

    /// Adds (or rewrites) dmp device dm-`n` named `name` over `slaves`, with
    /// dmp counters `c` and block-layer counters matching `disk`.
    pub fn add_dmp(&self, n: u32, name: &str, slaves: &[&str], c: &Counters, disk: &Counters) {
        let k = format!("dm-{n}");
        let dir = self.stat().join(&k);
        write_stat_files(&dir, c);
        write(&dir.join("name"), &format!("{name}\n"));
        if !dir.join("reset").exists() {
            write(&dir.join("reset"), "");
        }
        self.add_block(n, name, slaves, disk);
    }

    /// Makes dm-`n` look like a device of a module older than the `stat`
    /// file: removes `stat` and `latency`.
    pub fn make_old(&self, n: u32) {
        let dir = self.stat().join(format!("dm-{n}"));
        for f in ["stat", "latency"] {
            let _ = fs::remove_file(dir.join(f));
        }
    }

    /// Rewrites /sys/block/dm-`n`/stat to match `disk` (atomically).
    pub fn set_diskstats(&self, n: u32, disk: &Counters) {
        let b = self.sys().join("block").join(format!("dm-{n}"));
        write(&b.join("stat"), &diskstats_of(disk));
    }

    /// Adds a device-mapper device that is not a dmp device.
    pub fn add_block(&self, n: u32, name: &str, slaves: &[&str], disk: &Counters) {
        let b = self.sys().join("block").join(format!("dm-{n}"));
        write(&b.join("dm/name"), &format!("{name}\n"));
        write(&b.join("stat"), &diskstats_of(disk));
        fs::create_dir_all(b.join("slaves")).expect("mkdir");
        for s in slaves {
            fs::create_dir_all(b.join("slaves").join(s)).expect("mkdir");
        }
    }

    /// Runs dmpstat with `--sysfs-root` pointing at this tree.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dmpstat"));
        cmd.arg("--sysfs-root").arg(self.sys()).args(args);
        cmd.env_remove("DMPSTAT_SYSFS_ROOT");
        cmd.output().expect("run dmpstat")
    }
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exit code (-1 when killed by a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}
