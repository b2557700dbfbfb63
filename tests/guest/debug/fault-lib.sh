# shellcheck shell=bash
# Fault injection for the debug-kernel tests (sourced after ../lib.sh).
#
# One allocation at a time is made to fail with fail-nth: writing N to
# /proc/thread-self/fail-nth makes the Nth fault-injection point the task
# passes afterwards fail (kernel Documentation/fault-injection). failslab
# (/sys/kernel/debug/failslab) is set up so that only slab allocations made
# with module code on the stack count as points (its stack-trace filter,
# require-start/require-end, covers the module area, and dmp is the only
# module loaded): the allocations of dmp's code and of every kernel function
# it calls (dm_get_device, kobjects, sysfs files, uevents), not dm core's own
# ioctl work around it. A point is "injected" when failslab's `times` counter
# went down during the operation; the loop over N stops at the first N for
# which nothing was injected: the operation had fewer points.
#
# Not points: the per-CPU counters' alloc_percpu (the percpu allocator has no
# fault-injection hook) and page allocations (fail_page_alloc is filtered out:
# its failures log a call trace, and dmp makes none itself).

FAILSLAB=/sys/kernel/debug/failslab
FAILPAGE=/sys/kernel/debug/fail_page_alloc

# fi_require: fault injection must be there, or this is not the debug kernel.
# Exits 77 with a SKIP line: the runner selects these tests only on the debug
# kernel; one asked for by name elsewhere fails (exit 77), never passes.
fi_require() {
	local missing=""
	[ -e /proc/self/fail-nth ] || missing="/proc/self/fail-nth"
	[ -e "$FAILSLAB/require-start" ] || missing="${missing:+$missing, }$FAILSLAB/require-start"
	if [ -n "$missing" ]; then
		trap - EXIT
		echo "SKIP: no fault injection in kernel $(uname -r) (missing $missing): run it on the debug kernel (scripts/vm-run --debug tests/guest/run debug/$(basename "$0" .sh))"
		exit 77
	fi
	# Only dmp may be loaded: the filter covers every module's code.
	local mods
	mods=$(awk '$1 != "dmp" { print $1 }' /proc/modules)
	[ -z "$mods" ] || fail "modules other than dmp are loaded ($mods): the stack filter would count their allocations"
}

# The module area of x86-64 (arch/x86/include/asm/pgtable_64_types.h):
# MODULES_VADDR is 0xffffffffa0000000 (0xffffffffc0000000 with KASLR), and
# MODULES_END 0xffffffffff000000; the kernel image ends below it.
MOD_START=0xffffffffa0000000
MOD_END=0xffffffffff000000

