#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Renders the guest's benchmark records (JSON lines from bench/guest/bench.py)
into results.md and results.json (summary plus every raw record).

    bench/render.py RAW.jsonl --md results.md --json results.json [--host-seconds S] [--notes FILE]

The closing notes (the analysis, written by hand after a full run) come from
bench/notes.md; everything else is computed from the records.
"""

import argparse
import json
import statistics
import sys

GOAL = 0.98
MIN_IOPS = 1000
DEVICES = ["raw", "dm-linear", "dmp", "dmp-nostats"]
VARIANTS = ["percpu", "percpu-each", "spinlock", "atomic", "none"]


# src/stats/src/stats.rs NR_SLOTS: 7 counters + 2 histograms of 13 buckets.
NR_SLOTS = 33


def possible_cpus(text):
    """Number of CPUs in a cpulist such as `0-1` or `0,2-3`."""
    n = 0
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def med(xs):
    return statistics.median(xs) if xs else None


def spread(xs):
    """(max - min) / median, as a fraction."""
    m = med(xs)
    return (max(xs) - min(xs)) / m if xs and m else None


def pct(x, digits=1):
    return "–" if x is None else f"{x * 100:.{digits}f}%"


def num(x, digits=0):
    return "–" if x is None else f"{x:,.{digits}f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def summarise(meta, recs):
    s = {"meta": meta, "goal": {"dmp_over_linear_min": GOAL}}

    fio = [r for r in recs if r["kind"] == "fio"]
    workloads = sorted({(r["rw"], r["jobs"]) for r in fio}, key=lambda w: (w[0], w[1]))
    cases = []
    for rw, jobs in workloads:
        by = {d: [r for r in fio if r["rw"] == rw and r["jobs"] == jobs and r["device"] == d]
              for d in DEVICES}
        iops = {d: [r["iops"] for r in by[d]] for d in DEVICES}
        m = {d: med(iops[d]) for d in DEVICES}
        cpu = {d: [r["ios_per_cpu_s"] for r in by[d] if "ios_per_cpu_s" in r] for d in DEVICES}
        mc = {d: med(cpu[d]) for d in DEVICES}
        # Per-round ratios: the two devices ran back to back in the same round.
        paired = []
        for rnd in sorted({r["round"] for r in by["dmp"]}):
            a = [r["iops"] for r in by["dmp"] if r["round"] == rnd]
            b = [r["iops"] for r in by["dm-linear"] if r["round"] == rnd]
            if a and b and b[0]:
                paired.append(a[0] / b[0])
        cases.append({
            "rw": rw, "jobs": jobs,
            "iops": {d: {"median": m[d], "min": min(iops[d]) if iops[d] else None,
                         "max": max(iops[d]) if iops[d] else None, "spread": spread(iops[d]),
                         "rounds": iops[d]} for d in DEVICES},
            "dmp_over_linear": ratio(m["dmp"], m["dm-linear"]),
            "dmp_over_linear_paired": {"median": med(paired), "min": min(paired) if paired else None,
                                       "max": max(paired) if paired else None},
            "linear_over_raw": ratio(m["dm-linear"], m["raw"]),
            "nostats_over_linear": ratio(m["dmp-nostats"], m["dm-linear"]),
            "dmp_over_nostats": ratio(m["dmp"], m["dmp-nostats"]),
            "ns_per_io_per_job_dmp": (1e9 * jobs / m["dmp"]) if m["dmp"] else None,
            "ios_per_host_cpu_s": {d: {"median": mc[d], "spread": spread(cpu[d]), "rounds": cpu[d]}
                                   for d in DEVICES},
            "cpu_dmp_over_linear": ratio(mc["dmp"], mc["dm-linear"]),
            "cpu_linear_over_raw": ratio(mc["dm-linear"], mc["raw"]),
            "cpu_dmp_over_nostats": ratio(mc["dmp"], mc["dmp-nostats"]),
        })
    s["fio"] = cases
    ok = [c["dmp_over_linear"] for c in cases if c["dmp_over_linear"] is not None]
    s["goal"]["met"] = bool(ok) and all(x >= GOAL for x in ok)
    s["goal"]["worst"] = min(ok) if ok else None
    okc = [c["cpu_dmp_over_linear"] for c in cases if c["cpu_dmp_over_linear"] is not None]
    s["goal"]["cpu_met"] = bool(okc) and all(x >= GOAL for x in okc)
    s["goal"]["cpu_worst"] = min(okc) if okc else None

    micro = [r for r in recs if r["kind"] == "micro"]
    mc = []
    for v in VARIANTS:
        for cpus in sorted({r["cpus"] for r in micro}):
            xs = [r["ns_per_call"] for r in micro if r["variant"] == v and r["cpus"] == cpus]
            if not xs:
                continue
            mc.append({"variant": v, "cpus": cpus, "ns_per_call": {"median": med(xs), "min": min(xs),
                                                                   "max": max(xs), "spread": spread(xs),
                                                                   "rounds": xs},
                       "calls_per_cpu": micro[0]["calls"],
                       "exact": all(r["exact"] for r in micro if r["variant"] == v and r["cpus"] == cpus)})
    s["micro"] = mc

    # A round in which the guest barely ran (the host stalled it: a few I/Os
    # in total) says nothing about a ratio; it is kept in the records only.
    valid = lambda r: min(r["iops"].values()) >= MIN_IOPS
    s["stalled_rounds"] = sum(1 for r in recs if r["kind"] in ("together", "reader") and not valid(r))
    tg = [r for r in recs if r["kind"] == "together" and valid(r)]
    together = []
    for rw, jobs in sorted({(r["rw"], r["jobs"]) for r in tg}):
        rs = [r["iops"] for r in tg if r["rw"] == rw and r["jobs"] == jobs]
        pair = lambda a, b: [x[a] / x[b] for x in rs if x.get(a) and x.get(b)]
        dl, lr = pair("dmp", "dm-linear"), pair("dm-linear", "raw")
        together.append({"rw": rw, "jobs": jobs,
                         "iops": {d: med([x[d] for x in rs if d in x]) for d in ("raw", "dm-linear", "dmp")},
                         "dmp_over_linear": {"median": med(dl), "min": min(dl, default=None),
                                             "max": max(dl, default=None), "rounds": dl},
                         "linear_over_raw": {"median": med(lr), "min": min(lr, default=None),
                                             "max": max(lr, default=None), "rounds": lr}})
    s["together"] = together
    okt = [c["dmp_over_linear"]["median"] for c in together if c["dmp_over_linear"]["median"] is not None]
    s["goal"]["together_met"] = bool(okt) and all(x >= GOAL for x in okt)
    s["goal"]["together_worst"] = min(okt) if okt else None

    rd = [r for r in recs if r["kind"] == "reader" and valid(r)]
    readers = []
    base = med([r["iops"]["dmp"] / r["iops"]["dm-linear"] for r in rd if r["reader"] == "none"])
    for name in ["none", "volumes-100Hz", "volumes-flat-out", "diskstat-flat-out"]:
        rr = [r for r in rd if r["reader"] == name]
        if not rr:
            continue
        rel = [r["iops"]["dmp"] / r["iops"]["dm-linear"] for r in rr]
        rates = [r["reads_per_s"] for r in rr if r["reads_per_s"] is not None]
        readers.append({"reader": name, "dmp_iops": med([r["iops"]["dmp"] for r in rr]),
                        "linear_iops": med([r["iops"]["dm-linear"] for r in rr]),
                        "dmp_over_linear": {"median": med(rel), "min": min(rel), "max": max(rel), "rounds": rel},
                        "vs_no_reader": ratio(med(rel), base), "reads_per_s": med(rates)})
    s["reader"] = readers

    sc = [r for r in recs if r["kind"] == "scale"]
    s["scale"] = sc[0] if sc else None
    return s


def render_md(s, host_seconds):
    m = s["meta"]
    L = []
    w = L.append
    w("# dmp benchmark results")
    w("")
    w(f"Kernel {m['kernel']}, {m['cpus']} guest CPUs (QEMU TCG, `{m['cpu_model']}`), {m['date']}; "
      f"{m['rounds']} rounds, fio {m['runtime_s']} s per case after {m['ramp_s']} s ramp; "
      f"{m['fio']}; mode `{m['mode']}`; guest time {m['guest_seconds']} s"
      + (f", whole run {host_seconds} s." if host_seconds else "."))
    w("")
    w("**Under TCG (no KVM) every figure is the speed of an emulated CPU: only the ratios between "
      "cases mean anything, not the absolute IOPS or nanoseconds.** The host's other work (and "
      "TCG's own jitter) moves clock-time figures, so the cases are interleaved and rotated in every round; the spread "
      "((max − min) / median over the rounds) shows the drift.")
    w("")
    b = m.get("base_device", {})
    w(f"Base device: null_blk `{b.get('path')}` without memory backing (`memory_backed={b.get('memory_backed')}`, "
      f"`irqmode={b.get('irqmode')}` i.e. completed in the submitter's context, `submit_queues={b.get('submit_queues')}`, "
      f"`hw_queue_depth={b.get('hw_queue_depth')}`, {b.get('size')} MiB). fio: `--ioengine=libaio --direct=1 "
      "--bs=4k --iodepth=32 --norandommap`, `--numjobs` 1 and one per CPU. `dmp-nostats` is dmp built from "
      "the same source with `DMP_ACCOUNTING=none` (no statistics): what the target costs without them. "
      "7.x dm-linear sets `flush_bypasses_map` and dmp does not (so that every flush is counted); "
      "random reads and writes carry no flushes, so that difference plays no part here.")
    w("")

    w("## fio: IOPS, median over rounds (spread)")
    w("")
    w("| workload | jobs | raw | dm-linear | dmp | dmp-nostats | dmp / dm-linear | (per round) | dm-linear / raw | dmp / dmp-nostats |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for c in s["fio"]:
        cell = {d: f"{num(c['iops'][d]['median'])} ({pct(c['iops'][d]['spread'])})" for d in DEVICES}
        p = c["dmp_over_linear_paired"]
        pr = "–" if p["median"] is None else f"{p['median']:.3f} [{p['min']:.3f}–{p['max']:.3f}]"
        w(f"| {c['rw']} | {c['jobs']} | {cell['raw']} | {cell['dm-linear']} | {cell['dmp']} | {cell['dmp-nostats']} "
          f"| **{num(c['dmp_over_linear'], 3)}** | {pr} | {num(c['linear_over_raw'], 3)} | {num(c['dmp_over_nostats'], 3)} |")
    w("")
    g = s["goal"]
    # A smoke run (one short round) only shows that the benchmark works.
    smoke = s["meta"].get("mode") == "smoke"
    verdict = lambda met: "not judged (smoke run)" if smoke else ("met" if met else "not met")
    w(f"Goal dmp / dm-linear ≥ {GOAL} (ratio of medians) in every case: "
      f"**{verdict(g['met'])}** (lowest {num(g['worst'], 3)}). "
      "\"Per round\" is the median [min–max] of dmp / dm-linear taken within each round, where the two ran back to back.")
    w("")
    if any(c["cpu_dmp_over_linear"] is not None for c in s["fio"]):
        w("## fio: I/Os per host CPU-second (the load-independent view)")
        w("")
        w("The same runs, measured as I/Os completed (fio's ramp included, counted on the base device) per "
          "second of CPU time the host spent in the QEMU process (every thread) between the run's start and "
          "end marks. A busy host slows the guest's clock-time speed but changes far less what one I/O costs "
          "in host CPU, so these ratios are the steadier ones; median over rounds (spread).")
        w("")
        w("| workload | jobs | raw | dm-linear | dmp | dmp-nostats | dmp / dm-linear | dm-linear / raw | dmp / dmp-nostats |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for c in s["fio"]:
            x = c["ios_per_host_cpu_s"]
            cell = {d: f"{num(x[d]['median'])} ({pct(x[d]['spread'])})" for d in DEVICES}
            w(f"| {c['rw']} | {c['jobs']} | {cell['raw']} | {cell['dm-linear']} | {cell['dmp']} | {cell['dmp-nostats']} "
              f"| **{num(c['cpu_dmp_over_linear'], 3)}** | {num(c['cpu_linear_over_raw'], 3)} | {num(c['cpu_dmp_over_nostats'], 3)} |")
        w("")
        w(f"Goal dmp / dm-linear ≥ {GOAL} in every case, on this measure: "
          f"**{verdict(g.get('cpu_met'))}** (lowest {num(g.get('cpu_worst'), 3)}).")
        w("")

    if s["together"]:
        w("## fio head to head: raw, dm-linear and dmp at the same time")
        w("")
        w("One fio run per workload and round with one job group per device, all groups on the same CPUs "
          "(1 job: all three on CPU 0; 2 jobs: one job of each group per CPU). The jobs are CPU-bound "
          "(null_blk completes in the submitter's context), the guest's scheduler shares the CPU time equally, "
          "so a ratio of IOPS is the inverse ratio of CPU cost per I/O — and as the devices run at the same "
          "moment, the host's load slows them alike. Ratios: median [min–max] over rounds.")
        w("")
        w("| workload | jobs | raw IOPS | dm-linear IOPS | dmp IOPS | dmp / dm-linear | dm-linear / raw |")
        w("|---|---:|---:|---:|---:|---:|---:|")
        rng = lambda x: "–" if x["median"] is None else f"**{x['median']:.3f}** [{x['min']:.3f}–{x['max']:.3f}]"
        for c in s["together"]:
            w(f"| {c['rw']} | {c['jobs']} | {num(c['iops']['raw'])} | {num(c['iops']['dm-linear'])} | "
              f"{num(c['iops']['dmp'])} | {rng(c['dmp_over_linear'])} | {rng(c['linear_over_raw'])} |")
        w("")
        if s.get("stalled_rounds"):
            w(f"{s['stalled_rounds']} head-to-head run(s) (here or in the reader table) were left out: a group "
              f"made fewer than {MIN_IOPS} IOPS, i.e. the host had stalled the guest.")
            w("")
        w(f"Goal dmp / dm-linear ≥ {GOAL} in every case, head to head: "
          f"**{verdict(g.get('together_met'))}** (lowest median {num(g.get('together_worst'), 3)}).")
        w("")

    if s["micro"]:
        w("## Accounting path: nanoseconds per accounted bio")
        w("")
        w(f"`PerCpuSlots::add(&account(..))` (what `map` does for every bio through `StatsRef::add`: 2 counter "
          f"increments and a flush slot's +0 for a 4 KiB read or write, in one C call) on one device's counters, {s['micro'][0]['calls_per_cpu']:,} calls "
          "per CPU, all participating CPUs started together; median over rounds (min–max). "
          "`percpu` is dmp's design (per-CPU counters, a bio's three `this_cpu_add` in one out-of-line C "
          "helper call); `percpu-each` the same counters with one C call per increment (dmp before issue 13); `spinlock` "
          "(one global spinlock around shared counters) and `atomic` (shared counters, one atomic add each) "
          "are the same source built with `DMP_ACCOUNTING=spinlock|atomic`, for comparison only; `none` is "
          "the loop without counters (the floor: the update is still computed, through `black_box`). The calls run in `on_each_cpu` callbacks (interrupts off) in chunks of "
          "50,000; a vCPU that the busy host deschedules meanwhile inflates a round, so the minimum is the "
          "least disturbed figure.")
        w("")
        cpus = sorted({r["cpus"] for r in s["micro"]})
        w("| design | " + " | ".join(f"{c} CPU{'s' if c > 1 else ''}: ns/call" for c in cpus)
          + f" | × vs percpu at {cpus[-1]} CPUs | counts exact |")
        w("|---|" + "---:|" * len(cpus) + "---:|---|")
        ref = {r["cpus"]: r["ns_per_call"]["median"] for r in s["micro"] if r["variant"] == "percpu"}
        for v in VARIANTS:
            rows = {r["cpus"]: r for r in s["micro"] if r["variant"] == v}
            if not rows:
                continue
            cells = []
            for c in cpus:
                r = rows.get(c)
                cells.append("–" if not r else f"{r['ns_per_call']['median']:.1f} ({r['ns_per_call']['min']:.1f}–{r['ns_per_call']['max']:.1f})")
            last = rows.get(cpus[-1])
            x = ratio(last["ns_per_call"]["median"], ref.get(cpus[-1])) if last else None
            exact = all(r["exact"] for r in rows.values()) if v != "none" else "n/a (no counters)"
            w(f"| {v} | " + " | ".join(cells) + f" | {num(x, 2)} | {exact} |")
        w("")

    sc = s["scale"]
    if sc:
        n = sc["devices"]
        lin, d = sc["dm-linear"], sc["dmp"]
        w(f"## Many devices ({n})")
        w("")
        w("Devices (8 sectors each, over the null_blk device) are created by one `dmsetup create --concise` and "
          "removed by `dmsetup remove` with 200 names per call, so that process start-up (slow under TCG) does "
          "not hide the kernel's work. A first create/remove pass of each kind (dm-linear, then dmp) comes "
          "before the measured one, so that neither is charged for growing the kernel's caches; memory is the "
          "/proc/meminfo delta after `drop_caches`, divided by the number of devices. Per-CPU memory shows only "
          "on the first pass (the allocator keeps populated chunks), where dm-linear's pass also pays for the "
          "dm core's share, so dmp's own per-CPU counters are also given as computed.")
        w("")
        w("| | dm-linear | dmp | dmp / dm-linear |")
        w("|---|---:|---:|---:|")
        w(f"| create {n} devices | {lin['create_s']:.2f} s | {d['create_s']:.2f} s | {num(ratio(d['create_s'], lin['create_s']), 2)} |")
        w(f"| remove {n} devices | {lin['remove_s']:.2f} s | {d['remove_s']:.2f} s | {num(ratio(d['remove_s'], lin['remove_s']), 2)} |")
        w(f"| per device: create + remove | {(lin['create_s'] + lin['remove_s']) / n * 1e3:.1f} ms | "
          f"{(d['create_s'] + d['remove_s']) / n * 1e3:.1f} ms | |")
        for k in ("Slab", "SUnreclaim"):
            if k in d["mem_kib"] and k in lin["mem_kib"]:
                a, bb = lin["mem_kib"][k] / n, d["mem_kib"][k] / n
                w(f"| kernel memory per device, {k} (meminfo delta) | {a:.2f} KiB | {bb:.2f} KiB | dmp adds {bb - a:.2f} KiB |")
        wu = sc.get("warmup")
        if wu and "Percpu" in wu["dmp"]["mem_kib"]:
            a, bb = wu["dm-linear"]["mem_kib"]["Percpu"] / n, wu["dmp"]["mem_kib"]["Percpu"] / n
            w(f"| per-CPU memory per device, first pass (meminfo Percpu delta) | {a:.2f} KiB | {bb:.2f} KiB | |")
        ncpu = possible_cpus(sc.get("possible_cpus", ""))
        if ncpu:
            w(f"| dmp's own per-CPU counters per device ({NR_SLOTS} × 8 B × {ncpu} possible CPUs) | | "
              f"{NR_SLOTS * 8 * ncpu / 1024:.2f} KiB | |")
        ra = d["read_all"]
        w("")
        w(f"With {n} dmp devices present: reading every statistics file ({ra['files']:,} files, "
          f"{ra['bytes']:,} bytes) took {ra['seconds']:.2f} s ({ra['seconds'] / ra['files'] * 1e6:.0f} µs per file, "
          "one Python process); one read of `volumes` (sums every device's per-CPU counters under dmp's data mutex) "
          f"{d['volumes_read_s'] * 1e3:.2f} ms, of one device's `summary` {d['device_summary_read_s'] * 1e3:.3f} ms, "
          f"of the dm core's `/sys/block/dm-N/stat` {d['diskstat_read_s'] * 1e3:.3f} ms (medians of 21).")
        w("")

    if s["reader"]:
        w("## Reading `volumes` while fio runs")
        w("")
        w(f"fio random read, 1 job each, on a dmp and a dm-linear device at once, both on CPU 0, while the "
          f"{sc['devices'] if sc else '?'} devices above exist (so each `volumes` read sums all of them); the "
          "reader (a Python loop: open, read, close) runs on the other CPU. dm-linear is the control: if reading "
          "`volumes` slowed dmp's I/O path (a lock, a shared cache line), dmp / dm-linear would fall below its "
          "value without a reader.")
        w("")
        w("| reader | dmp IOPS | dm-linear IOPS | dmp / dm-linear, median [min–max] | vs no reader | reads/s |")
        w("|---|---:|---:|---:|---:|---:|")
        for r in s["reader"]:
            x = r["dmp_over_linear"]
            w(f"| {r['reader']} | {num(r['dmp_iops'])} | {num(r['linear_iops'])} | "
              f"{x['median']:.3f} [{x['min']:.3f}–{x['max']:.3f}] | {num(r['vs_no_reader'], 3)} | {num(r['reads_per_s'])} |")
        w("")
    return "\n".join(L) + "\n"


# --- the instruction-exact runs (scripts/bench --exact) --------------------------

EXACT_GOAL = 0.99        # dm-linear's instructions / dmp's, in every case
STATS_GOAL = 0.01        # (dmp - dmp-nostats) / dmp, in every case
AGREE_GOAL = 0.005       # two runs' medians, every figure
SCALE_GOAL = 1.2         # dmp / dm-linear, creating devices
# The hardware estimate: an assumption, stated in the table's text.
HW_IPC, HW_GHZ = 1.0, 3.0


def load_exact(path):
    lines = [json.loads(l) for l in open(path) if l.strip().startswith("{")]
    meta = next((l["meta"] for l in lines if "meta" in l), {})
    return {"path": path, "meta": meta, "recs": [l for l in lines if "kind" in l]}


def summarise_exact(runs):
    """Medians per (workload, jobs, device) in each run, their agreement, the
    differences and the goals."""
    out = {"runs": [], "cases": [], "scale": []}
    for run in runs:
        m = run["meta"]
        out["runs"].append({"path": run["path"], "date": m.get("date"), "kernel": m.get("kernel"),
                            "icount_shift": m.get("icount_shift"), "exact_ios": m.get("exact_ios"),
                            "rounds": m.get("rounds"), "guest_seconds": m.get("guest_seconds"),
                            "host": m.get("host", {}), "mode": m.get("mode")})
    keys = []
    for run in runs:
        for r in run["recs"]:
            if r["kind"] == "exact" and (r["rw"], r["jobs"]) not in keys:
                keys.append((r["rw"], r["jobs"]))
    keys.sort()
    # Benchmark builds of dmp beyond the four devices (--exact-devices dmp-VARIANT).
    extra = []
    for run in runs:
        for r in run["recs"]:
            if r["kind"] == "exact" and r["device"] not in DEVICES + extra:
                extra.append(r["device"])
    out["extra_devices"] = extra
    for rw, jobs in keys:
        case = {"rw": rw, "jobs": jobs, "devices": {}}
        for d in DEVICES + extra:
            per_run = []
            for run in runs:
                xs = [r["instr_per_io"] for r in run["recs"]
                      if r["kind"] == "exact" and r["rw"] == rw and r["jobs"] == jobs and r["device"] == d]
                per_run.append({"median": med(xs), "spread": spread(xs), "rounds": xs})
            ms = [p["median"] for p in per_run if p["median"] is not None]
            agree = (max(ms) - min(ms)) / min(ms) if len(ms) > 1 else None
            case["devices"][d] = {"runs": per_run, "mean": sum(ms) / len(ms) if ms else None,
                                  "disagreement": agree}
        v = {d: case["devices"][d]["mean"] for d in DEVICES}
        sub = lambda a, b: v[a] - v[b] if v[a] is not None and v[b] is not None else None
        case["linear_minus_raw"] = sub("dm-linear", "raw")
        case["dmp_minus_linear"] = sub("dmp", "dm-linear")
        case["dmp_minus_nostats"] = sub("dmp", "dmp-nostats")
        case["nostats_minus_linear"] = sub("dmp-nostats", "dm-linear")
        case["dmp_over_linear"] = ratio(v["dm-linear"], v["dmp"])  # in I/Os per instruction
        case["stats_share"] = ratio(case["dmp_minus_nostats"], v["dmp"])
        # Per run too: the goal must hold in each.
        case["dmp_over_linear_runs"] = [ratio(case["devices"]["dm-linear"]["runs"][i]["median"],
                                              case["devices"]["dmp"]["runs"][i]["median"]) for i in range(len(runs))]
        out["cases"].append(case)
    dis = [c["devices"][d]["disagreement"] for c in out["cases"] for d in c["devices"]
           if c["devices"][d]["disagreement"] is not None]
    out["max_disagreement"] = max(dis) if dis else None
    ol = [x for c in out["cases"] for x in c["dmp_over_linear_runs"] if x is not None]
    sh = [c["stats_share"] for c in out["cases"] if c["stats_share"] is not None]
    out["goals"] = {"dmp_over_linear_worst": min(ol) if ol else None,
                    "dmp_over_linear_met": bool(ol) and min(ol) >= EXACT_GOAL,
                    "stats_share_worst": max(sh) if sh else None,
                    "stats_met": bool(sh) and max(sh) <= STATS_GOAL,
                    "agree_met": len(runs) > 1 and out["max_disagreement"] is not None
                    and out["max_disagreement"] <= AGREE_GOAL}
    for run in runs:
        sc = [r for r in run["recs"] if r["kind"] == "exact-scale"]
        if not sc:
            out["scale"].append(None)
            continue
        def mm(kind, *path):
            xs = []
            for r in sc:
                x = r[kind]
                for p in path:
                    x = x[p]
                xs.append(x)
            return {"median": med(xs), "spread": spread(xs), "rounds": xs}
        out["scale"].append({
            "devices": sc[0]["devices"], "rounds": len(sc),
            "create": {k: mm(k, "create", "instructions") for k in ("dm-linear", "dmp")},
            "remove": {k: mm(k, "remove", "instructions") for k in ("dm-linear", "dmp")},
            "create_elapsed_ns": {k: mm(k, "create", "elapsed_ns") for k in ("dm-linear", "dmp")},
            "remove_elapsed_ns": {k: mm(k, "remove", "elapsed_ns") for k in ("dm-linear", "dmp")},
            "read_all": mm("dmp", "read_all", "instructions"),
            "read_all_files": sc[0]["dmp"]["read_all"]["files"],
            "read_diskstat": mm("dmp", "read_diskstat", "instructions"),
            "read_diskstat_files": sc[0]["dmp"]["read_diskstat"]["files"],
            "volumes_read": mm("dmp", "volumes_read", "instructions")})
    return out


def render_exact(x):
    L = []
    w = L.append
    runs = x["runs"]
    names = [chr(ord("A") + i) for i in range(len(runs))]
    w("## Instruction-exact: instructions per I/O (`scripts/bench --exact`)")
    w("")
    w("**This method judges the goals; the clock-time tables above are kept for the record.** The guest runs "
      "under QEMU's `-icount shift=S,sleep=off`: its clock advances 2^S ns per instruction executed (the TSC "
      "reads QEMU's virtual clock, so CLOCK_REALTIME counts instructions), and with icount QEMU runs the vCPUs "
      "in turn on one host thread, so the clock advances with the instructions of **all vCPUs together**. "
      "Each case runs fio twice with a fixed number of I/Os per job (`--number_ios`, SMALL then BIG), the "
      "window timed inside fio (each job's `exec_prerun` / `exec_postrun` write the clock just before / after "
      "its I/O loop; fio's start-up and exit, which sleep, stay outside); instructions per I/O = (window_BIG − "
      "window_SMALL) / 2^S / (I/Os_BIG − I/Os_SMALL), the I/Os counted on the null_blk device. In the window some "
      "vCPU is always busy (null_blk completes in the submitter's context, `irqmode=0`), so the clock never jumps. "
      "**Jobs = 2** (one per CPU, pinned, `cpus_allowed_policy=split`): the figure is the instructions of both "
      "vCPUs per I/O, i.e. CPU cost per I/O as with 1 job, not a measure of parallel speed (TCG with icount "
      "runs no two vCPUs at once). Guest kernel settings: periodic 250 Hz tick on both CPUs (the test bed's "
      "kernel, unchanged), no periodic writeback (`vm.dirty_writeback_centisecs=0`), fio with a fixed random "
      "seed (`--randrepeat=1`); what remains of background work (ticks, the idle vCPU's wake-ups) is in every "
      "figure and is the same for every device. Instructions are the emulated x86 instructions, not cycles: "
      "cache misses, branch mispredictions and contention between real cores are not seen.")
    w("")
    w("| run | date | kernel | shift | I/Os per job (SMALL,BIG) | rounds | host wall time | host at the run's end |")
    w("|---|---|---|---:|---|---:|---:|---|")
    for n, r in zip(names, runs):
        h = r.get("host") or {}
        load = h.get("uptime", "").split("load average:")[-1].strip() if h.get("uptime") else "–"
        w(f"| {n} | {r['date']} | {r['kernel']} | {r['icount_shift']} | {r['exact_ios']} | {r['rounds']} | "
          f"{h.get('wall_s', '–')} s | load average {load} |")
    w("")
    for n, r in zip(names, runs):
        bp = (r.get("host") or {}).get("busy_processes") or []
        if bp:
            w(f"Run {n}, the host's busiest processes at its end (elapsed s, %CPU, command): "
              + "; ".join(f"`{p.strip()[:110]}`" for p in bp[:5]) + ".")
            w("")
    w("### Instructions per I/O, each run: median over rounds (spread)")
    w("")
    w("| workload | jobs | device | " + " | ".join(f"run {n}" for n in names) + " | runs disagree by |")
    w("|---|---:|---|" + "---:|" * len(names) + "---:|")
    for c in x["cases"]:
        for d in DEVICES + x.get("extra_devices", []):
            e = c["devices"][d]
            if e["mean"] is None:
                continue
            cells = [("–" if p["median"] is None else f"{p['median']:,.1f} ({pct(p['spread'], 2)})") for p in e["runs"]]
            w(f"| {c['rw']} | {c['jobs']} | {d} | " + " | ".join(cells) + f" | {pct(e['disagreement'], 3)} |")
    w("")
    g = x["goals"]
    if len(runs) > 1:
        w(f"Largest disagreement between the runs: **{pct(x['max_disagreement'], 3)}** "
          f"(required: within {AGREE_GOAL * 100:.1f} %, every figure): **{'met' if g['agree_met'] else 'not met'}**.")
    else:
        w("One run only: agreement between two runs not shown.")
    w("")
    w("### Differences and goals (mean of the runs' medians)")
    w("")
    w("| workload | jobs | raw | dm-linear | dmp | dmp-nostats | dm-linear − raw | dmp − dm-linear | "
      "dmp-nostats − dm-linear | dmp − dmp-nostats | dmp / dm-linear (I/Os per instruction; per run) | statistics' share of a dmp I/O |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    f1 = lambda v: "–" if v is None else f"{v:,.1f}"
    fs = lambda v: "–" if v is None else f"{v:+,.1f}"
    for c in x["cases"]:
        v = {d: c["devices"][d]["mean"] for d in DEVICES}
        pr = ", ".join("–" if r is None else f"{r:.4f}" for r in c["dmp_over_linear_runs"])
        w(f"| {c['rw']} | {c['jobs']} | {f1(v['raw'])} | {f1(v['dm-linear'])} | {f1(v['dmp'])} | {f1(v['dmp-nostats'])} "
          f"| {fs(c['linear_minus_raw'])} | {fs(c['dmp_minus_linear'])} | {fs(c['nostats_minus_linear'])} "
          f"| {fs(c['dmp_minus_nostats'])} | **{num(c['dmp_over_linear'], 4)}** ({pr}) | {pct(c['stats_share'], 2)} |")
    w("")
    smoke = any(r.get("mode") == "smoke" for r in runs)
    verdict = lambda met: "not judged (smoke run)" if smoke else ("met" if met else "not met")
    w(f"Goal dmp / dm-linear ≥ {EXACT_GOAL} in instructions per I/O, every case and run: "
      f"**{verdict(g['dmp_over_linear_met'])}** (lowest {num(g['dmp_over_linear_worst'], 4)}). "
      f"Goal: the statistics cost ≤ {STATS_GOAL * 100:.0f} % of an I/O ((dmp − dmp-nostats) / dmp): "
      f"**{verdict(g['stats_met'])}** (highest {pct(g['stats_share_worst'], 2)}).")
    w("")
    ex = [d for d in x.get("extra_devices", []) if any(c["devices"][d]["mean"] is not None for c in x["cases"])]
    if ex:
        w("Other benchmark builds of dmp (same source, `DMP_ACCOUNTING=VARIANT`, with `DMP_MICROBENCH=y`), "
          "instructions per I/O and the difference to dmp-nostats, i.e. what that design of the statistics costs:")
        w("")
        w("| workload | jobs | " + " | ".join(ex) + " | " + " | ".join(f"{d} − dmp-nostats" for d in ex) + " |")
        w("|---|---:|" + "---:|" * (2 * len(ex)))
        for c in x["cases"]:
            base = c["devices"]["dmp-nostats"]["mean"]
            vals = [c["devices"][d]["mean"] for d in ex]
            w(f"| {c['rw']} | {c['jobs']} | " + " | ".join(f1(v) for v in vals) + " | "
              + " | ".join(fs(v - base) if v is not None and base is not None else "–" for v in vals) + " |")
        w("")
    if "dmp-latency" in ex:
        w("What timing every request costs (issue 15: `end_io`, two clock readings, the latency histogram, "
          "in-flight and busy time): dmp loaded with `latency=1` (`dmp-latency`) against dmp as shipped "
          "(`latency` off: no `end_io`), in the same run:")
        w("")
        w("| workload | jobs | dmp | dmp-latency | dmp-latency − dmp | share of a dmp-latency I/O | "
          "dmp-latency / dm-linear |")
        w("|---|---:|---:|---:|---:|---:|---:|")
        for c in x["cases"]:
            v = {d: c["devices"][d]["mean"] for d in ("dm-linear", "dmp", "dmp-latency")}
            cost = None if None in (v["dmp"], v["dmp-latency"]) else v["dmp-latency"] - v["dmp"]
            w(f"| {c['rw']} | {c['jobs']} | {f1(v['dmp'])} | {f1(v['dmp-latency'])} | {fs(cost)} | "
              f"{pct(ratio(cost, v['dmp-latency']), 2)} | {num(ratio(v['dm-linear'], v['dmp-latency']), 4)} |")
        w("")
    w(f"**On hardware (an estimate, not a measurement):** at an assumed {HW_IPC:g} instruction per cycle and "
      f"{HW_GHZ:g} GHz, an I/O costs instructions / ({HW_IPC:g} × {HW_GHZ:g}) ns of one core; the assumption is "
      "that the kernel's I/O path runs at the same IPC on every device, so that the instruction ratios above are "
      "also the time ratios. It is not checked here (TCG has no cycle model), and cache misses in the counters or "
      "in dm's per-bio data would add cycles without instructions.")
    w("")
    w("| workload | jobs | raw | dm-linear | dmp | dmp − dm-linear | dmp's statistics | dmp, IOPS per core |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|")
    ns = lambda v: "–" if v is None else f"{v / (HW_IPC * HW_GHZ):,.0f} ns"
    for c in x["cases"]:
        v = {d: c["devices"][d]["mean"] for d in DEVICES}
        iops = "–" if not v["dmp"] else f"{HW_IPC * HW_GHZ * 1e9 / v['dmp']:,.0f}"
        dns = lambda d: "–" if d is None else f"{d / (HW_IPC * HW_GHZ):+,.1f} ns"
        w(f"| {c['rw']} | {c['jobs']} | {ns(v['raw'])} | {ns(v['dm-linear'])} | {ns(v['dmp'])} | "
          f"{dns(c['dmp_minus_linear'])} | {dns(c['dmp_minus_nostats'])} | {iops} |")
    w("")
    scs = [(n, sc) for n, sc in zip(names, x["scale"]) if sc]
    if scs:
        nd = scs[0][1]["devices"]
        w(f"### Many devices ({nd}), in instructions")
        w("")
        w("Create: one `dmsetup create --concise` of all the devices; remove: `dmsetup remove`, 200 names per call; "
          "an unmeasured create/remove pass of each kind first. The dm core waits for RCU and SRCU grace periods, "
          "during which dmsetup sleeps and the idle guest's clock jumps, so create and remove are counted as the "
          "CPU time of the dmsetup processes (getrusage of the children: the instructions executed while dmsetup "
          "was on a CPU, its own and any the other vCPU executed meanwhile), not as elapsed time; work the kernel "
          "defers to workers while dmsetup sleeps (RCU callbacks, the release of kobjects) is not in it. Reads "
          "(one Python process, no sleeping) are elapsed instructions. Median over rounds.")
        w("")
        w("| | " + " | ".join(f"run {n}: dm-linear | run {n}: dmp | run {n}: dmp / dm-linear" for n, _ in scs) + " |")
        w("|---|" + "---:|---:|---:|" * len(scs))
        def row(label, key, per):
            cells = []
            for _, sc in scs:
                a, b = sc[key]["dm-linear"]["median"], sc[key]["dmp"]["median"]
                cells += [f"{a / per:,.0f}", f"{b / per:,.0f}", f"**{ratio(b, a):.3f}**"]
            w(f"| {label} | " + " | ".join(cells) + " |")
        row(f"create {nd} devices, instructions per device", "create", nd)
        row(f"remove {nd} devices, instructions per device", "remove", nd)
        def row1(label, key, per):
            cells = []
            for _, sc in scs:
                cells += ["", f"{sc[key]['median'] / per:,.0f}", ""]
            w(f"| {label} | " + " | ".join(cells) + " |")
        sc0 = scs[0][1]
        row1(f"read every statistics file ({sc0['read_all_files']:,}), instructions per file", "read_all",
             sc0["read_all_files"])
        row1(f"read every `/sys/block/dm-N/stat` (the dm core's, {sc0['read_diskstat_files']:,}), per file",
             "read_diskstat", sc0["read_diskstat_files"])
        row1("one `volumes` read (median of 21), instructions", "volumes_read", 1)
        w("")
        cr = [ratio(sc["create"]["dmp"]["median"], sc["create"]["dm-linear"]["median"]) for _, sc in scs]
        w(f"Goal: creating devices, dmp / dm-linear ≤ {SCALE_GOAL}: "
          f"**{verdict(all(r is not None and r <= SCALE_GOAL for r in cr))}** ("
          + ", ".join(f"run {n} {r:.3f}" for (n, _), r in zip(scs, cr)) + ").")
        w("")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw", help="the guest's JSON records, or a results.json to render again")
    ap.add_argument("--md", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--host-seconds", type=int)
    ap.add_argument("--marks", help="host CPU time at the guest's marks (bench/host-marks.py)")
    ap.add_argument("--notes", help="markdown appended as the closing notes (bench/notes.md)")
    ap.add_argument("--exact", nargs="*", default=[],
                    help="instruction-exact runs (bench/exact/run-*.jsonl), rendered side by side")
    a = ap.parse_args()
    try:
        # A results.json written before: render it again (e.g. with new notes).
        with open(a.raw) as f:
            old = json.load(f)
        lines = [{"meta": old["summary"]["meta"]}] + old["records"]
    except (ValueError, KeyError, TypeError):
        lines = [json.loads(l) for l in open(a.raw) if l.strip().startswith("{")]
    meta = next((l["meta"] for l in lines if "meta" in l), None)
    if meta is None:
        sys.exit("render: no meta record")
    recs = [l for l in lines if "kind" in l]
    marks = {}
    if a.marks:
        with open(a.marks) as f:
            marks = json.load(f)
    for r in recs:
        b, e = marks.get(f"{r.get('mark')}b"), marks.get(f"{r.get('mark')}e")
        if b and e and b["cpu_s"] is not None and e["cpu_s"] is not None and e["cpu_s"] > b["cpu_s"]:
            r["host_cpu_s"] = e["cpu_s"] - b["cpu_s"]
            r["host_wall_s"] = e["wall_s"] - b["wall_s"]
            r["ios_per_cpu_s"] = r["ios_all"] / r["host_cpu_s"]
    s = summarise(meta, recs)
    if a.host_seconds is None:  # rendered again: the run's own figure
        a.host_seconds = meta.get("host_seconds")
    s["meta"]["host_seconds"] = a.host_seconds
    md = render_md(s, a.host_seconds)
    if a.exact:
        s["exact"] = summarise_exact([load_exact(p) for p in a.exact])
        md += "\n" + render_exact(s["exact"])
    if a.notes:
        with open(a.notes) as f:
            md += "\n" + f.read()
    with open(a.md, "w") as f:
        f.write(md)
    with open(a.json, "w") as f:
        json.dump({"summary": s, "records": recs}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
