#!/usr/bin/env bash
# The runner's two paths for a guest kernel panic, in real guests on the test
# bed's 6.12 (scripts/vm-run, scripts/boot-panic-verdict):
#  - a kernel that panics before the payload starts (a bad init=, forced by
#    vm-run --fail-boots) is booted again, each retry printed and counted;
#    more than two such boots fail the run;
#  - a payload that panics the kernel after dmp is loaded fails at once,
#    never retried.
# Ends with `N passed, N failed`.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
kernel=${1:-6.12}
passed=0 failed=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
check() { # NAME CONDITION...: passes when the command succeeds
	local name=$1; shift
	if "$@"; then echo "ok   $name"; passed=$((passed + 1))
	else echo "FAIL $name"; sed 's/^/     | /' "$tmp/out" | tail -n 40; failed=$((failed + 1)); fi
}
vm() { # ARGS...: vm-run; output in $tmp/out, status in $rc
	"$top/scripts/vm-run" --kernel "$kernel" --timeout 300 "$@" >"$tmp/out" 2>&1; rc=$?
}
has() { grep -q -- "$1" "$tmp/out"; }
boots() { grep -c 'guest boot [0-9]*: kernel' "$tmp/out"; }

printf '#!/bin/bash\necho "payload ran on boot $DMP_BOOT"\n' >"$tmp/ok.sh"
vm --fail-boots 1 "$tmp/ok.sh"
check "one boot panicking before the payload is retried and the script passes (exit $rc)" \
	test "$rc" = 0
check "  the retry is printed with the panic's first lines" \
	has 'boot retry 1 of 2: the kernel panicked before the payload started'
check "  the panic's trace is shown" has 'vm-run:   | .*Kernel panic'
check "  the run's summary counts it" has '^vm-run: boot retries: 1$'
check "  the payload ran once, on its first boot" has 'payload ran on boot 1'

vm --fail-boots 3 "$tmp/ok.sh"
check "three such boots fail the run after two retries (exit $rc)" test "$rc" = 125
check "  the failure says so" has 'panic before the payload started, after 2 retries'
check "  the summary counts two retries" has '^vm-run: boot retries: 2$'
check "  three boots, no fourth ($(boots))" test "$(boots)" = 3

printf '#!/bin/bash\nmodprobe dmp\necho "dmp loaded"\necho 1 >/proc/sys/kernel/sysrq\necho c >/proc/sysrq-trigger\nsleep 30\n' >"$tmp/panic.sh"
vm "$tmp/panic.sh"
check "a panic after dmp is loaded fails the run (exit $rc)" test "$rc" = 125
check "  at once: one boot ($(boots))" test "$(boots)" = 1
check "  not retried" has '^vm-run: boot retries: 0$'
check "  the failure names the panic" has 'vm-run: FAIL: guest kernel panic (after the payload started)'
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