fi_setup() {
	local kend
	kend=$(awk '$3 == "_end" { print $1 }' /proc/kallsyms)
	[ -n "$kend" ] && [ "$kend" != 0000000000000000 ] || fail "no address for _end in /proc/kallsyms"
	# (Both have the top bit set: signed comparison orders them as unsigned.)
	[ $((16#$kend)) -lt $((MOD_START)) ] || fail "the kernel image ends at $kend, inside the assumed module area"
	echo 0 >"$FAILSLAB/probability"      # only fail-nth injects
	echo 1 >"$FAILSLAB/interval"
	echo 0 >"$FAILSLAB/space"
	echo 0 >"$FAILSLAB/verbose"          # a message per failure, no trace
	echo N >"$FAILSLAB/task-filter"
	echo N >"$FAILSLAB/ignore-gfp-wait"  # GFP_KERNEL allocations fail too
	echo N >"$FAILSLAB/cache-filter"
	echo 32 >"$FAILSLAB/stacktrace-depth"
	echo "$MOD_START" >"$FAILSLAB/require-start"
	echo "$MOD_END" >"$FAILSLAB/require-end"
	echo 0 >"$FAILSLAB/reject-start"
	echo 0 >"$FAILSLAB/reject-end"
	echo 1000000 >"$FAILSLAB/times"
	FI_SEQ=$(klog_mark)
	FI_START=$SECONDS
	# Page allocations: never a point (an empty required range).
	if [ -d "$FAILPAGE" ]; then
		echo 0 >"$FAILPAGE/probability"
		echo 32 >"$FAILPAGE/stacktrace-depth"
		echo 0 >"$FAILPAGE/require-start"
		echo 0 >"$FAILPAGE/require-end"
	fi
}

# fi_reports WHAT: fails at once, showing it, if the kernel logged a report
# since the last check (FI_SEQ), so that a report is tied to the points just
# run rather than found by the runner after hundreds of them. A kobject
# release is delayed by 1-4 s on the debug kernel, so a report about one may
# appear a point or two after the point that caused it.
FI_PATTERN=$("$(dirname "${BASH_SOURCE[0]}")/../klog" pattern)
FI_SEQ=0 FI_START=0
fi_reports() {
	local rep
	rep=$(klog_since "$FI_SEQ" | grep -E -A 60 "$FI_PATTERN" | head -n 150 || true)
	[ -z "$rep" ] || fail "$1: kernel report (a delayed kobject release fires 1-4 s after its put: it may come from an earlier point):"$'\n'"$rep"
	FI_SEQ=$(klog_mark)
}

fi_teardown() {
	echo 1 >"$FAILSLAB/times" 2>/dev/null || true
	echo 0 >"$FAILSLAB/require-start" 2>/dev/null || true
	echo 0xffffffffffffffff >"$FAILSLAB/require-end" 2>/dev/null || true
	echo Y >"$FAILSLAB/ignore-gfp-wait" 2>/dev/null || true
}

# fi_run N CMD...: runs CMD with its Nth point failing (the subshell writes
# its own fail-nth, then becomes CMD: fail-nth survives exec). Output in
# $FI_OUT, status in $FI_RC, and FI_INJECTED=1 if a failure was injected.
FI_OUT=/tmp/fi.out
fi_run() {
	local n=$1 before after
	shift
	# Progress, shown if the test fails or times out.
	[ $((n % 10)) != 0 ] || echo "  point $n, $((SECONDS - FI_START)) s"
	fi_reports "before point $n"
	before=$(cat "$FAILSLAB/times")
	set +e
	( echo "$n" >/proc/thread-self/fail-nth && exec "$@" ) >"$FI_OUT" 2>&1
	FI_RC=$?
	set -e
	after=$(cat "$FAILSLAB/times")
	FI_INJECTED=$((before != after ? 1 : 0))
	[ $((before - after)) -le 1 ] || fail "point $n: $((before - after)) failures injected, expected at most one"
}

# fi_dmp_errors SEQ: the dmp error lines dm core logged since SEQ (klog_mark).
fi_dmp_errors() { klog_since "$1" | grep -E 'device-mapper: .*dmp' || true; }

# fi_works NAME ZERO: the next try without injection works: NAME is created
# over ZERO, a 4 KiB direct read is counted once, NAME is removed with its
# directory.
fi_works() {
	local d
	dmsetup create "$1" --table "0 8192 dmp /dev/mapper/$2" || fail "$3: the next create failed"
	d=$(kname "$1")
	dd if="/dev/mapper/$1" of=/dev/null bs=4k count=1 iflag=direct status=none || fail "$3: read failed"
	assert_eq "$(stat_of "$d" read_cnt)" 1 "$3: read_cnt of the next device"
	dmsetup remove "$1"
	[ ! -e "$STAT/$d" ] || fail "$3: $STAT/$d left after remove"
}

# fi_no_leftovers WHAT: no dmp device, no device directory.
fi_no_leftovers() {
	local left
	left=$(dmsetup ls 2>/dev/null | awk '$1 != "fizero" && $1 != "No" { print $1 }')
	[ -z "$left" ] || fail "$1: dm devices left behind: $left"
	if [ -d "$STAT" ]; then
		left=$(cd "$STAT" && ls -d dm-* 2>/dev/null || true)
		[ -z "$left" ] || fail "$1: device directories left behind: $left"
	fi
}
