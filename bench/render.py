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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("raw", help="the guest's JSON records, or a results.json to render again")
    ap.add_argument("--md", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--host-seconds", type=int)
    ap.add_argument("--marks", help="host CPU time at the guest's marks (bench/host-marks.py)")
    ap.add_argument("--notes", help="markdown appended as the closing notes (bench/notes.md)")
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
    s["meta"]["host_seconds"] = a.host_seconds
    md = render_md(s, a.host_seconds)
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
