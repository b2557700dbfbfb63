# Fault injection into module init (debug kernel only; see fault-lib.sh):
# every allocation made by dmp's init (the statistics tree: the `stat` kset,
# its files, all_devs and its files, their uevents; the target type) fails
# once in turn. Each failure refuses the load with modprobe's error and
# leaves no module and no sysfs directory behind; the next load (the next
# point's) gets further, and after every fourth failure and the last one a
# load without injection works in full: a device is created, counts a 4 KiB
# read, and the module unloads. (Every failure in full would not fit the
# time limit below: on the debug kernel each unload and each device removal
# waits for delayed kobject releases, 1-4 s each.) The runner then
# checks that the kernel reported nothing and kmemleak finds nothing.
# dmp-test-timeout-debug: 5400
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fault-lib.sh"
[ ! -e /sys/module/dmp ] || fail "dmp is loaded before the test"
fi_require
trap 'rc=$?; fi_teardown; if [ $rc != 0 ]; then echo "  (exit $rc at line $LINENO)" >&2; cleanup_all >/dev/null 2>&1 || true; fi' EXIT
fi_setup
zero_dev fizero 8192
start=$SECONDS
failed=0 absorbed=0 errs=""
for n in $(seq 1 400); do
	fi_run "$n" modprobe dmp
	[ "$FI_INJECTED" = 1 ] || break
	if [ "$FI_RC" != 0 ]; then
		failed=$((failed + 1))
		grep -qiE 'could not insert|cannot allocate' "$FI_OUT" || fail "load, point $n: refused without a clear error: $(cat "$FI_OUT")"
		errs+="$(sed -n 's/.*could not insert .dmp.: //p' "$FI_OUT" | awk 'NR == 1')"$'\n'
		[ ! -e /sys/module/dmp ] || fail "load, point $n: refused, but /sys/module/dmp exists"
		grep -qw dmp /proc/modules && fail "load, point $n: refused, but dmp is in /proc/modules"
	else
		absorbed=$((absorbed + 1))
		[ -d "$STAT/all_devs" ] || fail "load, point $n (absorbed): loaded without $STAT/all_devs"
	fi
	# A load without injection works, the module counts, and unloads.
	if [ -e /sys/module/dmp ] || [ $((failed % 4)) = 0 ]; then
		[ -e /sys/module/dmp ] || modprobe dmp
		fi_works fi2 fizero "load, point $n"
		rmmod dmp
		[ ! -e /sys/module/dmp ] || fail "load, point $n: the module did not unload"
	fi
done
[ "$FI_INJECTED" = 0 ] || fail "load: still injecting at point 400"
[ "$FI_RC" = 0 ] || fail "load without an injected failure failed: $(cat "$FI_OUT")"
points=$((n - 1)) secs=$((SECONDS - start))
[ "$failed" -gt 0 ] || fail "load: no failure point found (is the stack filter right?)"
fi_teardown
fi_works fi2 fizero "final"
dmsetup remove fizero
rmmod dmp

report() {
	echo "fault injection, module init (allocations with dmp code on the stack, one failing at a time):"
	echo "  modprobe dmp: $points points: $failed refused the load, $absorbed absorbed (${secs}s)"
	sort <<<"$errs" | uniq -c | sed '/^ *[0-9]* *$/d; s/^/      /'
}
report
[ -z "${DMP_TEST_REPORT:-}" ] || report >>"$DMP_TEST_REPORT"
