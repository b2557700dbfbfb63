#!/usr/bin/env bash
# Host test of scripts/demo-verdict, the judge of the demo run inside
# scripts/test: a good demo output passes, and each way the demo can go
# wrong (a DIFFERENT result, a failed exit, a cut-off run, a check that never
# ran) fails it. Ends with `N passed, N failed`.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
good() {
	cat <<'OUT'
# /dmp/bin/dmpstat check
dmpstat: completions, in-flight and times not compared: dmp does not time requests (module parameter latency=0); ...
dm-1 (dmp1): equal
all_devs: equal

# dmsetup message dmp1 0 reset

demo: dmp worked in kernel 7.3.4-dmp
Rebooting.
[   11.378519] reboot: Restarting system
vm-run: boot retries: 0
OUT
}
verdict() { # NAME WANT(0|1) RC: the verdict on $tmp/out must be WANT
	local out rc
	out=$("$top/scripts/demo-verdict" "$tmp/out" "$3" 2>&1); rc=$?
	if { [ "$2" = 0 ] && [ "$rc" = 0 ]; } || { [ "$2" = 1 ] && [ "$rc" != 0 ]; }; then
		echo "ok   $1"; passed=$((passed + 1))
	else
		echo "FAIL $1 (verdict exit $rc)"; printf '%s\n' "$out" | sed 's/^/     | /'; failed=$((failed + 1))
	fi
}
good >"$tmp/out"; verdict "a good demo passes" 0 0
good >"$tmp/out"; verdict "a demo that exited 1 fails" 1 1
good | sed 's/^dm-1 (dmp1): equal$/dm-1 (dmp1): DIFFERENT\n  read_done: dmp 0, block layer 377440/' >"$tmp/out"
verdict "a DIFFERENT result fails" 1 0
good | sed 's/^all_devs: equal$/all_devs: within bounds (busy: ...)/' >"$tmp/out"
verdict "a bounded result on the idle demo fails" 1 0
good | sed '/^all_devs: equal$/d' >"$tmp/out"; verdict "a check without the aggregate fails" 1 0
good | sed '/^demo: dmp worked/d' >"$tmp/out"; verdict "a run cut off before its last line fails" 1 0
good | sed '/dmpstat check$/,/^$/d' >"$tmp/out"; verdict "a demo whose check never ran fails" 1 0
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
