# Data integrity (issue 6, item 1): fio randrw with crc32c verification through
# dmp, 4 jobs of 256 MiB each over a 1 GiB memory-backed null_blk device. Every
# block fio wrote reads back intact through dmp and, read again straight from
# the backing device, sits at the same sector (dmp remaps nothing else); fio's
# own byte totals, dmp's counters and the dm core's /sys/block/dm-N/stat all
# agree exactly.
. "$(dirname "$0")/lib.sh"
T=$(basename "$0" .sh)
tally() { "$(dirname "$0")/hardening-summary" "$@"; }
tally begin "$T"

jobs=4 per_job_mib=256
nullb=/sys/kernel/config/nullb/dmp-verify
nullb_off() {
	if [ -d "$nullb" ]; then
		echo 0 >"$nullb/power" 2>/dev/null || true
		rmdir "$nullb" 2>/dev/null || true
	fi
}
trap 'rc=$?; [ $rc = 0 ] || { echo "  (exit $rc at line $LINENO)" >&2; cleanup_all >/dev/null 2>&1 || true; nullb_off; }' EXIT

modprobe dmp
# null_blk is built into the test bed's kernels and a module in Debian's (no
# default device there: nr_devices=0); configure a memory-backed instance
# through configfs.
[ -d /sys/kernel/config/nullb ] || modprobe null_blk nr_devices=0 || fail "cannot load null_blk"
mkdir "$nullb"
echo $((jobs * per_job_mib)) >"$nullb/size"       # MiB
echo 1 >"$nullb/memory_backed"
echo 4096 >"$nullb/blocksize"
ls /sys/block >/tmp/blocks.before
echo 1 >"$nullb/power"
# The disk is nullb<index> on older kernels, named after the configfs
# directory on newer ones: take whatever appeared.
backing=/dev/$(ls /sys/block | grep -vxF -f /tmp/blocks.before)
rm -f /tmp/blocks.before
[ -b "$backing" ] || fail "null_blk device $backing did not appear"
assert_eq "$(blockdev --getsize64 "$backing")" $((jobs * per_job_mib * 1048576)) "size of $backing"
dmp_dev dmp1 "$backing"
d=$(kname dmp1)

# bssplit: sizes from 4 KiB to 256 KiB, so that big requests are split by the
# queue limits on the way (each part is counted, by dmp and by the dm core).
job=(--filename=/dev/mapper/dmp1 --rw=randrw --rwmixread=50
	--bssplit=4k/40:16k/25:64k/20:256k/15 --direct=1 --ioengine=libaio --iodepth=8
	--numjobs=$jobs --size=${per_job_mib}m --offset_increment=${per_job_mib}m
	--verify=crc32c --verify_fatal=1 --verify_state_save=0 --randseed=6 --eta=never)
start=$SECONDS
fio --name=verify "${job[@]}" --output-format=json --output=/tmp/fio-verify.json ||
	fail "fio failed (verify mismatch or I/O error): $(grep -E '"error"|verify' /tmp/fio-verify.json | head)"
note "fio randrw + verify, $jobs x $per_job_mib MiB: $((SECONDS - start)) s"

# fio's totals per job: errors, bytes read (workload and verification) and written.
# (fio may print notes before the JSON document.)
fio_totals() {
	python3 -c '
import json, sys
text = open(sys.argv[1]).read()
jobs = json.loads(text[text.index("{"):])["jobs"]
print(sum(j["error"] for j in jobs), len(jobs),
      sum(j["read"]["io_bytes"] for j in jobs), sum(j["write"]["io_bytes"] for j in jobs))' "$1"
}
read -r ferr fjobs fread fwrite <<<"$(fio_totals /tmp/fio-verify.json)"
note "fio: $fjobs jobs, read $fread B, wrote $fwrite B, errors $ferr"
assert_eq "$ferr" 0 "fio errors"
assert_eq "$fjobs" "$jobs" "fio jobs"
# Each job covers its 256 MiB once: about half of it written, all of it verified.
[ "$fwrite" -gt $((jobs * per_job_mib * 1048576 * 3 / 10)) ] || fail "fio wrote only $fwrite bytes"

cat "$STAT/$d/summary"
note "diskstats: $(cat "/sys/block/$d/stat")"
check_exact "$d"
# Nothing but fio touched the device: dmp's byte counts are fio's. fio's read
# total counts its verification reads too (it reads every block it wrote).
assert_eq "$(stat_of "$d" write_bytes)" "$fwrite" "dmp write bytes vs fio"
assert_eq "$(stat_of "$d" read_bytes)" "$fread" "dmp read bytes vs fio"
assert_eq "$(stat_of all_devs read_bytes)" "$fread" "aggregate read bytes vs fio"
assert_eq "$(stat_of all_devs write_bytes)" "$fwrite" "aggregate write bytes vs fio"

# The same data, read from the backing device itself (not through dmp), at the
# same offsets: dmp wrote each block where it was meant to go.
reads_before=$(stat_of "$d" read_cnt)
start=$SECONDS
fio --name=verify "${job[@]/\/dev\/mapper\/dmp1/$backing}" --verify_only \
	--output-format=json --output=/tmp/fio-verify-backing.json ||
	fail "verification on the backing device failed: $(grep -E '"error"|verify' /tmp/fio-verify-backing.json | head)"
note "verify_only on $backing: $((SECONDS - start)) s"
read -r berr _ bread _ <<<"$(fio_totals /tmp/fio-verify-backing.json)"
assert_eq "$berr" 0 "errors verifying on the backing device"
[ "$bread" -ge "$fwrite" ] || fail "verify_only read $bread bytes, fewer than the $fwrite written"
assert_eq "$(stat_of "$d" read_cnt)" "$reads_before" "dmp counted I/O that bypassed it"

rm -f /tmp/fio-verify.json /tmp/fio-verify-backing.json
dmsetup remove dmp1
nullb_off
[ ! -e "$backing" ] || fail "$backing still present"
cleanup_all
tally end "$T"
