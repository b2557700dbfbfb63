# dmpstat against the real module: the listing, JSON, check against the
# kernel's accounting, reset, histogram, Prometheus output and its errors.
. "$(dirname "$0")/lib.sh"

dmpstat=/dmp/bin/dmpstat
[ -x "$dmpstat" ] || fail "dmpstat is not in the payload (scripts/vm-run builds it)"

# Not loaded: a clear error and exit status 3.
set +e; out=$($dmpstat 2>&1); rc=$?; set -e
assert_eq "$rc" 3 "exit status without the module"
echo "$out" | grep -qi 'not loaded' || fail "no 'not loaded' message: $out"

# Requests timed to their completion (request times, errors, in flight).
modprobe dmp latency=1
zero_dev zero1 65536
dmp_dev dmp1 /dev/mapper/zero1
zero_dev zero2 65536
dmp_dev dmp2 /dev/mapper/zero2
d1=$(kname dmp1) d2=$(kname dmp2) z1=$(kname zero1) z2=$(kname zero2)
echo 1 >"$STAT/reset"
# The known pattern: dmp1 176 reads of 4 KiB and 7 writes of 1 KiB, dmp2 3 reads
# of 512 bytes; the aggregate 179 reads (722432 bytes), 7 writes.
dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=176 iflag=direct status=none
dd if=/dev/zero of=/dev/mapper/dmp1 bs=1k count=7 oflag=direct status=none
dd if=/dev/mapper/dmp2 of=/dev/null bs=512 count=3 iflag=direct status=none
check_exact "$d1"
check_exact "$d2"

# The listing: the header and every row, field by field.
$dmpstat >/tmp/list.txt
cat /tmp/list.txt
row() { awk -v n="$1" '$1 == n { $1 = $1; print }' /tmp/list.txt; }
assert_eq "$(head -n 1 /tmp/list.txt | awk '{ $1 = $1; print }')" \
	"NAME DEVICE UNDERLYING READS RAVG WRITES WAVG DISCARDS FLUSHES" "listing header"
assert_eq "$(row dmp1)" "dmp1 $d1 $z1 176 4096 7 1024 0 0" "listing row of dmp1"
assert_eq "$(row dmp2)" "dmp2 $d2 $z2 3 512 0 0 0 0" "listing row of dmp2"
assert_eq "$(row '(all)')" "(all) all_devs - 179 $((722432 / 179)) 7 1024 0 0" "listing row of the aggregate"
assert_eq "$(wc -l </tmp/list.txt)" 4 "listing lines (header, two devices, aggregate)"

# JSON: the whole structure and every number, parsed.
$dmpstat --json >/tmp/list.json
$dmpstat --json dmp1 >/tmp/one.json
python3 - "$d1" "$z1" "$d2" "$z2" <<'PY' || fail "dmpstat --json (see above)"
import json, sys
d1, z1, d2, z2 = sys.argv[1:5]

def stats(r, rb, w, wb):
    t = r + w
    return {"read_reqs": r, "read_bytes": rb, "read_avg": rb // r if r else 0,
            "write_reqs": w, "write_bytes": wb, "write_avg": wb // w if w else 0,
            "total_reqs": t, "total_avg": (rb + wb) // t if t else 0,
            "discard_reqs": 0, "discard_bytes": 0, "flush_reqs": 0}

dev1 = {"name": "dmp1", "device": d1, "underlying": [z1], **stats(176, 176 * 4096, 7, 7 * 1024)}
dev2 = {"name": "dmp2", "device": d2, "underlying": [z2], **stats(3, 3 * 512, 0, 0)}
want_all = {"devices": sorted([dev1, dev2], key=lambda d: d["device"]),
            "aggregate": stats(179, 176 * 4096 + 3 * 512, 7, 7 * 1024)}
