//! dmpstat run against fake sysfs trees.

mod common;

use std::fs;
use std::process::Command;
use std::time::Duration;

use common::{code, counters, stderr, stdout, Tree};
use dmp_stats::Counters;

/// dm-0 "zero1" (not dmp), dm-1 "dmp1" over dm-0, dm-2 "dmp2" over loop1;
/// every counter consistent with the block layer.
fn two_devices() -> (Tree, Counters, Counters) {
    let t = Tree::loaded();
    let a = counters(176, 4096, 7, 1024, 0, 0);
    let b = counters(10, 512, 20, 65536, 3, 2);
    t.add_block(0, "zero1", &["loop0"], &Counters::zero());
    t.add_dmp(1, "dmp1", &["dm-0"], &a, &a);
    t.add_dmp(2, "dmp2", &["loop1"], &b, &b);
    let mut all = a;
    all.merge(&b);
    t.set_aggregate(&all);
    (t, a, b)
}

// ------------------------------------------------------------------ list

#[test]
fn list_table() {
    let (t, _, _) = two_devices();
    let o = t.run(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "\
NAME   DEVICE    UNDERLYING  READS  RAVG  WRITES   WAVG  DISCARDS  FLUSHES
dmp1   dm-1      dm-0          176  4096       7   1024         0        0
dmp2   dm-2      loop1          10   512      22  59578         3        2
(all)  all_devs  -             186  3903      29  45444         3        2
"
    );
    assert_eq!(
        stdout(&t.run(&["list"])),
        stdout(&o),
        "list is the default command"
    );
}

#[test]
fn list_reads_the_stat_file_and_falls_back_to_the_single_files() {
    let (t, _, _) = two_devices();
    let before = stdout(&t.run(&[]));
    // The stat file is what is read: a different read count there shows.
    let mut c = counters(10, 512, 20, 65536, 3, 2);
    c.slots[dmp_stats::READ_CNT] = 11;
    let mut line = String::new();
    dmp_stats::write_stat(&c, &mut line).expect("format");
    common::write(&t.stat().join("dm-2/stat"), &line);
    let out = stdout(&t.run(&["dmp2"]));
    let reads = out.lines().nth(1).and_then(|l| l.split_whitespace().nth(3));
    assert_eq!(reads, Some("11"), "{out}");
    // Without stat and latency (an older module), the single-value files give the same table.
    t.make_old(2);
    let o = t.run(&[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), before);
}

#[test]
fn list_restricted_by_name_kernel_name_and_dev_paths() {
    let (t, _, _) = two_devices();
    for arg in ["dmp2", "dm-2", "/dev/mapper/dmp2", "/dev/dm-2"] {
        let o = t.run(&[arg]);
        assert_eq!(code(&o), 0, "{arg}: {}", stderr(&o));
        let out = stdout(&o);
        assert_eq!(out.lines().count(), 2, "{arg}: {out}");
        assert!(
            out.lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("dmp2  dm-2")),
            "{out}"
        );
    }
    let o = t.run(&["list", "dmp2", "dmp1", "dmp2"]);
    let rows: Vec<String> = stdout(&o)
        .lines()
        .skip(1)
        .map(|l| l[..4].to_string())
        .collect();
    assert_eq!(rows, ["dmp2", "dmp1"], "argument order, repeats dropped");
}

