# Faults (issue 6, item 3): dmp over dm-error and over dm-flakey in its error
# and drop modes. Errors reach the caller unchanged (EIO), writes dropped below
# dmp are reported as done and leave the old data, every bio is counted by the
# documented rule whatever its completion status (dmp's counters equal the dm
# core's /sys/block/dm-N/stat, which also counts failed bios), and afterwards
# everything can be removed and the module unloaded (nothing pinned, nothing
# leaked: kmemleak is scanned after the test on the debug kernel).
. "$(dirname "$0")/lib.sh"
T=$(basename "$0" .sh)
tally() { "$(dirname "$0")/hardening-summary" "$@"; }
tally begin "$T"

mib=64
sectors=$((mib * 2048))

# io WHAT EXPECT(ok|eio) dd-args...: a direct dd through dmp, which must
# succeed or fail with EIO.
io() {
	local what=$1 expect=$2; shift 2
	if dd "$@" status=none 2>/tmp/dd.err; then
		[ "$expect" = ok ] || fail "$what: succeeded, expected an I/O error"
	else
		[ "$expect" = eio ] || fail "$what: failed: $(cat /tmp/dd.err)"
		grep -q 'Input/output error' /tmp/dd.err || fail "$what: not EIO: $(cat /tmp/dd.err)"
	fi
}
# v DEV FILE: a dmp counter, read without a fork (forks are slow under TCG).
v() { local x; read -r x <"$STAT/$1/$2"; echo "$x"; }
# exact DEV: dmp's counters equal the dm core's accounting (check_exact of
# lib.sh, with builtins only).
exact() {
	local d=$1 s f x
	read -r -a s <"/sys/block/$d/stat"
	for f in "read_cnt ${s[0]}" "read_bytes $((s[2] * 512))" "write_cnt ${s[4]}" \
		"write_bytes $((s[6] * 512))" "discard_cnt ${s[11]}" "discard_bytes $((s[13] * 512))"; do
		read -r x <"$STAT/$d/${f% *}"
		[ "$x" = "${f#* }" ] || fail "$d ${f% *}: dmp counted $x, the dm core ${f#* }"
	done
}
# counts DEV READS READ-BYTES WRITES WRITE-BYTES: dmp's counters, exactly, and
# equal to the dm core's.
counts() {
	local r rb w wb
	read -r r <"$STAT/$1/read_cnt"; read -r rb <"$STAT/$1/read_bytes"
	read -r w <"$STAT/$1/write_cnt"; read -r wb <"$STAT/$1/write_bytes"
	assert_eq "$r $rb $w $wb" "$2 $3 $4 $5" "$1 reads, read bytes, writes, write bytes"
	exact "$1"
}

# errs DEV READS WRITES DISCARDS: the requests that completed with an error,
# exactly (fields 29 to 31 of the device's stat file).
errs() {
	local f
	read -r -a f <"$STAT/$1/stat"
	assert_eq "${f[28]} ${f[29]} ${f[30]}" "$2 $3 $4" "$1 read, write, discard errors"
	assert_eq "${f[8]}" 0 "$1 requests in flight after the I/O"
}

# Requests timed to their completion (request times, errors, in flight).
modprobe dmp latency=1
t0=$SECONDS

# --- dm-error: every bio fails ----------------------------------------------
dm_create err1 "0 $sectors error"
dmp_dev dmp_err /dev/mapper/err1
d=$(kname dmp_err)
io "read from dm-error" eio if=/dev/mapper/dmp_err of=/dev/null bs=4k count=1 iflag=direct
io "read 64k from dm-error" eio if=/dev/mapper/dmp_err of=/dev/null bs=64k count=1 skip=3 iflag=direct
io "write to dm-error" eio if=/dev/zero of=/dev/mapper/dmp_err bs=8k count=1 oflag=direct
io "write to dm-error, O_SYNC" eio if=/dev/zero of=/dev/mapper/dmp_err bs=4k count=1 seek=9 oflag=direct,sync
counts "$d" 2 $((4096 + 65536)) 2 $((8192 + 4096))
# BLKDISCARD itself (blkdiscard would probe the device with reads first).
python3 -c '
import errno, fcntl, os, struct
fd = os.open("/dev/mapper/dmp_err", os.O_WRONLY)
try:
    fcntl.ioctl(fd, 0x1277, struct.pack("=QQ", 0, 1 << 20))
except OSError as e:
    assert e.errno == errno.EIO, e
else:
    raise SystemExit("discard on dm-error succeeded")' || fail "discard on dm-error"