want_one = {"devices": [dev1], "aggregate": None}
# The keys of dmpstat 0.1 must keep their values; the newer fields (from the
# stat and latency files) are checked apart: on these idle devices nothing is
# in flight, every request completed, none failed, and the latency buckets
# hold exactly the completed reads and writes.
OLD = set(stats(0, 0, 0, 0)) | {"name", "device", "underlying"}
old_only = lambda d: {k: v for k, v in d.items() if k in OLD} if d is not None else None

def newer_ok(d):
    lat = d.get("latency") or []
    return (d.get("in_flight") == 0 and d.get("read_done") == d["read_reqs"]
            and d.get("write_done") == d["write_reqs"] and d.get("discard_done") == d["discard_reqs"]
            and d.get("read_errors") == 0 and d.get("write_errors") == 0
            and all(type(d.get(k)) is int for k in ("io_ticks_ns", "read_ns", "write_ns", "flush_ns"))
            and (d["read_ns"] > 0) == (d["read_reqs"] > 0)
            and len(lat) == 22 and lat[-1]["upper_ns"] is None and lat[0]["upper_ns"] == 1000
            and sum(b["reads"] for b in lat) == d["read_done"]
            and sum(b["writes"] for b in lat) == d["write_done"])

ok = True
for path, want in (("/tmp/list.json", want_all), ("/tmp/one.json", want_one)):
    full = json.load(open(path))
    rows = full.get("devices", []) + ([full["aggregate"]] if full.get("aggregate") else [])
    got = {"devices": sorted([old_only(d) for d in full.get("devices", [])], key=lambda d: d.get("device", "")),
           "aggregate": old_only(full.get("aggregate"))}
    ints = all(type(v) is int for d in got["devices"] + [got.get("aggregate") or {}]
               for k, v in d.items() if k not in ("name", "device", "underlying"))
    if got != want or not ints:
        print("%s:\n got  %s\n want %s" % (path, json.dumps(got, sort_keys=True),
                                            json.dumps(want, sort_keys=True)))
        ok = False
    for d in rows:
        if not newer_ok(d):
            print("%s: newer fields wrong: %s" % (path, json.dumps(d, sort_keys=True)))
            ok = False
sys.exit(0 if ok else 1)
PY
$dmpstat check || fail "dmpstat check found differences on untouched devices"
[ -e "$STAT/$d1/stat" ] && [ -e "$STAT/$d1/latency" ] || fail "the module has no stat or latency file"
# Idle devices: check is exact ("equal"), never merely bounded.
assert_eq "$($dmpstat check | grep -c ': equal$')" 3 "dmpstat check lines 'equal' (two devices, aggregate)"
# The latency drawing: 176 completed reads and 7 writes in its buckets.
$dmpstat latency dmp1 >/tmp/lat.txt
assert_eq "$(head -n 1 /tmp/lat.txt)" "$d1 (dmp1): latency of completed requests" "latency title"
assert_eq "$(awk '$1 == "latency" { block = $2; next } block == "reads" && NF >= 2 { n += $2 } END { print n }' /tmp/lat.txt)" 176 "reads in dmpstat latency dmp1"
assert_eq "$(awk '$1 == "latency" { block = $2; next } block == "writes" && NF >= 2 { n += $2 } END { print n }' /tmp/lat.txt)" 7 "writes in dmpstat latency dmp1"
# The stat line: 32 fields, fields 1, 5 and 25, 26 as the listing says.
assert_eq "$(wc -w <"$STAT/$d1/stat")" 32 "fields of $d1/stat"
assert_eq "$(awk '{ print $1, $5, $9, $25, $26 }' "$STAT/$d1/stat")" "176 7 0 176 7" "$d1/stat reads, writes, in flight, completions"

# Under load (fio on a third device, over memory): the extended report shows
# awaits and %util, and check stays exit 0: within bounds while busy, equal
# once idle. The outputs are taken while fio runs; fio is stopped before any
# assertion so that a failure can still remove the devices.
loop=$(loop_dev 256)
dmp_dev dmp3 "$loop"
d3=$(kname dmp3)
fio --name=busy --filename=/dev/mapper/dmp3 --rw=randrw --bs=4k --direct=1 --ioengine=psync \
	--numjobs=4 --size=64m --time_based --runtime=30 --thread --group_reporting \
	--output-format=terse >/tmp/fio-busy.out 2>&1 &
