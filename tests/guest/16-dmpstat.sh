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
d1=$(kname dmp1)
echo 1 >"$STAT/reset"
dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=176 iflag=direct status=none
dd if=/dev/zero of=/dev/mapper/dmp1 bs=1k count=7 oflag=direct status=none
dd if=/dev/mapper/dmp2 of=/dev/null bs=512 count=3 iflag=direct status=none

$dmpstat
$dmpstat | grep -E "^dmp1 +$d1 " | grep -q ' 176 ' || fail "listing has no row for dmp1 with 176 reads"
$dmpstat --json >/tmp/list.json
python3 - "$d1" <<'PY'
import json, sys
data = json.load(open("/tmp/list.json"))
text = json.dumps(data)
assert "dmp1" in text and sys.argv[1] in text, text
PY
$dmpstat --json dmp1 | grep -q '"read_reqs": 176\|"reads": 176\|176' || fail "JSON for dmp1 lacks the 176 reads"
$dmpstat check || fail "dmpstat check found differences on untouched devices"
$dmpstat histogram dmp1 | grep -q '4K' || fail "histogram has no 4K bucket"
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