# The one BLKDISCARD may reach dm as more than one bio; the dm core's count
# (field 12 of its stat) is how many.
read -r -a core </sys/block/$d/stat
[ "${core[11]}" -ge 1 ] || fail "the dm core counted no discard"
assert_eq "$(v "$d" discard_cnt)" "${core[11]}" "failed discards vs the dm core's"
assert_eq "$(v "$d" discard_bytes)" 1048576 "failed discard bytes"
exact "$d"
# dm-error has no write cache, nor then has dmp over it (it inherits the
# device's limits): the block layer completes an fsync's empty flush before dm,
# so nothing is sent or counted. (Failing flushes are tried over dm-flakey.)
w=$(v "$d" write_cnt) f=$(v "$d" flush_cnt)
python3 -c 'import os; fd = os.open("/dev/mapper/dmp_err", os.O_WRONLY); os.fsync(fd)' ||
	fail "fsync on dmp over dm-error failed: dmp advertises a write cache dm-error lacks?"
assert_eq "$(v "$d" write_cnt) $(v "$d" flush_cnt)" "$w $f" "writes and flushes after fsync without a write cache"
exact "$d"
# On dm-error every request failed: the 2 reads, the 2 writes and the dm
# core's count of discards, not numbers read back from dmp.
errs "$d" 2 2 "${core[11]}"
assert_eq "$(dmsetup status dmp_err | cut -d' ' -f4-10)" \
	"2 $((4096 + 65536)) 2 $((8192 + 4096)) ${core[11]} 1048576 0" \
	"dmsetup status after errors"
assert_eq "$(dmsetup status dmp_err | cut -d' ' -f11,17-19)" \
	"0 2 2 ${core[11]}" \
	"dmsetup status: in flight and errors"
dmsetup remove dmp_err
dmsetup remove err1

note "dm-error part: $((SECONDS - t0)) s"
# --- dm-flakey over a loop device -------------------------------------------
loop=$(loop_dev $mib)
# The first MiB holds a known pattern (0xa5), the blocks written below.
python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
import mmap; m = mmap.mmap(-1, 1 << 20); m.write(bytes([0xa5]) * (1 << 20))
assert os.pwrite(fd, m, 0) == 1 << 20' "$loop"
# flakey TABLE-TAIL: (re)load the flakey device with `0 N flakey <loop> 0 TAIL`.
flakey() {
	if dmsetup info flaky1 >/dev/null 2>&1; then
		dmsetup reload flaky1 --table "0 $sectors flakey $loop 0 $1"
		dmsetup resume flaky1
	else
		dm_create flaky1 "0 $sectors flakey $loop 0 $1"
	fi
}
flakey "3600 0"                     # always up: a plain pass-through
dmp_dev dmp_fl /dev/mapper/flaky1
d=$(kname dmp_fl)
io "read, flakey up" ok if=/dev/mapper/dmp_fl of=/dev/null bs=4k count=4 iflag=direct
counts "$d" 4 16384 0 0
errs "$d" 0 0 0

# Error mode for writes: up 0 s, down for an hour; reads still work.
flakey "0 3600 1 error_writes"
io "write, flakey error_writes" eio if=/dev/zero of=/dev/mapper/dmp_fl bs=4k count=1 seek=100 oflag=direct
io "read, flakey error_writes" ok if=/dev/mapper/dmp_fl of=/dev/null bs=4k count=2 skip=100 iflag=direct
assert_eq "$(dd if="$loop" bs=4k count=1 skip=100 iflag=direct status=none | tr -d '\245' | wc -c)" \
	0 "bytes other than 0xa5 under a failed write"
counts "$d" 6 24576 1 4096
errs "$d" 0 1 0

# Drop mode: writes are reported done, the data below does not change.
flakey "0 3600 1 drop_writes"
io "write, flakey drop_writes" ok if=/dev/zero of=/dev/mapper/dmp_fl bs=64k count=2 seek=10 oflag=direct
assert_eq "$(dd if=/dev/mapper/dmp_fl bs=64k count=2 skip=10 iflag=direct status=none | tr -d '\245' | wc -c)" \
	0 "bytes other than 0xa5 under dropped writes, read through dmp"
counts "$d" 8 $((24576 + 131072)) 3 $((4096 + 131072))
errs "$d" 0 1 0   # dropped writes complete without an error

# Default down mode: every bio fails, reads too.
flakey "0 3600"
io "read, flakey down" eio if=/dev/mapper/dmp_fl of=/dev/null bs=16k count=1 iflag=direct
io "write, flakey down" eio if=/dev/zero of=/dev/mapper/dmp_fl bs=16k count=1 oflag=direct
counts "$d" 9 $((24576 + 131072 + 16384)) 4 $((4096 + 131072 + 16384))
errs "$d" 1 2 0