fio_pid=$!
# fio takes a while to start (seconds on the debug kernel): wait for its
# first reads and writes, at most 60 s.
for _ in $(seq 600); do
	[ "$(stat_of "$d3" read_cnt)" -gt 0 ] && [ "$(stat_of "$d3" write_cnt)" -gt 0 ] && break
	sleep 0.1
done
[ "$(stat_of "$d3" read_cnt)" -gt 0 ] || { kill "$fio_pid"; wait "$fio_pid"; fail "fio did not start within 60 s"; }
set +e
$dmpstat -x dmp3 1 3 >/tmp/x.txt 2>&1; x_rc=$?
$dmpstat check >/tmp/check-busy.txt 2>&1; busy_rc=$?
$dmpstat check dmp3 >/tmp/check-busy3.txt 2>&1; busy3_rc=$?
$dmpstat --json -x dmp3 1 1 >/tmp/x.json 2>&1; xj_rc=$?
kill -0 "$fio_pid" 2>/dev/null; fio_was_running=$?
kill "$fio_pid" 2>/dev/null
wait "$fio_pid" 2>/dev/null
set -e
cat /tmp/x.txt /tmp/check-busy.txt
assert_eq "$fio_was_running" 0 "fio still ran while dmpstat read (it ends after 30 s)"
assert_eq "$x_rc" 0 "dmpstat -x dmp3 1 3 under load"
assert_eq "$(grep -c '^NAME ' /tmp/x.txt)" 3 "reports of dmpstat -x dmp3 1 3"
# Every report's row of dmp3: reads and writes completed, so r_await, w_await
# and %util are positive, %util at most 100.
awk -v d="$d3" '
	$1 == "NAME" { for (i = 1; i <= NF; i++) col[$i] = i; next }
	$2 == d {
		n++
		if (!($(col["r/s"]) > 0 && $(col["r_await"]) > 0 && $(col["w_await"]) > 0 &&
		      $(col["%util"]) > 0 && $(col["%util"]) <= 100 && $(col["aqu-sz"]) > 0)) bad++
	}
	END { exit !(n == 3 && bad == 0) }' /tmp/x.txt || fail "dmpstat -x under load: no await or %util (see above)"
assert_eq "$busy_rc" 0 "dmpstat check (every device and all_devs) while fio runs"
assert_eq "$busy3_rc" 0 "dmpstat check dmp3 while fio runs"
grep -Eq "^$d3 \(dmp3\): (within bounds|equal)" /tmp/check-busy3.txt || fail "check dmp3 output: $(cat /tmp/check-busy3.txt)"
grep -q "^$d3 (dmp3): within bounds" /tmp/check-busy.txt /tmp/check-busy3.txt ||
	note "check never caught dmp3 busy (fio between requests both times)"
assert_eq "$xj_rc" 0 "dmpstat --json -x dmp3 1 1"
python3 - "$d3" <<'PY' || fail "dmpstat --json -x under load (see above)"
import json, sys
r = json.load(open("/tmp/x.json"))
d = [x for x in r["devices"] if x["device"] == sys.argv[1]][0]
ok = (d["r_await_ms"] > 0 and d["w_await_ms"] > 0 and 0 < d["util_pct"] <= 100
      and d["rareq_bytes"] == 4096 and d["wareq_bytes"] == 4096 and d["read_done"] > 0)
print(json.dumps(d, sort_keys=True)[:400])
sys.exit(0 if ok else 1)
PY
# Idle again: exact.
$dmpstat check dmp3 >/tmp/check-idle3.txt || fail "dmpstat check dmp3 after fio: $(cat /tmp/check-idle3.txt)"
assert_eq "$(cat /tmp/check-idle3.txt)" "$d3 (dmp3): equal" "dmpstat check dmp3 once idle"
dmsetup remove dmp3

