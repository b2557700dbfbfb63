# shellcheck shell=bash
# Helpers for the guest tests (sourced). Every test runs as root in a guest
# booted by scripts/vm-run, starts from a state with no dm devices and the dmp
# module unloaded, and must leave it that way (the runner checks).

set -euo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
STAT=/sys/module/dmp/stat
# Without udev (fast boot), libdevmapper creates the /dev/mapper nodes itself.
if ! pgrep -x systemd-udevd >/dev/null 2>&1; then
	export DM_DISABLE_UDEV=1
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "  $*"; }

# assert_eq ACTUAL EXPECTED WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# expect_fail WHAT COMMAND...: the command must fail.
expect_fail() {
	local what=$1; shift
	if "$@" >/tmp/expect_fail.out 2>&1; then
		cat /tmp/expect_fail.out >&2
		fail "$what: succeeded but must fail"
	fi
}

# The kernel name (dm-N) of a dm device.
kname() { dmsetup info -c --noheadings -o blkdevname "$1"; }

# Field N (1-based) of /sys/block/<dev>/stat.
diskstat() { awk -v n="$2" '{ print $n }' "/sys/block/$1/stat"; }

# dm_create NAME TABLE
dm_create() {
	dmsetup create "$1" --table "$2"
	[ -b "/dev/mapper/$1" ] || fail "/dev/mapper/$1 was not created"
}

# zero_dev NAME SECTORS: a dm-zero device.
zero_dev() { dm_create "$1" "0 $2 zero"; }

# dmp_dev NAME BACKING [SECTORS]: a one-segment dmp device over BACKING.
dmp_dev() {
	local size=${3:-$(blockdev --getsz "$2")}
	dm_create "$1" "0 $size dmp $2"
}

# A memory-backed loop device of SIZE MiB; prints its path.
loop_dev() {
	local f
	f=$(mktemp /dev/shm/dmp-loop.XXXXXX)
	truncate -s "${1}M" "$f"
	# A module in Debian's kernels; without udev nothing loads it on demand.
	[ -e /dev/loop-control ] || modprobe loop || fail "cannot load the loop driver"
	losetup --find --show "$f"
}

# Remove every dm device, loop device and the module: back to the start.
cleanup_all() {
	local i
	for i in 1 2 3; do
		dmsetup remove_all >/dev/null 2>&1 && break
		sleep 0.2
	done
	losetup -D 2>/dev/null || true
	rm -f /dev/shm/dmp-loop.* 2>/dev/null || true
	if [ -d /sys/module/dmp ]; then rmmod_dmp; fi
}

# rmmod_dmp: unload dmp. A module exit that does not return within 60 s (it
# waits for a reference that is never put) fails the test instead of hanging
# it until the runner's timeout.
rmmod_dmp() {
	local pid i
	rmmod dmp &
	pid=$!
	for i in $(seq 600); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" || fail "rmmod dmp failed"
			return 0
		fi
		sleep 0.1
	done
	fail "rmmod dmp did not return within 60 s (module exit hangs)"
}

# The dmp counter of a device directory (dm-N or all_devs).
stat_of() { cat "$STAT/$1/$2"; }

# avg BYTES REQUESTS: an average size as dmp computes it, bytes / requests
# rounded down, 0 without requests.
avg() { if [ "$2" -gt 0 ]; then echo $(($1 / $2)); else echo 0; fi; }
# summary_text READS READ-BYTES WRITES WRITE-BYTES: the summary (and volumes)
# file that these figures make, computed here, not by dmp.
summary_text() {
	printf 'read:\n reqs: %s\n avg size: %s\nwrite:\n reqs: %s\n avg size: %s\ntotal:\n reqs: %s\n avg size: %s' \
		"$1" "$(avg "$2" "$1")" "$3" "$(avg "$4" "$3")" $(($1 + $3)) "$(avg $(($2 + $4)) $(($1 + $3)))"
}

# Check that a one-segment dmp device's counters equal the dm core's own
# accounting in /sys/block/dm-N/stat (the counting rule).
check_exact() {
	local d=$1
	assert_eq "$(stat_of "$d" read_cnt)" "$(diskstat "$d" 1)" "$d read requests vs diskstats"
	assert_eq "$(stat_of "$d" read_bytes)" "$(( $(diskstat "$d" 3) * 512 ))" "$d read bytes vs diskstats"
	assert_eq "$(stat_of "$d" write_cnt)" "$(diskstat "$d" 5)" "$d write requests vs diskstats"
	assert_eq "$(stat_of "$d" write_bytes)" "$(( $(diskstat "$d" 7) * 512 ))" "$d write bytes vs diskstats"
	assert_eq "$(stat_of "$d" discard_cnt)" "$(diskstat "$d" 12)" "$d discards vs diskstats"
	assert_eq "$(stat_of "$d" discard_bytes)" "$(( $(diskstat "$d" 14) * 512 ))" "$d discard bytes vs diskstats"
}

# The kernel log by sequence number (a line count of `dmesg` stops growing once
# the ring buffer is full). klog_mark prints the sequence number of the last
# record; klog_since SEQ prints the text of every record the kernel logged
# after it (not what userspace wrote to /dev/kmsg), and fails if some of them
# were overwritten before being read (the ring buffer wrapped).
klog_records() { dd if=/dev/kmsg iflag=nonblock bs=16k status=none 2>/dev/null || true; }
klog_mark() { klog_records | awk -F, '/^[0-9]/ { s = $2 } END { print s + 0 }'; }
klog_since() {
	klog_records | awk -F, -v s="$1" '
	/^[0-9]/ {
		if (!seen++ && $2 > s + 1) { lost = 1; exit }
		if ($2 > s && int($1 / 8) == 0) print substr($0, index($0, ";") + 1)
	}
	END { if (lost) { print "klog_since: records after " s " were overwritten" > "/dev/stderr"; exit 1 } }'
}

# A failing test also removes what it created, so that the next test starts
# from a clean guest (a passing test that leaves something behind still fails
# in the runner).
# exit_hooks: commands a test adds to run when it exits, passed or failed
# (e.g. to restore a system setting it changed), before the cleanup.
exit_hooks=()
trap 'rc=$?; for h in "${exit_hooks[@]}"; do "$h" || true; done; if [ $rc != 0 ]; then echo "  (exit $rc at line $LINENO)" >&2; cleanup_all >/dev/null 2>&1 || true; fi' EXIT