# Flushes: the loop device below has a write cache, so an fsync's empty flush
# goes through dmp (and dm-flakey, which fails it while down). Each one is a
# write of 0 bytes and one flush, failed or not (the counting rule).
[ "$(cat "/sys/block/$d/queue/write_cache")" = "write back" ] ||
	fail "dmp over flakey over loop has no write cache: $(cat "/sys/block/$d/queue/write_cache")"
# fsync_dev: fsync on the device; prints ok or the error's name.
fsync_dev() {
	python3 -c 'import errno, os, sys
fd = os.open("/dev/mapper/dmp_fl", os.O_WRONLY)
try:
    os.fsync(fd)
    print("ok")
except OSError as e:
    print(errno.errorcode[e.errno])'
}
assert_eq "$(v "$d" flush_cnt)" 0 "flushes before the first fsync"
assert_eq "$(fsync_dev)" EIO "fsync through flakey down"
counts "$d" 9 $((24576 + 131072 + 16384)) 5 $((4096 + 131072 + 16384))
assert_eq "$(v "$d" flush_cnt)" 1 "flushes after a failed fsync"
errs "$d" 1 3 0   # the failed flush is a failed write of 0 bytes
flakey "3600 0"
assert_eq "$(fsync_dev)" ok "fsync through flakey up"
counts "$d" 9 $((24576 + 131072 + 16384)) 6 $((4096 + 131072 + 16384))
assert_eq "$(v "$d" flush_cnt)" 2 "flushes after a failed and a successful fsync"
errs "$d" 1 3 0

note "flakey modes: $((SECONDS - t0)) s"
# fio through a device that fails for 1 s out of every 2: errors mixed with
# successes under load; the counting rule still holds exactly.
flakey "1 1"
echo 1 >"$STAT/$d/reset"
fio --name=flaky --filename=/dev/mapper/dmp_fl --rw=randrw --bsrange=4k-64k --direct=1 \
	--ioengine=psync --numjobs=2 --thread --time_based --runtime=5 --size=${mib}m \
	--continue_on_error=io --output-format=json --eta=never --output=/tmp/fio-flaky.json ||
	fail "fio failed: $(head -c 2000 /tmp/fio-flaky.json)"
read -r ferr fr fw <<<"$(python3 -c '
import json, sys
t = open("/tmp/fio-flaky.json").read()
jobs = json.loads(t[t.index("{"):])["jobs"]
print(sum(j.get("total_err", 0) for j in jobs),
      sum(j["read"]["total_ios"] for j in jobs), sum(j["write"]["total_ios"] for j in jobs))')"
note "fio over flakey 1 s up / 1 s down: $fr reads, $fw writes, $ferr errors"
[ "$ferr" -gt 0 ] || fail "fio saw no error from the flakey device"
[ "$fr" -gt 0 ] && [ "$fw" -gt 0 ] || fail "fio did no I/O"
# Every request fio issued, failed or not, reached dmp once (after the reset).
assert_eq "$(v "$d" read_cnt)" "$fr" "dmp reads vs fio's requests (errors included)"
assert_eq "$(v "$d" write_cnt)" "$fw" "dmp writes vs fio's requests (errors included)"
# Each of fio's direct requests is one bio through dmp: the failed ones are
# exactly fio's errors.
read -r -a st <"$STAT/$d/stat"
assert_eq "$((st[28] + st[29]))" "$ferr" "dmp's read + write errors vs fio's errors"
assert_eq "${st[8]}" 0 "requests in flight after fio"

note "fio: $((SECONDS - t0)) s"
# Back up: the device works again; and everything is removable.
flakey "3600 0"
io "read after the faults" ok if=/dev/mapper/dmp_fl of=/dev/null bs=4k count=1 iflag=direct
agg_before=$(v all_devs total_cnt)
dmsetup remove dmp_fl
dmsetup remove flaky1
assert_eq "$(v all_devs total_cnt)" "$agg_before" "aggregate after removing the faulty devices"
[ -z "$(ls -d "$STAT"/dm-* 2>/dev/null)" ] || fail "statistics directories left: $(ls "$STAT")"
rmmod dmp || fail "rmmod after the faults (a reference leaked?)"
losetup -d "$loop"
rm -f /tmp/dd.err /tmp/fio-flaky.json
cleanup_all
tally end "$T"
