#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Passes the guest's console through (stdin to stdout) and records how
much host CPU time the guest's QEMU process (all its threads) has used at
each mark the guest sets.

    scripts/vm-run ... | bench/host-marks.py --root-pid PID --out marks.json

The host is shared (builds, other guests), so a guest's wall-clock speed
drifts with the load; the CPU time QEMU spends between two marks does much
less, which makes "I/Os per host CPU-second" the steadier measure of what a
case costs. The QEMU process is the qemu-system-* process descended from
--root-pid. A mark is a tag the guest writes with O_DIRECT into
/bench/marks of its payload disk (put there by scripts/bench); this finds
that block in the payload image (debugfs bmap) and polls it every few
milliseconds. The console cannot carry marks: vm-run's pipeline buffers it.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time


def ancestors(pid):
    seen = []
    while pid > 1 and len(seen) < 64:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            pid = int(fields[1])
        except (OSError, IndexError, ValueError):
            break
        seen.append(pid)
    return seen


def find_qemu(root):
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith("qemu-system") and root in ancestors(int(d)):
            return int(d)
    return None


def cpu_seconds(pid):
    """CPU time of every thread of pid, from schedstat (ns), else stat (ticks)."""
    total, ok = 0, False
    try:
        for t in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{t}/schedstat") as f:
                    total += int(f.read().split()[0])
                    ok = True
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        return None
    if ok:
        return total / 1e9
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def payload_image(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        args = f.read().decode(errors="replace").split("\0")
    for a in args:
        for part in a.split(","):
            if part.startswith("file=") and part.endswith("payload.img"):
                return part[len("file="):]
    return None


def watch(root, marks, stop):
    """Waits for the guest's QEMU, finds the marks block, then polls it."""
    qemu = image = offset = None
    while not stop.is_set() and offset is None:
        time.sleep(0.5)
        qemu = qemu or find_qemu(root)
        if qemu:
            image = payload_image(qemu)
        if image:
            r = subprocess.run(["debugfs", "-R", "bmap /bench/marks 0", image],
                               capture_output=True, text=True)
            st = subprocess.run(["debugfs", "-R", "stats", image], capture_output=True, text=True)
            bs = [int(l.split(":")[1]) for l in st.stdout.splitlines() if l.startswith("Block size:")]
            if r.returncode == 0 and r.stdout.strip().isdigit() and bs:
                offset = int(r.stdout.strip()) * bs[0]
    if offset is None:
        return
    fd = os.open(image, os.O_RDONLY)
    last = b""
    try:
        while not stop.is_set():
            data = os.pread(fd, 64, offset)
            if data != last:
                last = data
                tag = data.split(b"\n", 1)[0].decode(errors="replace").strip("\0").strip()
                if tag and tag not in marks:
                    marks[tag] = {"cpu_s": cpu_seconds(qemu), "wall_s": time.monotonic()}
            time.sleep(0.004)
    finally:
        os.close(fd)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root-pid", type=int, required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    marks = {}
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(a.root_pid, marks, stop), daemon=True)
    watcher.start()
    for line in sys.stdin:
        sys.stdout.write(line)
        sys.stdout.flush()
    stop.set()
    watcher.join()
    with open(a.out, "w") as f:
        json.dump(marks, f)


if __name__ == "__main__":
    main()
