# dmpstat against the real module: the listing, JSON, check against the
# kernel's accounting, reset, histogram, Prometheus output and its errors.
. "$(dirname "$0")/lib.sh"

dmpstat=/dmp/bin/dmpstat
[ -x "$dmpstat" ] || fail "dmpstat is not in the payload (scripts/vm-run builds it)"

# Not loaded: a clear error and exit status 3.
set +e; out=$($dmpstat 2>&1); rc=$?; set -e
assert_eq "$rc" 3 "exit status without the module"
echo "$out" | grep -qi 'not loaded' || fail "no 'not loaded' message: $out"

modprobe dmp
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
ok = True
for path, want in (("/tmp/list.json", want_all), ("/tmp/one.json", want_one)):
    got = json.load(open(path))
    got["devices"] = sorted(got.get("devices", []), key=lambda d: d.get("device", ""))
    ints = all(type(v) is int for d in got["devices"] + [got.get("aggregate") or {}]
               for k, v in d.items() if k not in ("name", "device", "underlying"))
    if got != want or not ints:
        print("%s:\n got  %s\n want %s" % (path, json.dumps(got, sort_keys=True),
                                            json.dumps(want, sort_keys=True)))
        ok = False
sys.exit(0 if ok else 1)
PY
$dmpstat check || fail "dmpstat check found differences on untouched devices"

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
