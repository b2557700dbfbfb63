# Fault injection into the constructor of a new device (debug kernel only;
# see fault-lib.sh): every allocation made by dmp's constructor for
# `dmsetup create`, the device's statistics and its directory
# /sys/module/dmp/stat/dm-N included (made by the first dmp target of a mapped
# device), fails once in turn. Each failure refuses the table with dm's error
# naming dmp, leaves no device and no directory behind, and the next try
# without injection works (a new device counts a 4 KiB read). The runner then
# checks that the kernel reported nothing and kmemleak finds nothing.
# dmp-test-timeout-debug: 5400
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fault-lib.sh"
fi_require
trap 'rc=$?; fi_teardown; if [ $rc != 0 ]; then echo "  (exit $rc at line $LINENO)" >&2; cleanup_all >/dev/null 2>&1 || true; fi' EXIT
fi_setup
modprobe dmp
zero_dev fizero 8192
start=$SECONDS

# create: a new device, its statistics and directory.
failed=0 absorbed=0 msgs=""
for n in $(seq 1 400); do
	seq0=$(klog_mark)
	fi_run "$n" dmsetup create fi1 --table "0 8192 dmp /dev/mapper/fizero"
	[ "$FI_INJECTED" = 1 ] || break
	if [ "$FI_RC" != 0 ]; then
		failed=$((failed + 1))
		grep -qiE 'failed|cannot|error' "$FI_OUT" || fail "create, point $n: refused without a clear error: $(cat "$FI_OUT")"
		err=$(fi_dmp_errors "$seq0" | sed -n 's/.*dmp: //p' | awk 'NR == 1')
		[ -n "$err" ] || fail "create, point $n: dm logged no dmp error ($(klog_since "$seq0" | tail -n 3))"
		msgs+="$err"$'\n'
		fi_no_leftovers "create, point $n"
	else
		# The allocation failed and the create still succeeded (a lost
		# uevent, kmemleak's own metadata): the device must work.
		absorbed=$((absorbed + 1))
		d=$(kname fi1)
		dd if=/dev/mapper/fi1 of=/dev/null bs=4k count=1 iflag=direct status=none
		assert_eq "$(stat_of "$d" read_cnt)" 1 "create, point $n (absorbed): read_cnt"
		dmsetup remove fi1
		fi_no_leftovers "create, point $n (absorbed), after remove"
	fi
	fi_works fi2 fizero "create, point $n"
done
[ "$FI_INJECTED" = 0 ] || fail "create: still injecting at point 400"
[ "$FI_RC" = 0 ] || fail "create without an injected failure failed: $(cat "$FI_OUT")"
dmsetup remove fi1
create_points=$((n - 1)) create_failed=$failed create_absorbed=$absorbed
create_msgs=$(sort <<<"$msgs" | uniq -c | sed '/^ *[0-9]* *$/d')
create_secs=$((SECONDS - start))
[ "$create_failed" -gt 0 ] || fail "create: no failure point found (is the stack filter right?)"

fi_teardown
dmsetup remove fizero
rmmod dmp
[ ! -e /sys/module/dmp ] || fail "the module did not unload"

report() {
	echo "fault injection, constructor of a new device (allocations with dmp code on the stack, one failing at a time):"
	echo "  dmsetup create: $create_points points: $create_failed refused the table, $create_absorbed absorbed (${create_secs}s)"
	sed 's/^/      /' <<<"$create_msgs"
}
report
[ -z "${DMP_TEST_REPORT:-}" ] || report >>"$DMP_TEST_REPORT"