#[test]
fn list_json() {
    let (t, a, _) = two_devices();
    let o = t.run(&["--json"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let devices = v["devices"].as_array().expect("devices");
    assert_eq!(devices.len(), 2);
    let d = &devices[0];
    assert_eq!(d["name"], "dmp1");
    assert_eq!(d["device"], "dm-1");
    assert_eq!(d["underlying"], serde_json::json!(["dm-0"]));
    assert_eq!(d["read_reqs"], a.read_cnt());
    assert_eq!(d["read_bytes"], a.read_bytes());
    assert_eq!(d["total_reqs"], 183);
    assert_eq!(d["total_avg"], 3978);
    assert_eq!(v["aggregate"]["write_reqs"], 29);
    assert_eq!(v["aggregate"]["discard_bytes"], 3 << 20);
    // The newer fields, from the stat and latency files.
    assert_eq!(d["in_flight"], 0);
    assert_eq!(d["read_done"], 176);
    assert_eq!(d["write_done"], 7);
    assert_eq!(d["read_ns"], 176 * 150_000);
    assert_eq!(d["write_ns"], 7 * 2_000_000);
    assert_eq!(d["io_ticks_ns"], 176 * 150_000 + 7 * 2_000_000);
    assert_eq!(d["read_errors"], 0);
    let lat = d["latency"].as_array().expect("latency buckets");
    assert_eq!(lat.len(), 22);
    assert_eq!(
        lat[8],
        serde_json::json!({"label": "128us", "upper_ns": 256000, "reads": 176, "writes": 0})
    );
    let b = &v["aggregate"];
    assert_eq!(b["discard_done"], 3);
    assert_eq!(b["flush_done"], 2);
    assert_eq!(b["flush_ns"], 2 * 5_000_000);
    assert_eq!(b["write_done"], 29);
    // An older module: the old keys only.
    t.make_old(1);
    let v: serde_json::Value =
        serde_json::from_slice(&t.run(&["--json", "dmp1"]).stdout).expect("JSON");
    let d = &v["devices"][0];
    assert_eq!(d["read_reqs"], 176);
    assert!(
        d.get("in_flight").is_none() && d.get("latency").is_none(),
        "{d}"
    );

    let o = t.run(&["list", "--json", "dmp1"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["devices"].as_array().map(Vec::len), Some(1));
    assert!(v["aggregate"].is_null());

    let o = t.run(&["list", "--json", "all_devs"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["devices"].as_array().map(Vec::len), Some(0));
    assert_eq!(v["aggregate"]["read_reqs"], 186);
}

#[test]
fn list_with_no_dmp_device_shows_the_aggregate() {
    let t = Tree::loaded();
    let o = t.run(&[]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o).lines().count(), 2);
    assert!(stderr(&o).contains("no dmp device"));
}

#[test]
fn sysfs_root_from_the_environment() {
    let (t, _, _) = two_devices();
    let o = Command::new(env!("CARGO_BIN_EXE_dmpstat"))
        .env("DMPSTAT_SYSFS_ROOT", t.sys())
        .arg("dmp1")
        .output()
        .expect("run");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("dmp1"));
}

// ------------------------------------------------------------------ errors

#[test]
fn module_not_loaded() {
    let t = Tree::empty();
    for args in [
        &[][..],
        &["check"],
        &["watch", "-c", "1"],
        &["prometheus"],
        &["reset", "--all"],
        &["histogram", "x"],
        &["latency", "x"],
    ] {
        let o = t.run(args);
        assert_eq!(code(&o), 3, "{args:?}");
        assert!(
            stderr(&o).contains("dmp module is not loaded"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn not_a_dmp_device_and_unknown_device() {
    let (t, _, _) = two_devices();
    for arg in ["zero1", "dm-0", "/dev/mapper/zero1"] {
        let o = t.run(&[arg]);
        assert_eq!(code(&o), 3, "{arg}");
        assert!(
            stderr(&o).contains("not a dmp device"),
            "{arg}: {}",
            stderr(&o)
        );
    }
    for args in [
        &["nosuch"][..],
        &["check", "dm-9"],
        &["histogram", "nosuch"],
        &["reset", "nosuch"],
    ] {
        let o = t.run(args);
        assert_eq!(code(&o), 3, "{args:?}");
        assert!(
            stderr(&o).contains("no such device"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let (t, _, _) = two_devices();
    for args in [
        &["--bogus"][..],
        &["watch", "-i", "0"],
        &["watch", "-i", "abc"],
        &["watch", "-c", "0"],
        &["reset"],
        &["reset", "--all", "dmp1"],
        &["reset", "all_devs"],
        &["histogram"],
        &["latency"],
        &["latency", "--width", "0", "dmp1"],
        &["--json", "watch"],
        &["check", "--json"],
    ] {
        let o = t.run(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).is_empty(), "{args:?}");
    }
}

#[test]
fn malformed_sysfs_content_exits_5_naming_the_file() {
    let (t, _, _) = two_devices();
    fs::write(t.stat().join("dm-1/stat"), "12 \n").expect("write");
    let o = t.run(&["dmp1"]);
    assert_eq!(code(&o), 5);
    let e = stderr(&o);
    assert!(
        e.contains("dm-1/stat") && e.contains("unexpected content"),
        "{e}"
    );
    // A module without `stat`: the single-value files are read instead.
    t.make_old(1);
    fs::write(t.stat().join("dm-1/read_cnt"), "12 \n").expect("write");
    let o = t.run(&["dmp1"]);
    assert_eq!(code(&o), 5);
    let e = stderr(&o);
    assert!(
        e.contains("dm-1/read_cnt") && e.contains("unexpected content"),
        "{e}"
    );
    fs::remove_file(t.stat().join("dm-2/histogram")).expect("rm");
    let o = t.run(&["histogram", "dmp2"]);
    assert_eq!(code(&o), 5);
    assert!(stderr(&o).contains("dm-2/histogram"), "{}", stderr(&o));
}

/// Whether this process reads files whatever their mode (root).
fn privileged(t: &Tree) -> bool {
    let probe = t.dir.path().join("probe");
    let _ = fs::remove_file(&probe);
    fs::write(&probe, "x").expect("write probe");
    set_mode(&probe, 0o000);
    fs::read(&probe).is_ok()
}

/// Runs `args` unprivileged: as is when not root, else through setpriv as
/// nobody. As root without setpriv the test cannot be run: that is a failure
/// naming the missing tool, never a skip reported as a pass.
fn run_unprivileged(t: &Tree, args: &[&str]) -> std::process::Output {
    let mut cmd = if privileged(t) {
        let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("running as root: setpriv (util-linux) is needed to run dmpstat unprivileged");
        let mut c = Command::new(setpriv);
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        c.arg(env!("CARGO_BIN_EXE_dmpstat"));
        // Let nobody walk into the temporary directory.
        set_mode(t.dir.path(), 0o755);
        c
    } else {
        Command::new(env!("CARGO_BIN_EXE_dmpstat"))
    };
    cmd.arg("--sysfs-root").arg(t.sys()).args(args);
    cmd.output().expect("run dmpstat")
}

fn set_mode(p: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn permission_denied_exits_4_with_the_udev_hint() {
    let (t, _, _) = two_devices();
    // The module's modes: statistics 0400, reset 0200, owned by root.
    set_mode(&t.stat().join("dm-1/stat"), 0o400);
    set_mode(&t.stat().join("dm-1/reset"), 0o200);
    if privileged(&t) {
        // Through setpriv as nobody, the module's modes alone must refuse.
        let o = run_unprivileged(&t, &["dmp1"]);
        assert_eq!(
            code(&o),
            4,
            "mode 0400 root-owned file read as nobody: {}",
            stderr(&o)
        );
    } else {
        // Our own files when not root: make them unreadable for real.
        set_mode(&t.stat().join("dm-1/stat"), 0o000);
    }
    let o = run_unprivileged(&t, &["dmp1"]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("permission denied reading"), "{e}");
    assert!(e.contains("dm-1/stat"), "{e}");
    assert!(e.contains("udev rule"), "{e}");
    set_mode(&t.stat().join("dm-1/reset"), 0o000);
    let o = run_unprivileged(&t, &["reset", "dmp1"]);
    assert_eq!(code(&o), 4, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("permission denied writing"),
        "{}",
        stderr(&o)
    );
}

// ------------------------------------------------------------------ check

#[test]
fn check_equal() {
    let (t, _, _) = two_devices();
    let o = t.run(&["check"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o),
        "dm-1 (dmp1): equal\ndm-2 (dmp2): equal\nall_devs: equal\n"
    );
    let o = t.run(&["check", "dmp2"]);
    assert_eq!(
        (code(&o), stdout(&o)),
        (0, "dm-2 (dmp2): equal\n".to_string())
    );
}

/// Counters of a module that does not time requests (`latency=0`): counts
/// and bytes only, nothing completed, nothing in flight.
fn untimed(reads: u64, rsize: u64, writes: u64, wsize: u64) -> Counters {
    let mut c = Counters::zero();
    for _ in 0..reads {
        dmp_stats::account(dmp_stats::IoKind::Read, rsize, false).apply(&mut c.slots);
    }
    for _ in 0..writes {
        dmp_stats::account(dmp_stats::IoKind::Write, wsize, false).apply(&mut c.slots);
    }
    c
}

#[test]
fn check_untimed_compares_what_dmp_counts() {
    let t = Tree::loaded();
    let a = untimed(176, 4096, 7, 1024);
    let disk = counters(176, 4096, 7, 1024, 0, 0);
    t.add_block(0, "zero1", &[], &Counters::zero());
    t.add_dmp(1, "dmp1", &["dm-0"], &a, &disk);
    t.set_aggregate(&a);
    let param = t.sys().join("module/dmp/parameters/latency");
    common::write(&param, "N\n");
    let o = t.run(&["check"]);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "dm-1 (dmp1): equal\nall_devs: equal\n");
    assert_eq!(
        stderr(&o),
        format!("dmpstat: {}\n", dmpstat::check::UNTIMED),
        "one line says what is not compared"
    );
    // Counts are still compared: the block layer saw one read more.
    let mut more = disk;
    more.merge(&counters(1, 4096, 0, 0, 0, 0));
    t.set_diskstats(1, &more);
    let o = t.run(&["check", "dmp1"]);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("  read_cnt: dmp 176, block layer 177"),
        "{}",
        stdout(&o)
    );
    t.set_diskstats(1, &disk);
    // The same counters from a module that times requests lack completions.
    common::write(&param, "Y\n");
    let o = t.run(&["check", "dmp1"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("  read_done: dmp 0, block layer 176"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn check_reports_differences() {
    let (t, a, _) = two_devices();
    // The block layer saw 4 more reads of 4 KiB on dm-1 (e.g. dmp1 was reset).
    let mut disk = a;
    disk.merge(&counters(4, 4096, 0, 0, 0, 0));
    t.add_dmp(1, "dmp1", &["dm-0"], &a, &disk);
    let o = t.run(&["check"]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.starts_with(
        "dm-1 (dmp1): DIFFERENT\n  read_cnt: dmp 176, block layer 180 (field 1 of /sys/block/dm-1/stat), difference -4\n  read_bytes: dmp 720896, block layer 737280 (field 3 x 512 of /sys/block/dm-1/stat), difference -16384\n  read_done: dmp 176, block layer 180 (field 1 of /sys/block/dm-1/stat), difference -4\ndm-2 (dmp2): equal\nall_devs: DIFFERENT\n  read_cnt: dmp 186, block layer 190 (field 1 of the sum of /sys/block/dm-N/stat over 2 dmp devices), difference -4\n"
    ), "{out}");
    assert!(out.contains("were reset"), "explains resets: {out}");
    let o = t.run(&["check", "dmp2"]);
    assert_eq!(code(&o), 0, "only dmp2 checked");
}

#[test]
fn check_each_compared_field() {
    let (t, a, _) = two_devices();
    let cases: [(&[&str], Counters); 5] = [
        (&["write_cnt", "write_done"], counters(0, 0, 1, 0, 0, 0)),
        (&["write_bytes"], {
            let mut c = Counters::zero();
            c.slots[dmp_stats::WRITE_BYTES] = 512;
            c
        }),
        (&["discard_cnt", "discard_done"], {
            let mut c = Counters::zero();
            c.slots[dmp_stats::DISCARD_CNT] = 1;
            c
        }),
        (&["discard_bytes"], {
            let mut c = Counters::zero();
            c.slots[dmp_stats::DISCARD_BYTES] = 512;
            c
        }),
        (&["read_bytes"], {
            let mut c = Counters::zero();
            c.slots[dmp_stats::READ_BYTES] = 1024;
            c
        }),
    ];
    for (what, extra) in cases {
        let mut disk = a;
        disk.merge(&extra);
        t.add_dmp(1, "dmp1", &["dm-0"], &a, &disk);
        let o = t.run(&["check", "dmp1"]);
        assert_eq!(code(&o), 1, "{what:?}");
        let out = stdout(&o);
        let listed: Vec<&str> = out
            .lines()
            .filter_map(|l| l.strip_prefix("  "))
            .filter_map(|l| l.split(':').next())
            .filter(|w| !w.contains(' '))
            .collect();
        assert_eq!(listed, what, "{out}");
    }
}

#[test]
fn check_aggregate_against_the_sum_and_volumes() {
    let (t, a, b) = two_devices();
    // Aggregate counts 1 more write than the devices' block stats sum to.
    let mut all = a;
    all.merge(&b);
    all.merge(&counters(0, 0, 1, 0, 0, 0));
    t.set_aggregate(&all);
    let o = t.run(&["check", "all_devs"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("  write_cnt: dmp 30, block layer 29 (field 5 of the sum of /sys/block/dm-N/stat over 2 dmp devices), difference +1"), "{}", stdout(&o));

    // volumes disagreeing with all_devs is reported too.
    let mut all = a;
    all.merge(&b);
    t.set_aggregate(&all);
    let mut wrong = all;
    wrong.slots[dmp_stats::READ_CNT] = 1;
    let mut volumes = String::new();
    dmp_stats::write_summary(&wrong, &mut volumes).expect("summary");
    fs::write(t.stat().join("volumes"), volumes).expect("write");
    let o = t.run(&["check", "all_devs"]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(
        stdout(&o).contains("  volumes read reqs: volumes 1, all_devs 186 (computed from the all_devs files), difference -185"),
        "{}",
        stdout(&o)
    );
}

/// Serves `path` as a FIFO: the first reader gets `first`, every later one
/// `then`, until the returned flag is set. This makes the block layer's
/// file change between dmpstat's reads before and after dmp's snapshot, as
/// it does under load, deterministically.
fn serve_fifo(
    path: &std::path::Path,
    first: String,
    then: String,
) -> (
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<u32>,
) {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    use std::sync::atomic::Ordering;
    fs::remove_file(path).expect("rm");
    let st = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(st.success());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let path = path.to_path_buf();
    let h = std::thread::spawn(move || {
        let mut served = 0u32;
        while !flag.load(Ordering::SeqCst) {
            // O_NONBLOCK: fails (ENXIO) until a reader has the FIFO open.
            match fs::OpenOptions::new()
                .write(true)
                .custom_flags(0o4000)
                .open(&path)
            {
                Ok(mut f) => {
                    let text = if served == 0 { &first } else { &then };
                    f.write_all(text.as_bytes()).expect("write fifo");
                    drop(f);
                    served += 1;
                    // Let that reader see the end of the file and close it
                    // before the next one is served (a writer that opened
                    // while it still had the FIFO open would be counted
                    // without being read, or join its content).
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
        }
        served
    });
    (stop, h)
}

/// `dmpstat check dmp1` with the block layer's dm-1/stat read as `d1`
/// first and as `d2` afterwards; returns the output and how often the file
/// was served: at least as often as it was read, at most twice as often (a
/// writer can open the FIFO before the previous reader closed it).
fn check_busy(d1: &Counters, d2: &Counters) -> (std::process::Output, u32) {
    let (t, _, _) = two_devices();
    let path = t.sys().join("block/dm-1/stat");
    let (stop, h) = serve_fifo(&path, common::diskstats_of(d1), common::diskstats_of(d2));
    let o = t.run(&["check", "dmp1"]);
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    (o, h.join().expect("fifo thread"))
}

#[test]
fn check_busy_device_within_bounds() {
    // dmp counted 176 reads and 7 writes; the block layer had ended 170
    // reads and 5 writes before dmp's snapshot and all of them after.
    let a = counters(176, 4096, 7, 1024, 0, 0);
    let (o, served) = check_busy(&counters(170, 4096, 5, 1024, 0, 0), &a);
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert_eq!(
        stdout(&o),
        format!("dm-1 (dmp1): {}\n", dmpstat::check::BOUNDED)
    );
    assert!(
        (2..=4).contains(&served),
        "read once before and once after: {served}"
    );
}

#[test]
fn check_busy_device_waits_for_the_block_layer() {
    // After dmp's snapshot the block layer still lags (173 < 176) on the
    // first re-read... and on every later one: DIFFERENT, said as a range.
    let a = counters(176, 4096, 7, 1024, 0, 0);
    let (o, served) = check_busy(
        &counters(170, 4096, 7, 1024, 0, 0),
        &counters(173, 4096, 7, 1024, 0, 0),
    );
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    let out = stdout(&o);
    assert!(out.starts_with("dm-1 (dmp1): DIFFERENT\n  read_cnt: dmp 176, block layer 170 before and 173 after (field 1 of /sys/block/dm-1/stat), outside by +3\n"), "{out}");
    let reads = 1 + 1 + dmpstat::check::SETTLE_TRIES;
    assert!(
        (reads..=2 * reads).contains(&served),
        "re-read until the bound: {served}"
    );
    // dmp counted fewer than the block layer had already ended before: outside below.
    let (o, _) = check_busy(
        &counters(180, 4096, 7, 1024, 0, 0),
        &counters(190, 4096, 7, 1024, 0, 0),
    );
    assert_eq!(code(&o), 1, "{}", stdout(&o));
    assert!(stdout(&o).contains("  read_cnt: dmp 176, block layer 180 before and 190 after (field 1 of /sys/block/dm-1/stat), outside by -4\n"), "{}", stdout(&o));
    let _ = a;
}

#[test]
fn check_idle_device_still_exact() {
    // The same reading before and after: exact, a difference of one is reported.
    let (o, served) = check_busy(
        &counters(175, 4096, 7, 1024, 0, 0),
        &counters(175, 4096, 7, 1024, 0, 0),
    );
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("  read_cnt: dmp 176, block layer 175 (field 1 of /sys/block/dm-1/stat), difference +1\n"), "{}", stdout(&o));
    assert!(served > 2);
}

/// `dmpstat check dmp1` after dm-1's stat line was replaced by `f`.
fn check_with_stat_line(t: &Tree, f: &[u64]) -> std::process::Output {
    let line: Vec<String> = f.iter().map(u64::to_string).collect();
    common::write(
        &t.stat().join("dm-1/stat"),
        &format!("{}\n", line.join(" ")),
    );
    t.run(&["check", "dmp1"])
}

#[test]
fn check_internal_fields_of_the_stat_file() {
    let (t, a, _) = two_devices();
    let mut f = dmp_stats::stat_fields(&a);
    f[3] += 1; // field 4, read ms, no longer field 21 / 10^6
    let o = check_with_stat_line(&t, &f);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("  read ms: field 4 27, field 21 / 10^6 26 (fields of "),
        "{}",
        stdout(&o)
    );
    // An idle device with a request still counted in flight.
    let mut f = dmp_stats::stat_fields(&a);
    f[8] = 1;
    let o = check_with_stat_line(&t, &f);
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("  in flight when idle: field 9 1, idle device 0"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn check_aggregate_against_the_devices_sum() {
    let (t, a, b) = two_devices();
    // dm-2's dmp counters were reset: the devices no longer sum to all_devs.
    t.add_dmp(2, "dmp2", &["loop1"], &Counters::zero(), &b);
    let o = t.run(&["check", "all_devs"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("  read_cnt: devices 176, all_devs 186 (the sum of the dmp devices' counters against all_devs read before and after them), difference -10\n"), "{}", stdout(&o));
    let _ = a;
}

#[test]
fn check_without_dmp_devices_is_an_error() {
    let t = Tree::loaded();
    t.add_block(0, "zero1", &[], &Counters::zero());
    let o = t.run(&["check"]);
    assert_eq!(code(&o), 3);
    assert!(
        stderr(&o).contains("no dmp device exists"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
    let o = t.run(&["check", "all_devs"]);
    assert_eq!(code(&o), 3, "the aggregate alone compares against nothing");
}

// ------------------------------------------------------------------ reset

#[test]
fn reset_devices_and_all() {
    let (t, _, _) = two_devices();
    let o = t.run(&["reset", "dmp2", "dm-1"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "reset dm-2 (dmp2)\nreset dm-1 (dmp1)\n");
    assert_eq!(
        fs::read_to_string(t.stat().join("dm-1/reset"))
            .ok()
            .as_deref(),
        Some("1\n")
    );
    assert_eq!(
        fs::read_to_string(t.stat().join("dm-2/reset"))
            .ok()
            .as_deref(),
        Some("1\n")
    );
    assert_eq!(
        fs::read_to_string(t.stat().join("reset")).ok().as_deref(),
        Some("")
    );
    // What is written is accepted by the kernel's parser.
    assert_eq!(dmp_stats::parse_reset(b"1\n"), Ok(()));

    let o = t.run(&["reset", "--all"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout(&o), "reset every dmp counter\n");
    assert_eq!(
        fs::read_to_string(t.stat().join("reset")).ok().as_deref(),
        Some("1\n")
    );
}

#[test]
fn reset_never_creates_a_missing_reset_file() {
    let (t, _, _) = two_devices();
    fs::remove_file(t.stat().join("dm-1/reset")).expect("rm");
    let o = t.run(&["reset", "dmp1"]);
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    assert!(!t.stat().join("dm-1/reset").exists());
}

// ------------------------------------------------------------------ prometheus

#[test]
fn prometheus_text() {
    let (t, _, _) = two_devices();
    let o = t.run(&["prometheus"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    for line in [
        "# HELP dmp_reads_total Read requests seen by the dmp target.",
        "# TYPE dmp_reads_total counter",
        "dmp_reads_total{device=\"dm-1\",name=\"dmp1\"} 176",
        "dmp_reads_total{device=\"dm-2\",name=\"dmp2\"} 10",
        "dmp_read_bytes_total{device=\"dm-1\",name=\"dmp1\"} 720896",
        "dmp_writes_total{device=\"dm-2\",name=\"dmp2\"} 22",
        "dmp_written_bytes_total{device=\"dm-2\",name=\"dmp2\"} 1310720",
        "dmp_discards_total{device=\"dm-2\",name=\"dmp2\"} 3",
        "dmp_discarded_bytes_total{device=\"dm-2\",name=\"dmp2\"} 3145728",
        "dmp_flushes_total{device=\"dm-2\",name=\"dmp2\"} 2",
        "# TYPE dmp_write_size_bytes histogram",
        "dmp_write_size_bytes_bucket{device=\"dm-2\",name=\"dmp2\",le=\"511\"} 2",
        "dmp_write_size_bytes_bucket{device=\"dm-2\",name=\"dmp2\",le=\"65535\"} 2",
        "dmp_write_size_bytes_bucket{device=\"dm-2\",name=\"dmp2\",le=\"131071\"} 22",
        "dmp_write_size_bytes_bucket{device=\"dm-2\",name=\"dmp2\",le=\"+Inf\"} 22",
        "dmp_write_size_bytes_sum{device=\"dm-2\",name=\"dmp2\"} 1310720",
        "dmp_write_size_bytes_count{device=\"dm-2\",name=\"dmp2\"} 22",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
    assert!(!out.contains("all_devs"), "the aggregate is not exported");
}

#[test]
fn prometheus_output_file_is_replaced_atomically() {
    let (t, _, _) = two_devices();
    let file = t.dir.path().join("dmp.prom");
    fs::write(&file, "old\n").expect("write");
    let o = t.run(&["prometheus", "-o", file.to_str().expect("utf-8")]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let text = fs::read_to_string(&file).expect("read");
    assert!(text.starts_with("# HELP dmp_reads_total"));
    let leftovers: Vec<_> = fs::read_dir(t.dir.path())
        .expect("ls")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

// ------------------------------------------------------------------ histogram

#[test]
fn histogram_bars() {
    let (t, _, _) = two_devices();
    let o = t.run(&["histogram", "--width", "20", "dmp1"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "dm-1 (dmp1): request sizes");
    assert!(
        lines.contains(&"4K       176  ####################"),
        "{out}"
    );
    assert!(lines.contains(&"1K         7  #"), "{out}");
    assert!(lines.contains(&"8K         0"), "{out}");
    let o = t.run(&["histogram", "all_devs"]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).starts_with("all_devs: request sizes\n"));
}

// ------------------------------------------------------------------ latency

#[test]
fn latency_bars_and_json() {
    let (t, _, _) = two_devices();
    let o = t.run(&["latency", "--width", "20", "dmp1"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "dm-1 (dmp1): latency of completed requests");
    assert_eq!(lines[2], "latency    reads");
    // 176 reads of 150 µs (bucket 128us), 7 writes of 2 ms (bucket 1024us: [1024, 2048) µs).
    assert!(
        lines.contains(&"128us        176  ####################"),
        "{out}"
    );
    let w = lines
        .iter()
        .position(|l| l.ends_with("writes"))
        .expect("writes");
    assert!(lines[w..].contains(&"1024us         7  #"), "{out}");
    assert!(lines[w..].contains(&"128us          0"), "{out}");
    assert_eq!(lines.len(), 1 + 2 * 24);

    let o = t.run(&["latency", "--json", "all_devs"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert_eq!(v["device"], "all_devs");
    let b = v["buckets"].as_array().expect("buckets");
    assert_eq!(b.len(), 22);
    assert_eq!(
        b[8],
        serde_json::json!({"label": "128us", "upper_ns": 256000, "reads": 186, "writes": 0})
    );
    assert_eq!(b[21]["upper_ns"], serde_json::Value::Null);
}

#[test]
fn latency_needs_the_latency_file() {
    let (t, _, _) = two_devices();
    t.make_old(1);
    let o = t.run(&["latency", "dmp1"]);
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("dm-1/latency: no such file"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
    let o = t.run(&["latency", "nosuch"]);
    assert_eq!(code(&o), 3);
}

#[test]
fn prometheus_latency_histograms_parse() {
    let (t, _, _) = two_devices();
    let o = t.run(&["prometheus"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let (samples, types) = dmpstat::prom::parse(&out).expect("valid text format");
    // Size and latency histograms, reads and writes, two devices.
    assert_eq!(dmpstat::prom::check_histograms(&samples, &types), Ok(8));
    for line in [
        "# TYPE dmp_read_latency_seconds histogram",
        "dmp_read_latency_seconds_bucket{device=\"dm-1\",name=\"dmp1\",le=\"0.000128\"} 0",
        "dmp_read_latency_seconds_bucket{device=\"dm-1\",name=\"dmp1\",le=\"0.000256\"} 176",
        "dmp_read_latency_seconds_bucket{device=\"dm-1\",name=\"dmp1\",le=\"+Inf\"} 176",
        "dmp_read_latency_seconds_sum{device=\"dm-1\",name=\"dmp1\"} 0.0264",
        "dmp_read_latency_seconds_count{device=\"dm-1\",name=\"dmp1\"} 176",
        "dmp_write_latency_seconds_count{device=\"dm-2\",name=\"dmp2\"} 22",
        "dmp_write_errors_total{device=\"dm-2\",name=\"dmp2\"} 0",
        "dmp_discard_errors_total{device=\"dm-2\",name=\"dmp2\"} 0",
        "dmp_in_flight_requests{device=\"dm-1\",name=\"dmp1\"} 0",
        // 10 reads of 150 µs, 20 writes of 2 ms, 3 discards of 40 ms, 2 flushes of 5 ms.
        "dmp_io_time_seconds_total{device=\"dm-2\",name=\"dmp2\"} 0.1715",
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line:?} in\n{out}");
    }
    // An older module: no latency samples, the rest unchanged.
    t.make_old(1);
    let o = t.run(&["prometheus"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains("dmp_read_latency_seconds_bucket{device=\"dm-1\""));
    assert!(out.contains("dmp_read_latency_seconds_bucket{device=\"dm-2\""));
    assert!(out.contains("dmp_reads_total{device=\"dm-1\",name=\"dmp1\"} 176"));
}

// ------------------------------------------------------------------ watch

#[test]
fn watch_prints_count_reports() {
    let (t, _, _) = two_devices();
    let o = t.run(&["watch", "-i", "0.05", "-c", "3"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let headers = out.lines().filter(|l| l.starts_with("NAME  ")).count();
    assert_eq!(headers, 3, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("dmp1   dm-1      0.00  0.00")),
        "{out}"
    );
    assert_eq!(
        out.lines().filter(|l| l.is_empty()).count(),
        2,
        "reports separated by a blank line"
    );
}

#[test]
fn watch_rates_follow_the_counters() {
    let (t, a, _) = two_devices();
    let child = Command::new(env!("CARGO_BIN_EXE_dmpstat"))
        .arg("--sysfs-root")
        .arg(t.sys())
        .args(["watch", "--json", "-i", "1.5", "-c", "1", "dmp1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // The first snapshot is taken at once; change the counters during the interval.
    std::thread::sleep(Duration::from_millis(500));
    let mut now = a;
    now.merge(&counters(300, 8192, 30, 4096, 0, 0));
    t.add_dmp(1, "dmp1", &["dm-0"], &now, &now);
    let o = child.wait_with_output().expect("wait");
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let v: serde_json::Value = serde_json::from_str(lines[0]).expect("JSON line");
    let secs = v["interval_s"].as_f64().expect("interval");
    assert!(secs > 1.4 && secs < 5.0, "{secs}");
    let d = &v["devices"][0];
    assert_eq!(d["device"], "dm-1");
    let r_s = d["r_s"].as_f64().expect("r/s");
    assert!((r_s * secs - 300.0).abs() < 1e-6, "{r_s} * {secs}");
    let w_s = d["w_s"].as_f64().expect("w/s");
    assert!((w_s * secs - 30.0).abs() < 1e-6);
    let rmb = d["rmb_s"].as_f64().expect("rMB/s");
    assert!((rmb * secs * 1_048_576.0 - 300.0 * 8192.0).abs() < 1e-3);
    assert_eq!(d["ravg"], 8192);
    assert_eq!(d["wavg"], 4096);
    assert_eq!(d["reset"], false);
}

// ------------------------------------------------------------------ iostat-like

#[test]
fn positional_interval_and_count_errors_exit_2() {
    let (t, _, _) = two_devices();
    for (args, msg) in [
        (&["0"][..], "out of range"),
        (&["-1"], "out of range"),
        (&["1", "0"], "COUNT must be at least 1"),
        (&["1", "2", "3"], "too many numbers"),
        (&["dmp1", "1", "2", "3"], "too many numbers"),
        (&["1", "dmp1"], "come after the devices"),
        (&["dmp1", "1", "2.5"], "not a COUNT"),
        (&["-x", "0"], "out of range"),
        (&["-t", "abc", "1", "-1"], "not a COUNT"),
    ] {
        let o = t.run(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(msg), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    for args in [&["-x", "watch"][..], &["-t", "list"], &["5", "check"]] {
        let o = t.run(args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn positional_interval_and_count_report_like_watch() {
    let (t, _, _) = two_devices();
    let o = t.run(&["0.05", "3"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("NAME  ")).count(),
        3,
        "{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("dmp1   dm-1      0.00  0.00")),
        "{out}"
    );
    let o = t.run(&["dmp2", "0.05", "2"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("dmp2")).count(),
        2,
        "{out}"
    );
    assert!(!out.contains("dmp1"), "{out}");
}

#[test]
fn a_device_named_like_a_number_is_reached_through_its_kernel_name() {
    let (t, _, _) = two_devices();
    let c = counters(5, 4096, 0, 0, 0, 0);
    t.add_dmp(3, "5", &["loop3"], &c, &c);
    for args in [&["dm-3", "0.05", "1"][..], &["/dev/mapper/5", "0.05", "1"]] {
        let o = t.run(args);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        assert!(
            stdout(&o)
                .lines()
                .any(|l| l.starts_with("5  ") && l.contains("dm-3")),
            "{}",
            stdout(&o)
        );
    }
    let o = t.run(&["dm-3"]);
    assert!(stdout(&o).contains("5     dm-3"), "{}", stdout(&o));
    let o = t.run(&["5", "0.05", "1"]);
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("dm-N or /dev/mapper/NAME"),
        "{}",
        stderr(&o)
    );
}

fn is_timestamp(l: &str) -> bool {
    let b = l.as_bytes();
    l.len() == 20
        && l.ends_with('Z')
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && l.bytes().filter(u8::is_ascii_digit).count() == 14
}

#[test]
fn timestamps_with_t() {
    let (t, _, _) = two_devices();
    let o = t.run(&["-t", "0.05", "2"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(is_timestamp(lines[0]), "{out}");
    assert!(lines[1].starts_with("NAME  "), "{out}");
    assert_eq!(lines.iter().filter(|l| is_timestamp(l)).count(), 2, "{out}");
    let o = t.run(&["watch", "-t", "-i", "0.05", "-c", "1"]);
    assert!(
        is_timestamp(stdout(&o).lines().next().unwrap_or("")),
        "{}",
        stdout(&o)
    );
    // The list too, and JSON gets a key.
    let o = t.run(&["-t"]);
    let out = stdout(&o);
    assert!(is_timestamp(out.lines().next().unwrap_or("")), "{out}");
    assert!(
        out.lines().nth(1).is_some_and(|l| l.starts_with("NAME")),
        "{out}"
    );
    let v: serde_json::Value =
        serde_json::from_slice(&t.run(&["-t", "--json"]).stdout).expect("JSON");
    assert!(is_timestamp(v["timestamp"].as_str().unwrap_or("")), "{v}");
    let o = t.run(&["--json", "-t", "0.05", "1"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert!(is_timestamp(v["timestamp"].as_str().unwrap_or("")), "{v}");
    // Without -t, no timestamp anywhere.
    let o = t.run(&["0.05", "1"]);
    assert!(!stdout(&o).lines().any(is_timestamp));
    let v: serde_json::Value = serde_json::from_slice(&t.run(&["--json"]).stdout).expect("JSON");
    assert!(v.get("timestamp").is_none());
}

/// The cells of the row of `device` in an extended report, by column.
fn xrow(out: &str, device: &str) -> Vec<(String, String)> {
    let header: Vec<&str> = out
        .lines()
        .find(|l| l.starts_with("NAME"))
        .expect("header")
        .split_whitespace()
        .collect();
    let row: Vec<&str> = out
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(device))
        .unwrap_or_else(|| panic!("no row for {device} in {out}"))
        .split_whitespace()
        .collect();
    assert_eq!(header.len(), row.len(), "{out}");
    header
        .iter()
        .map(|h| h.to_string())
        .zip(row.iter().map(|c| c.to_string()))
        .collect()
}

fn cell(row: &[(String, String)], col: &str) -> String {
    row.iter()
        .find(|(h, _)| h == col)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| panic!("no {col}"))
}

#[test]
fn extended_report_since_the_counters_started() {
    let (t, _, _) = two_devices();
    let o = t.run(&["-x"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let header: Vec<&str> = out
        .lines()
        .next()
        .expect("header")
        .split_whitespace()
        .collect();
    assert_eq!(header, dmpstat::watch::XCOLUMNS);
    let r = xrow(&out, "dm-1");
    // 176 reads of 4 KiB that took 150 µs, 7 writes of 1 KiB that took 2 ms.
    assert_eq!(cell(&r, "r_await"), "0.15");
    assert_eq!(cell(&r, "rareq-sz"), "4.00");
    assert_eq!(cell(&r, "w_await"), "2.00");
    assert_eq!(cell(&r, "wareq-sz"), "1.00");
    assert_eq!(cell(&r, "rrqm/s"), "0.00");
    let r = xrow(&out, "dm-2");
    // 3 discards of 40 ms, 2 flushes of 5 ms.
    assert_eq!(cell(&r, "d_await"), "40.00");
    assert_eq!(cell(&r, "dareq-sz"), "1024.00");
    assert_eq!(cell(&r, "f_await"), "5.00");
    let a = xrow(&out, "all_devs");
    assert_eq!(cell(&a, "%util"), "-", "the aggregate has no %util");
    assert!(cell(&xrow(&out, "dm-1"), "%util").parse::<f64>().is_ok());
    // An older module has no stat file: -x says so.
    t.make_old(2);
    let o = t.run(&["-x", "dmp2"]);
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("dm-2/stat: no such file"),
        "{}",
        stderr(&o)
    );
    let o = t.run(&["-x", "dmp2", "0.05", "1"]);
    assert_eq!(code(&o), 5, "{}", stderr(&o));
}

/// Starts `dmpstat ARGS` on dmp1, changes dmp1's counters while it waits for
/// its first interval (300 reads of 8 KiB taking 150 µs each, 30 writes of
/// 4 KiB taking 2 ms, the busy time growing by 600 ms) and returns its output.
fn run_while_counters_change(args: &[&str]) -> std::process::Output {
    let (t, a, _) = two_devices();
    let child = Command::new(env!("CARGO_BIN_EXE_dmpstat"))
        .arg("--sysfs-root")
        .arg(t.sys())
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    std::thread::sleep(Duration::from_millis(500));
    let mut now = a;
    now.merge(&counters(300, 8192, 30, 4096, 0, 0));
    now.slots[dmp_stats::IO_TICKS_NS] = a.io_ticks_ns() + 600_000_000;
    t.add_dmp(1, "dmp1", &["dm-0"], &now, &now);
    child.wait_with_output().expect("wait")
}

#[test]
fn extended_report_follows_the_counters() {
    let o = run_while_counters_change(&["-x", "dmp1", "1.5", "1"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let r = xrow(&out, "dm-1");
    assert_eq!(cell(&r, "r_await"), "0.15", "{out}");
    assert_eq!(cell(&r, "rareq-sz"), "8.00");
    assert_eq!(cell(&r, "w_await"), "2.00");
    assert_eq!(cell(&r, "wareq-sz"), "4.00");
    let util: f64 = cell(&r, "%util").parse().expect("number");
    // 600 ms busy in an interval of about 1.5 s.
    assert!(util > 10.0 && util <= 40.01, "{util}");

    let o = run_while_counters_change(&["-x", "--json", "dmp1", "1.5", "1"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON line");
    let secs = v["interval_s"].as_f64().expect("interval");
    let d = &v["devices"][0];
    let f = |k: &str| d[k].as_f64().unwrap_or_else(|| panic!("{k} in {d}"));
    assert!((f("r_s") * secs - 300.0).abs() < 1e-6);
    assert!((f("r_bytes_s") * secs - 300.0 * 8192.0).abs() < 1e-3);
    assert!((f("r_await_ms") - 0.15).abs() < 1e-9);
    assert_eq!(f("rareq_bytes"), 8192.0);
    assert!((f("w_await_ms") - 2.0).abs() < 1e-9);
    assert!(
        (f("util_pct") - 60.0 / secs).abs() < 1e-6,
        "{}",
        f("util_pct")
    );
    // aqu-sz: (300 × 150 µs + 30 × 2 ms) / interval
    assert!((f("aqu_sz") * secs - 0.105).abs() < 1e-9, "{}", f("aqu_sz"));
    assert_eq!(d["read_done"], 300);
    assert_eq!(d["read_ns"], 300 * 150_000);
    assert_eq!(d["in_flight"], 0);
    assert_eq!(d["latency"][8]["reads"], 300, "the interval's buckets");
    assert_eq!(d["ravg"], 8192, "the old keys stay");
}

// ------------------------------------------------------------------ help

#[test]
fn help_documents_exit_codes_and_columns() {
    let o = Command::new(env!("CARGO_BIN_EXE_dmpstat"))
        .arg("--help")
        .output()
        .expect("run");
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    for s in [
        "Exit status:",
        "  3  dmp module not loaded",
        "  4  permission denied",
        "watch",
        "check",
        "prometheus",
        "histogram",
        "latency",
        "--sysfs-root",
        "[DEVICE]... [INTERVAL [COUNT]]",
        "-x, --extended",
        "-t, --timestamp",
        "a device named like a number is given as dm-N",
    ] {
        assert!(out.contains(s), "{s:?} missing from --help");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_dmpstat"))
        .args(["check", "--help"])
        .output()
        .expect("run");
    assert!(stdout(&o).contains("1  check: counters differ"));
    assert!(
        stdout(&o).contains("between the") && stdout(&o).contains("within bounds"),
        "check --help says how it is bounded: {}",
        stdout(&o)
    );
}

/// With latency=0 the JSON and Prometheus outputs leave out what nothing
/// measured (completions, times, errors, in flight, busy, latency), and keep
/// the counts and bytes.
#[test]
fn untimed_fields_are_absent_from_json_and_prometheus() {
    let (t, _, _) = two_devices();
    let param = t.sys().join("module/dmp/parameters/latency");
    for (p, timed) in [("Y\n", true), ("N\n", false)] {
        common::write(&param, p);
        let o = t.run(&["--json"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let j: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
        assert_eq!(j["timed"], timed);
        let d = &j["devices"][0];
        assert_eq!(d["read_reqs"], 176, "counts stay");
        for f in [
            "read_done",
            "read_ns",
            "in_flight",
            "io_ticks_ns",
            "read_errors",
        ] {
            assert_eq!(d.get(f).is_some(), timed, "{f} with latency={p}");
        }
        let o = t.run(&["prometheus"]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let text = stdout(&o);
        assert!(text.contains("dmp_reads_total{device=\"dm-1\",name=\"dmp1\"} 176"));
        for m in [
            "dmp_read_latency_seconds_bucket{",
            "dmp_read_errors_total{",
            "dmp_in_flight_requests{",
        ] {
            assert_eq!(text.contains(m), timed, "{m} with latency={p}");
        }
    }
}

#[test]
fn latency_off_is_said_on_stderr() {
    let (t, _, _) = two_devices();
    let param = t.sys().join("module/dmp/parameters/latency");
    common::write(&param, "N\n");
    let o = t.run(&["-x", "dmp1", "0.1", "1"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("latency is off"), "-x: {}", stderr(&o));
    let o = t.run(&["watch", "-x", "-c", "1", "-i", "0.1", "dmp1"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("latency is off"), "{}", stderr(&o));
    let row = stdout(&o).lines().nth(1).unwrap_or_default().to_string();
    let cells: Vec<&str> = row.split_whitespace().collect();
    // r_await, w_await, d_await, f_await, aqu-sz, %util: not measured.
    for i in [6, 12, 16, 19, 20, 21] {
        assert_eq!(cells.get(i), Some(&"-"), "column {i} of {row:?}");
    }
    // The latency histogram is an error, not a histogram of zeros.
    let o = t.run(&["latency", "dmp1"]);
    assert_eq!(code(&o), 5, "{}", stdout(&o));
    assert!(
        stderr(&o).contains("dmp does not time requests (module parameter latency=0)"),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
    // Not said for the plain listing, nor when the parameter is on.
    assert!(!stderr(&t.run(&["list"])).contains("latency is off"));
    common::write(&param, "Y\n");
    for args in [
        &["latency", "dmp1"][..],
        &["watch", "-x", "-c", "1", "-i", "0.1", "dmp1"][..],
    ] {
        let o = t.run(args);
        assert_eq!(code(&o), 0, "{args:?}: {}", stderr(&o));
        assert!(
            !stderr(&o).contains("latency is off"),
            "{args:?}: {}",
            stderr(&o)
        );
    }
}
