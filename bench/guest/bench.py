#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""The benchmark's guest side (scripts/bench runs it through scripts/vm-run).

Everything runs in one boot, and every measurement is repeated in rounds with
the cases interleaved (the order rotates each round) so that drift of the
host shows as spread instead of as a difference between cases:

* fio, direct I/O, 4 KiB random read and random write, iodepth 32, 1 job and
  one job per CPU, on the raw null_blk device, dm-linear over it, dmp over it
  and dmp built without statistics (DMP_ACCOUNTING=none);
* the same fio workloads with raw, dm-linear and dmp driven at the same time
  (one fio run, one group per device, sharing the CPUs): ratios immune to
  the host's drift;
* fio on dmp and dm-linear at once (1 job each, random read, CPU 0) with and
  without a reader of `volumes` on the other CPU;
* with N dmp (and N dm-linear) devices: create and remove times, kernel memory
  per device, the time to read every statistics file;
* the accounting-path microbenchmark of each counter design, on 1 and on
  every CPU (/sys/module/dmp/microbench/run of the benchmark builds).

Results go to stdout as JSON between `=== dmp-bench: json begin/end` markers
(one record per line); progress lines start with `bench:`. No timing makes it
fail: only a step that cannot run does.
"""

import argparse
import datetime
import glob
import itertools
import mmap
import json
import os
import platform
import resource
import subprocess
import sys
import time

STAT = "/sys/module/dmp/stat"
MB_RUN = "/sys/module/dmp/microbench/run"
NULLB = "/sys/kernel/config/nullb/dmpbench"
VARIANT_KO = "/dmp/bench/dmp-{}.ko"
ENV = dict(os.environ, DM_DISABLE_UDEV="1",
           PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
NCPU = os.cpu_count() or 1


def log(msg):
    print(f"bench: {msg}", flush=True)


def sh(*cmd, input=None, check=True, cwd=None):
    r = subprocess.run(cmd, input=input, env=ENV, capture_output=True, text=True, cwd=cwd)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip()}")
    return r.stdout


def write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def read(path):
    with open(path) as f:
        return f.read()


# --- modules -----------------------------------------------------------------

def unload_dmp():
    if os.path.isdir("/sys/module/dmp"):
        sh("rmmod", "dmp")


def load_dmp(variant=None):
    """The shipped dmp.ko (modprobe), or a benchmark variant (insmod)."""
    unload_dmp()
    if variant is None:
        sh("modprobe", "dmp")
    elif variant == "latency":
        # dmp-latency: the shipped build with requests timed (module parameter).
        sh("modprobe", "dmp", "latency=1")
    else:
        sh("insmod", VARIANT_KO.format(variant))


# --- devices -----------------------------------------------------------------

def nullb_create():
    """A null_blk device without memory backing; returns /dev/nullbN."""
    if os.path.isdir(NULLB):
        write(f"{NULLB}/power", 0)
        os.rmdir(NULLB)
    os.mkdir(NULLB)
    # 16 GiB of address space, no memory behind it; completions in the
    # submitting context (irqmode 0: the cheapest, most stable base device);
    # one submission queue per CPU.
    for k, v in [("size", 16384), ("memory_backed", 0), ("irqmode", 0),
                 ("submit_queues", NCPU), ("hw_queue_depth", 128), ("blocksize", 512)]:
        write(f"{NULLB}/{k}", v)
    write(f"{NULLB}/power", 1)
    # Newer kernels name the disk after the configfs directory, older ones
    # nullb<index>.
    names = [os.path.basename(NULLB), f"nullb{read(f'{NULLB}/index').strip()}"]
    for _ in range(50):
        for n in names:
            if os.path.exists(f"/sys/block/{n}") and os.path.exists(f"/dev/{n}"):
                return f"/dev/{n}"
        time.sleep(0.1)
    raise RuntimeError(f"none of /dev/{{{','.join(names)}}} appeared")


def nullb_remove():
    if os.path.isdir(NULLB):
        write(f"{NULLB}/power", 0)
        os.rmdir(NULLB)


def sectors(dev):
    return int(sh("blockdev", "--getsz", dev))


def dm_create(name, table):
    sh("dmsetup", "create", name, "--table", table)
    return f"/dev/mapper/{name}"


def dm_remove(*names):
    if names:
        sh("dmsetup", "remove", *names)


def kname(name):
    return sh("dmsetup", "info", "-c", "--noheadings", "-o", "blkdevname", name).strip()


class Case:
    """One device under test: set up before a fio run, torn down after."""

    def __init__(self, name, base):
        self.name, self.base = name, base
        self.size = sectors(base)

    def setup(self):
        if self.name == "raw":
            return self.base
        if self.name == "dm-linear":
            return dm_create("bench-linear", f"0 {self.size} linear {self.base} 0")
        # dmp-nostats: the DMP_ACCOUNTING=none build; dmp-latency: the shipped
        # dmp.ko loaded with latency=1; dmp-VARIANT: another benchmark build
        # (percpu, percpu_batch, spinlock, atomic, nolatency).
        v = self.name[len("dmp-"):] if self.name.startswith("dmp-") else None
        load_dmp("none" if v == "nostats" else v)
        return dm_create("bench-dmp", f"0 {self.size} dmp {self.base}")

    def teardown(self):
        if self.name == "dm-linear":
            dm_remove("bench-linear")
        elif self.name.startswith("dmp"):
            dm_remove("bench-dmp")
            unload_dmp()


# --- fio ---------------------------------------------------------------------

def fio(dev, rw, jobs, runtime, ramp):
    out = sh("fio", "--name=bench", f"--filename={dev}", "--ioengine=libaio", "--direct=1",
             f"--rw={rw}", "--bs=4k", "--iodepth=32", f"--numjobs={jobs}", "--group_reporting",
             "--time_based", f"--runtime={runtime}", f"--ramp_time={ramp}", "--norandommap",
             "--randrepeat=0", "--output-format=json")
    job = json.loads(out[out.index("{"):])["jobs"][0]
    part = job["read" if rw == "randread" else "write"]
    return {"iops": part["iops"], "ios": part["total_ios"],
            "clat_mean_ns": part.get("clat_ns", {}).get("mean"),
            "usr_cpu": job.get("usr_cpu"), "sys_cpu": job.get("sys_cpu")}


class Marks:
    """Tells the host (bench/host-marks.py) when a measured run starts and
    ends, so that it can note the QEMU process's CPU time at those moments.
    The console is useless for that (an emulated UART, then buffered pipes
    that deliver it all at the end), so a mark is written with O_DIRECT into
    /dmp/bench/marks, a file that scripts/bench put in the payload image and
    whose place in the image the host looks up and polls."""

    def __init__(self, path="/dmp/bench/marks"):
        self.fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
        self.buf = mmap.mmap(-1, 4096)  # page-aligned, as O_DIRECT needs
        self.seq = itertools.count()

    def mark(self, tag):
        self.buf.seek(0)
        self.buf.write(f"{tag}\n".encode().ljust(4096, b"\0"))
        os.pwrite(self.fd, self.buf, 0)
        time.sleep(0.05)  # the host polls every few milliseconds

    def next_tag(self):
        return f"fio{next(self.seq)}"


MARKS = None
BASE = None


def base_ios(base):
    """Reads + writes completed by the base device (every case's I/O ends there)."""
    f = read(f"/sys/block/{os.path.basename(base)}/stat").split()
    return int(f[0]) + int(f[4])


def rotate(seq, r):
    r %= len(seq)
    return seq[r:] + seq[:r]


def fio_cases(a, base, emit):
    devices = ["raw", "dm-linear", "dmp", "dmp-nostats"]
    workloads = [(rw, j) for rw in ("randread", "randwrite") for j in sorted({1, NCPU})]
    for rnd in range(a.rounds):
        for rw, jobs in workloads:
            for name in rotate(devices, rnd):
                case = Case(name, base)
                dev = case.setup()
                tag = MARKS.next_tag()
                try:
                    i0 = base_ios(base)
                    MARKS.mark(tag + "b")
                    res = fio(dev, rw, jobs, a.runtime, a.ramp)
                    MARKS.mark(tag + "e")
                    res["ios_all"] = base_ios(base) - i0
                finally:
                    case.teardown()
                rec = {"kind": "fio", "round": rnd, "rw": rw, "jobs": jobs, "device": name,
                       "mark": tag, **res}
                emit(rec)
                log(f"round {rnd} {rw} jobs={jobs} {name}: {res['iops']:.0f} IOPS")


# --- head to head: the devices driven at the same time, sharing the CPUs ---------

def fio_together(devs, rw, jobs, runtime, ramp):
    """One fio run with one reporting group per device, all at once, each
    group's jobs spread over the same CPUs (1 job: all on CPU 0). fio jobs on
    null_blk with completion in the submitter's context are CPU-bound, so
    the guest's scheduler gives each the same CPU time and the IOPS ratio of
    two groups is the inverse ratio of their CPU cost per I/O; and since the
    groups run at the same moment, a busy host slows them all alike."""
    cpus = "0" if jobs == 1 else f"0-{jobs - 1}"
    lines = ["[global]", "ioengine=libaio", "direct=1", f"rw={rw}", "bs=4k", "iodepth=32",
             "time_based", f"runtime={runtime}", f"ramp_time={ramp}", "norandommap",
             "randrepeat=0", "group_reporting", f"cpus_allowed={cpus}", "cpus_allowed_policy=split"]
    for i, (name, dev) in enumerate(devs.items()):
        lines += ["", f"[{name}]", f"filename={dev}", f"numjobs={jobs}"]
        if i:
            lines.append("new_group")
    with open("/tmp/bench-together.fio", "w") as f:
        f.write("\n".join(lines) + "\n")
    out = sh("fio", "--output-format=json", "/tmp/bench-together.fio")
    part = "read" if rw == "randread" else "write"
    return {j["jobname"]: j[part]["iops"] for j in json.loads(out[out.index("{"):])["jobs"]}


def together_cases(a, base, emit):
    load_dmp(a.together_variant or None)
    size = sectors(base)
    devs = {"raw": base,
            "dm-linear": dm_create("bench-linear", f"0 {size} linear {base} 0"),
            "dmp": dm_create("bench-dmp", f"0 {size} dmp {base}")}
    workloads = [(rw, j) for rw in ("randread", "randwrite") for j in sorted({1, NCPU})]
    names = list(devs)
    try:
        for rnd in range(a.rounds):
            for i, (rw, jobs) in enumerate(rotate(workloads, rnd)):
                # The groups' order (fio starts them one after the other)
                # rotates too, so that no device always starts last.
                order = rotate(names, rnd + i)
                iops = fio_together({n: devs[n] for n in order}, rw, jobs, a.runtime, a.ramp)
                emit({"kind": "together", "round": rnd, "rw": rw, "jobs": jobs, "iops": iops,
                      "dmp_variant": a.together_variant or "shipped"})
                log(f"round {rnd} together {rw} jobs={jobs}: "
                    + ", ".join(f"{k} {v:.0f}" for k, v in iops.items()))
    finally:
        dm_remove("bench-linear", "bench-dmp")
        unload_dmp()


# --- reading `volumes` while fio runs -------------------------------------------

READER = r"""
import sys, time
path, period = sys.argv[1], float(sys.argv[2])
n = 0
print("ready", flush=True)
t0 = time.monotonic()
try:
    while True:
        with open(path, "rb") as f:
            f.read()
        n += 1
        if period > 0:
            time.sleep(period)
except KeyboardInterrupt:
    pass
print(n / (time.monotonic() - t0))
"""


def reader_cases(a, base, emit):
    """Does reading `volumes` slow dmp's I/O? fio random read on a dmp device
    and on a dm-linear device at once, both on CPU 0 (the control: the same
    host load, the same CPU), while a reader on CPU 1 reads `volumes` every
    10 ms, or flat out, or (control for the reader itself) the dm core's
    /sys/block/dm-N/stat flat out. Interference shows as dmp / dm-linear
    falling below its value without a reader. Runs while the scale part's
    devices exist, so each `volumes` read sums all of them."""
    size = sectors(base)  # the shipped dmp.ko is loaded (scale())
    devs = {"dm-linear": dm_create("bench-linear", f"0 {size} linear {base} 0"),
            "dmp": dm_create("bench-dmp", f"0 {size} dmp {base}")}
    kn = kname("bench-dmp")
    cases = [("none", None, 0), ("volumes-100Hz", f"{STAT}/volumes", 0.01),
             ("volumes-flat-out", f"{STAT}/volumes", 0), ("diskstat-flat-out", f"/sys/block/{kn}/stat", 0)]
    try:
        for rnd in range(a.rounds):
            for name, path, period in rotate(cases, rnd):
                proc = None
                if path:
                    proc = subprocess.Popen(["taskset", "-c", str(NCPU - 1), sys.executable, "-c",
                                             READER, path, str(period)], stdout=subprocess.PIPE, text=True)
                    proc.stdout.readline()  # started (Python starts slowly under TCG)
                try:
                    iops = fio_together(devs, "randread", 1, a.runtime, a.ramp)
                finally:
                    rate = None
                    if proc:
                        proc.send_signal(2)
                        rate = float(proc.communicate()[0].strip() or 0)
                emit({"kind": "reader", "round": rnd, "reader": name, "reads_per_s": rate, "iops": iops})
                log(f"round {rnd} reader {name}: dmp {iops['dmp']:.0f}, dm-linear {iops['dm-linear']:.0f} IOPS"
                    + (f", {rate:.0f} reads/s" if rate is not None else ""))
    finally:
        dm_remove("bench-linear", "bench-dmp")


# --- many devices --------------------------------------------------------------

MEMINFO_KEYS = ("MemFree", "MemAvailable", "Slab", "SReclaimable", "SUnreclaim", "Percpu",
                "KernelStack", "Shmem")


def meminfo():
    sh("sync")
    write("/proc/sys/vm/drop_caches", 3)
    time.sleep(0.5)
    out = {}
    for line in read("/proc/meminfo").splitlines():
        k, v = line.split(":", 1)
        if k in MEMINFO_KEYS:
            out[k] = int(v.split()[0])
    return out


def many(kind, base, n):
    """Creates n devices of `kind` in one dmsetup process, measures memory,
    leaves them in place; returns (names, record)."""
    names = [f"bench-{kind}-{i}" for i in range(n)]
    tgt = "dmp" if kind == "dmp" else "linear"
    arg = "" if kind == "dmp" else " 0"
    spec = ";".join(f"{nm},,,rw,0 8 {tgt} {base}{arg}" for nm in names)
    before = meminfo()
    t0 = time.monotonic()
    sh("dmsetup", "create", "--concise", spec)
    t_create = time.monotonic() - t0
    after = meminfo()
    rec = {"create_s": t_create,
           "mem_kib": {k: after[k] - before[k] for k in MEMINFO_KEYS if k in after and k in before}}
    return names, rec


def remove_many(names):
    t0 = time.monotonic()
    # One dmsetup process, in chunks to keep the command line short.
    for i in range(0, len(names), 200):
        dm_remove(*names[i:i + 200])
    return time.monotonic() - t0


def read_all_stats():
    """Reads every readable statistics file under /sys/module/dmp/stat."""
    files = [p for p in glob.glob(f"{STAT}/*/*") if not p.endswith("/reset")] + [f"{STAT}/volumes"]
    t0 = time.monotonic()
    nbytes = 0
    for p in files:
        with open(p, "rb") as f:
            nbytes += len(f.read())
    return len(files), nbytes, time.monotonic() - t0


def time_reads(path, times):
    ts = []
    for _ in range(times):
        t0 = time.monotonic()
        with open(path, "rb") as f:
            f.read()
        ts.append(time.monotonic() - t0)
    ts.sort()
    return ts[len(ts) // 2]


def scale(a, base, emit, then):
    """dm-linear first (for comparison), then dmp; with the dmp devices present
    the statistics are read and `then()` runs (the reader cases). One
    unmeasured create/remove pass of each kind first, so that neither is
    charged for growing the kernel's caches (slab, per-CPU chunks)."""
    load_dmp()
    n = a.devices
    warm = {}
    for kind in ("linear", "dmp"):
        names, warm[kind] = many(kind, base, n)
        warm[kind]["remove_s"] = remove_many(names)
    log(f"warm-up: {n} dm-linear and {n} dmp devices created and removed")
    names, lin = many("linear", base, n)
    lin["remove_s"] = remove_many(names)
    log(f"{n} dm-linear devices: create {lin['create_s']:.1f}s, remove {lin['remove_s']:.1f}s")

    names, rec = many("dmp", base, n)
    log(f"{n} dmp devices: create {rec['create_s']:.1f}s")
    nfiles, nbytes, t_all = read_all_stats()
    rec["read_all"] = {"files": nfiles, "bytes": nbytes, "seconds": t_all}
    rec["volumes_read_s"] = time_reads(f"{STAT}/volumes", 21)
    one = kname(names[0])
    rec["device_summary_read_s"] = time_reads(f"{STAT}/{one}/summary", 21)
    rec["diskstat_read_s"] = time_reads(f"/sys/block/{one}/stat", 21)
    log(f"read {nfiles} statistics files in {t_all:.2f}s; volumes {rec['volumes_read_s'] * 1e3:.2f} ms")
    try:
        then()
    finally:
        rec["remove_s"] = remove_many(names)
    log(f"{n} dmp devices: remove {rec['remove_s']:.1f}s")
    emit({"kind": "scale", "devices": n, "dm-linear": lin, "dmp": rec,
          "warmup": {"dm-linear": warm["linear"], "dmp": warm["dmp"]},
          "possible_cpus": read("/sys/devices/system/cpu/possible").strip()})
    unload_dmp()


# --- accounting microbenchmark ---------------------------------------------------------

def micro(a, emit):
    variants = ["percpu", "percpu_each", "spinlock", "atomic", "none"]
    for rnd in range(a.rounds):
        for v in rotate(variants, rnd):
            load_dmp(v)
            try:
                for cpus in sorted({1, NCPU}):
                    write(MB_RUN, f"{a.calls} {cpus}")
                    line = read(MB_RUN).split()
                    f = dict(kv.split("=", 1) for kv in line)
                    el = [int(x) for x in f["elapsed_ns"].split(",")]
                    rec = {"kind": "micro", "round": rnd, "variant": f["variant"], "cpus": int(f["cpus"]),
                           "calls": int(f["calls"]), "exact": f["exact"] == "1", "elapsed_ns": el,
                           "ns_per_call": sum(el) / len(el) / int(f["calls"])}
                    emit(rec)
                    log(f"round {rnd} micro {v} cpus={cpus}: {rec['ns_per_call']:.1f} ns/call"
                        f" (exact={rec['exact']})")
            finally:
                unload_dmp()


# --- exact: instructions, under QEMU's -icount (scripts/bench --exact) -------------
#
# The guest runs under -icount shift=S,sleep=off: its clock (the TSC, and so
# CLOCK_REALTIME/MONOTONIC) advances 2^S ns per instruction executed, by all
# vCPUs together (with icount, QEMU runs the vCPUs in turn on one thread), and
# jumps to the next timer when every vCPU is idle. A window during which some
# vCPU is always busy therefore lasts (instructions of the whole guest) x 2^S ns.

EXACT_PRE, EXACT_POST = "/dev/shm/dmp-exact-pre", "/dev/shm/dmp-exact-post"


def fio_exact(dev, rw, jobs, n):
    """fio with a fixed number of I/Os per job. The window is timed inside fio:
    each job runs exec_prerun just before its I/O loop and exec_postrun just
    after it, and each writes the clock (ns) to a file; the window is from the
    first prerun's clock to the last postrun's. fio's start-up and exit (which
    sleep, so that the idle guest's clock jumps) stay outside. Returns
    (I/Os completed by the base device, window ns)."""
    for f in (EXACT_PRE, EXACT_POST):
        if os.path.exists(f):
            os.unlink(f)
    cpus = "0" if jobs == 1 else f"0-{jobs - 1}"
    i0 = base_ios(BASE)
    sh("fio", "--name=exact", f"--filename={dev}", "--ioengine=libaio", "--direct=1",
       f"--rw={rw}", "--bs=4k", "--iodepth=32", f"--numjobs={jobs}", f"--number_ios={n}",
       "--norandommap", "--randrepeat=1", f"--cpus_allowed={cpus}", "--cpus_allowed_policy=split",
       "--group_reporting", "--output-format=json",
       # fio runs these through system() with its own redirection appended.
       f"--exec_prerun=sh -c 'date +%s%N >>{EXACT_PRE}'",
       f"--exec_postrun=sh -c 'date +%s%N >>{EXACT_POST}'", cwd="/dev/shm")
    ios = base_ios(BASE) - i0
    pre = [int(x) for x in read(EXACT_PRE).split()]
    post = [int(x) for x in read(EXACT_POST).split()]
    if len(pre) != jobs or len(post) != jobs:
        raise RuntimeError(f"fio --exec_prerun/postrun: {len(pre)}/{len(post)} clock readings for {jobs} jobs")
    return ios, max(post) - min(pre)


def exact_devices(a):
    """The four devices, or those --exact-devices names (which may add
    dmp-VARIANT: a benchmark build of dmp, e.g. dmp-percpu_batch)."""
    if a.exact_devices:
        return a.exact_devices.split(",")
    return ["raw", "dm-linear", "dmp", "dmp-nostats"]


def exact_fio(a, base, emit):
    """Instructions per I/O: two fio runs per case, SMALL and BIG I/Os per job;
    (window_big - window_small) / (ios_big - ios_small) / 2^shift cancels
    what a run costs besides its I/Os (the exec_prerun/postrun themselves,
    fio's per-job set-up inside the window)."""
    small, big = (int(x) for x in a.exact_ios.split(","))
    workloads = [(rw, j) for rw in ("randread", "randwrite") for j in sorted({1, NCPU})]
    if a.mode == "smoke":
        workloads = workloads[:1]
    fio_exact(base, "randread", 1, small)  # fio's pages in the page cache; unmeasured
    unit = 2 ** a.icount_shift
    for rnd in range(a.rounds):
        for rw, jobs in workloads:
            for name in rotate(exact_devices(a), rnd):
                case = Case(name, base)
                dev = case.setup()
                try:
                    ios_s, win_s = fio_exact(dev, rw, jobs, small)
                    ios_b, win_b = fio_exact(dev, rw, jobs, big)
                finally:
                    case.teardown()
                if ios_s != small * jobs or ios_b != big * jobs:
                    raise RuntimeError(f"{name} {rw}: the base device completed {ios_s}/{ios_b} I/Os, "
                                       f"not {small * jobs}/{big * jobs}")
                ipio = (win_b - win_s) / unit / (ios_b - ios_s)
                emit({"kind": "exact", "round": rnd, "rw": rw, "jobs": jobs, "device": name,
                      "small": {"ios": ios_s, "window_ns": win_s}, "big": {"ios": ios_b, "window_ns": win_b},
                      "instr_per_io": ipio})
                log(f"round {rnd} exact {rw} jobs={jobs} {name}: {ipio:,.1f} instructions/I/O")


def child_cpu_ns():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return round((r.ru_utime + r.ru_stime) * 1e9)


def timed(fn):
    """(result, virtual ns elapsed, CPU ns of the child processes fn waited for)."""
    c0, t0 = child_cpu_ns(), time.monotonic_ns()
    res = fn()
    return res, time.monotonic_ns() - t0, child_cpu_ns() - c0


def exact_scale(a, base, emit):
    """Creating and removing N devices, reading every statistics file, one
    `volumes` read, in instructions. dmsetup sleeps while the dm core waits
    for RCU and SRCU grace periods, and an idle guest's clock jumps, so for
    create and remove the figure is the CPU time of the dmsetup processes
    (their instructions, plus any the other vCPU executed meanwhile: ticks,
    work queued to it); the elapsed virtual time is kept for the record.
    Reads run in this process without sleeping: elapsed virtual time."""
    load_dmp()
    n = a.devices
    unit = 2 ** a.icount_shift
    for kind in ("linear", "dmp"):  # unmeasured: the kernel's caches grown
        names, _ = many(kind, base, n)
        remove_many(names)
    for rnd in range(a.scale_rounds):
        rec = {"kind": "exact-scale", "round": rnd, "devices": n}
        for kind in rotate(["linear", "dmp"], rnd):
            names = [f"bench-{kind}-{i}" for i in range(n)]
            tgt = "dmp" if kind == "dmp" else "linear"
            arg = "" if kind == "dmp" else " 0"
            spec = ";".join(f"{nm},,,rw,0 8 {tgt} {base}{arg}" for nm in names)
            _, el_c, cpu_c = timed(lambda: sh("dmsetup", "create", "--concise", spec))
            r = {"create": {"instructions": cpu_c / unit, "elapsed_ns": el_c}}
            if kind == "dmp":
                files = sorted(p for p in glob.glob(f"{STAT}/*/*") if not p.endswith("/reset"))
                # The control: the dm core's own statistics file of each device
                # (only these devices exist now).
                disk = sorted(glob.glob("/sys/block/dm-*/stat"))

                def read_files(paths):
                    nb = 0
                    for p in paths:
                        with open(p, "rb") as f:
                            nb += len(f.read())
                    return nb
                read_files(files)  # first reads create kernfs' open files' state; unmeasured
                nb, el, _ = timed(lambda: read_files(files))
                r["read_all"] = {"files": len(files), "bytes": nb, "instructions": el / unit}
                nb, el, _ = timed(lambda: read_files(disk))
                r["read_diskstat"] = {"files": len(disk), "bytes": nb, "instructions": el / unit}
                vols = []
                for _ in range(21):
                    _, el, _ = timed(lambda: read_files([f"{STAT}/volumes"]))
                    vols.append(el / unit)
                r["volumes_read"] = {"instructions": sorted(vols)[len(vols) // 2], "all": vols}
            _, el_r, cpu_r = timed(lambda: remove_many(names))
            r["remove"] = {"instructions": cpu_r / unit, "elapsed_ns": el_r}
            rec["dmp" if kind == "dmp" else "dm-linear"] = r
        emit(rec)
        d, l = rec["dmp"], rec["dm-linear"]
        log(f"round {rnd} exact scale {n}: create dmp {d['create']['instructions'] / 1e6:.1f} M, "
            f"dm-linear {l['create']['instructions'] / 1e6:.1f} M instructions; remove dmp "
            f"{d['remove']['instructions'] / 1e6:.1f} M, dm-linear {l['remove']['instructions'] / 1e6:.1f} M; "
            f"volumes {d['volumes_read']['instructions'] / 1e3:.0f} k")
    unload_dmp()


def exact_quiet():
    """Less background work during the windows: no periodic writeback."""
    write("/proc/sys/vm/dirty_writeback_centisecs", 0)
    sh("sync")


# --- main -----------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runtime", type=int, default=10)
    ap.add_argument("--ramp", type=int, default=2)
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--calls", type=int, default=1000000)
    ap.add_argument("--mode", default="full")
    ap.add_argument("--only", default="", help="comma-separated step names (prefixes) to run")
    ap.add_argument("--together-variant", default="",
                    help="benchmark build of dmp.ko for the head-to-head step (e.g. none)")
    ap.add_argument("--icount-shift", type=int, default=None,
                    help="the guest runs under -icount shift=N,sleep=off: run the exact steps")
    ap.add_argument("--exact-ios", default="5000,55000", help="I/Os per job of the SMALL,BIG fio runs")
    ap.add_argument("--exact-devices", default="", help="comma-separated subset of the devices")
    ap.add_argument("--scale-rounds", type=int, default=2)
    a = ap.parse_args()

    records = []
    started = time.monotonic()

    def emit(rec):
        records.append(rec)

    meta = {"kernel": platform.release(), "cpus": NCPU,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "mode": a.mode, "rounds": a.rounds, "runtime_s": a.runtime, "ramp_s": a.ramp,
            "devices": a.devices, "calls": a.calls,
            "fio": sh("fio", "--version").strip(),
            "cpu_model": next((l.split(":", 1)[1].strip() for l in read("/proc/cpuinfo").splitlines()
                               if l.startswith("model name")), "?")}
    log(f"kernel {meta['kernel']}, {NCPU} CPUs, {a.rounds} rounds, {a.runtime}s per case")
    global MARKS, BASE
    MARKS = Marks()
    unload_dmp()
    base = BASE = nullb_create()
    exact = a.icount_shift is not None
    if exact:
        meta.update(icount_shift=a.icount_shift, exact_ios=a.exact_ios, scale_rounds=a.scale_rounds,
                    clocksource=read("/sys/devices/system/clocksource/clocksource0/current_clocksource").strip(),
                    tsc_calibration=[l.split("] ", 1)[-1] for l in sh("dmesg").splitlines() if "tsc:" in l])
        exact_quiet()
    meta["base_device"] = {"path": base, **{k: read(f"{NULLB}/{k}").strip() for k in
                           ("size", "memory_backed", "irqmode", "submit_queues", "hw_queue_depth",
                            "queue_mode", "blocksize", "completion_nsec")}}
    failed = None
    try:
        steps = [("microbenchmark", lambda: micro(a, emit)),
                 ("fio", lambda: fio_cases(a, base, emit)),
                 ("head-to-head", lambda: together_cases(a, base, emit)),
                 ("scale", lambda: scale(a, base, emit, lambda: reader_cases(a, base, emit)))]
        if exact:
            steps = [("exact-fio", lambda: exact_fio(a, base, emit)),
                     ("exact-scale", lambda: exact_scale(a, base, emit))]
        for name, step in steps:
            if a.only and not any(name.startswith(o) for o in a.only.split(",")):
                continue
            log(f"--- {name}")
            step()
    except Exception as e:  # report what ran; the host says the run failed
        failed = f"{type(e).__name__}: {e}"
        log(f"FAILED: {failed}")
    finally:
        sh("dmsetup", "remove_all", check=False)
        unload_dmp()
        nullb_remove()
    meta["guest_seconds"] = round(time.monotonic() - started)
    print("=== dmp-bench: json begin")
    print(json.dumps({"meta": meta}))
    for r in records:
        print(json.dumps(r))
    print("=== dmp-bench: json end", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