# The histograms: the kernel's file and dmpstat's drawing, bucket by bucket.
labels="<512 512 1K 2K 4K 8K 16K 32K 64K 128K 256K 512K >=1M"
# want_hist READ-BUCKET READS WRITE-BUCKET WRITES: the 13 lines "label reads writes".
want_hist() {
	local l
	for l in $labels; do
		echo "$l $([ "$l" = "$1" ] && echo "$2" || echo 0) $([ "$l" = "$3" ] && echo "$4" || echo 0)"
	done
}
assert_eq "$(cat "$STAT/$d1/histogram")" "$(want_hist 4K 176 1K 7)" "histogram file of dmp1"
assert_eq "$(cat "$STAT/$d2/histogram")" "$(want_hist 512 3 - 0)" "histogram file of dmp2"
$dmpstat histogram dmp1 >/tmp/hist.txt
cat /tmp/hist.txt
assert_eq "$(head -n 1 /tmp/hist.txt)" "$d1 (dmp1): request sizes" "histogram title"
# Each bucket line of the drawing as "reads|writes label count bar?" (bar: yes
# when the line has #s): nonzero buckets and only they have a bar.
got=$(awk '$1 == "size" { block = $2; next }
	block != "" && NF >= 2 { print block, $1, $2, ($3 ~ /^#+$/ ? "bar" : "-") }' /tmp/hist.txt)
want=$(want_hist 4K 176 1K 7 | awk '{ print "reads", $1, $2, ($2 > 0 ? "bar" : "-") }'
	want_hist 4K 176 1K 7 | awk '{ print "writes", $1, $3, ($3 > 0 ? "bar" : "-") }')
assert_eq "$got" "$want" "dmpstat histogram dmp1 (block, bucket, count, bar)"
$dmpstat prometheus | grep -q "^dmp_reads_total{device=\"$d1\",name=\"dmp1\"} 176$" ||
	fail "prometheus output lacks dmp_reads_total for dmp1: $($dmpstat prometheus | grep reads_total)"
$dmpstat prometheus >/tmp/dmp.prom
grep -q "^dmp_read_latency_seconds_count{device=\"$d1\",name=\"dmp1\"} 176$" /tmp/dmp.prom ||
	fail "prometheus: no read latency count 176 for dmp1: $(grep latency_seconds_count /tmp/dmp.prom)"
grep -q "^dmp_read_latency_seconds_bucket{device=\"$d1\",name=\"dmp1\",le=\"+Inf\"} 176$" /tmp/dmp.prom ||
	fail "prometheus: +Inf bucket of dmp1's reads is not 176"
grep -q "^dmp_in_flight_requests{device=\"$d1\",name=\"dmp1\"} 0$" /tmp/dmp.prom ||
	fail "prometheus: dmp1 in flight is not 0"
$dmpstat reset dmp1
assert_eq "$(stat_of "$d1" read_cnt)" 0 "dmp1 reads after dmpstat reset"
# After a reset the device no longer matches the kernel's accounting.
set +e; $dmpstat check dmp1 >/tmp/check.out 2>&1; rc=$?; set -e
assert_eq "$rc" 1 "dmpstat check after a reset"
set +e; $dmpstat zero1 >/tmp/notdmp.out 2>&1; rc=$?; set -e
assert_eq "$rc" 3 "dmpstat on a device that is not a dmp device"
# An unprivileged user gets the permission hint (files are 0400 without the udev rule).
set +e; out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups $dmpstat 2>&1); rc=$?; set -e
assert_eq "$rc" 4 "exit status for an unprivileged user"
echo "$out" | grep -qi 'udev' || fail "no udev hint in: $out"
$dmpstat reset --all
assert_eq "$(stat_of all_devs total_cnt)" 0 "aggregate after dmpstat reset --all"
cleanup_all
