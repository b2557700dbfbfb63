#!/usr/bin/env bash
# Host test of the guest runner's kernel log judge (tests/guest/klog), on
# made-up copies of the kernel log as `klog follow` writes them (SEQ FACILITY
# LEVEL TEXT; facility 0 is the kernel, 1 userspace): a report is found in its
# test's window, between tests, before the first test (from boot) and after
# the last, each named by where it was; userspace lines and the runner's own
# markers are never reports; lost records fail where they were lost. Ends with
# `N passed, N failed`.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
klog=$top/tests/guest/klog
passed=0 failed=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# check NAME EXPECTED SUBCOMMAND ARGS...: klog's output must be EXPECTED exactly.
check() {
	local name=$1 want=$2 got; shift 2
	got=$(python3 "$klog" "$@" 2>&1)
	if [ "$got" = "$want" ]; then
		echo "ok   $name"; passed=$((passed + 1))
	else
		echo "FAIL $name"; diff <(echo "$want") <(echo "$got") | sed 's/^/     | /'; failed=$((failed + 1))
	fi
}
# log FILE LINE...: a follow output, sequence numbers in order.
log() {
	local f=$1 n=0 line; shift
	echo READY >"$f"
	for line in "$@"; do
		case $line in
		"LOST "*) echo "$line" >>"$f" ;;
		*) echo "$n ${line:0:1} 6 ${line:2}" >>"$f"; n=$((n + 1)) ;;
		esac
	done
}
R=4242
begin() { echo "1 dmp-test: begin $1 (runner $R)"; }
end() { echo "1 dmp-test: end $1 (runner $R)"; }
fin="1 dmp-test: runner $R ends"

log "$work/clean" "0 Linux version 6.12" "1 dmp-test: runner $R starts" "$(begin a)" "0 dmp: loaded" \
	"$(end a)" "1 WARNING: userspace, not the kernel" "$(begin b)" "$(end b)" "0 done" "$fin"
check "a clean run: nothing outside the tests" "" outside "$work/clean" $R

log "$work/boot" "0 Linux version 6.12" "0 WARNING: CPU: 0 PID: 1 at init/main.c:1 boot+0x1" \
	"0 Call Trace:" "1 dmp-test: runner $R starts" "$(begin a)" "$(end a)" "$fin"
check "a report at boot is before the first test" "FAIL before the first test (a): kernel report in dmesg
LOG WARNING: CPU: 0 PID: 1 at init/main.c:1 boot+0x1
LOG Call Trace:" outside "$work/boot" $R

log "$work/between" "$(begin a)" "0 in a" "$(end a)" "0 kobject: 'dmp' delayed release" \
	"0 WARNING: CPU: 1 PID: 9 at lib/kobject.c:1 kobject_put+0x1" "$(begin b)" "$(end b)" "$fin"
check "a report between two tests names both" "FAIL between tests (after a, before b): kernel report in dmesg
LOG WARNING: CPU: 1 PID: 9 at lib/kobject.c:1 kobject_put+0x1" outside "$work/between" $R
check "... and is not in either test's window" "REPORTS 0" window "$work/between" "dmp-test: begin b (runner $R)" "dmp-test: end b (runner $R)"

log "$work/after" "$(begin a)" "$(end a)" "$(begin b)" "$(end b)" "0 BUG: KASAN: use-after-free in rcu_do_batch" "$fin" \
	"0 WARNING: after the runner's end, not its business"
check "a report after the last test" "FAIL after the last test (b): kernel report in dmesg
LOG BUG: KASAN: use-after-free in rcu_do_batch" outside "$work/after" $R

log "$work/inside" "$(begin a)" "0 WARNING: CPU: 0 PID: 3 in a" "$(end a)" "$fin"
check "a report inside a test is its window's, not outside" "" outside "$work/inside" $R
check "... and its window fails" "WHY kernel report in dmesg
LOG WARNING: CPU: 0 PID: 3 in a
REPORTS 1" window "$work/inside" "dmp-test: begin a (runner $R)" "dmp-test: end a (runner $R)"

log "$work/other" "1 dmp-test: begin x (runner 99)" "1 dmp-test: end x (runner 99)" "0 WARNING: CPU: 0 PID: 3 late" \
	"$(begin a)" "$(end a)" "$fin"
check "another runner's markers do not open a window" "FAIL before the first test (a): kernel report in dmesg
LOG WARNING: CPU: 0 PID: 3 late" outside "$work/other" $R

log "$work/lost" "$(begin a)" "$(end a)" "LOST 5 9" "$(begin b)" "$(end b)" "$fin"
check "records lost between tests" "FAIL between tests (after a, before b): kernel log records lost (seq 5-9)" outside "$work/lost" $R

log "$work/unended" "$(begin a)" "$(end a)"
check "no end marker of the runner" "FAIL after the last test: the runner's kernel log reader never saw the runner's end marker" outside "$work/unended" $R

log "$work/none" "0 WARNING: CPU: 0 PID: 1 at boot" "$fin"
check "no test ran" "FAIL in the kernel log outside any test (no test ran): kernel report in dmesg
LOG WARNING: CPU: 0 PID: 1 at boot" outside "$work/none" $R

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
