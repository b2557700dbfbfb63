# Fault injection into the constructor of a table reloaded into a live
# device (debug kernel only; see fault-lib.sh): every allocation made by dmp's
# constructor for `dmsetup reload` (the statistics exist and are shared) fails
# once in turn. Each failure refuses the table with dm's error naming dmp and
# loads nothing; the live device keeps working and counting in the same
# directory, which goes away with it; the next try without injection works.
# The runner then checks that the kernel reported nothing and kmemleak finds
# nothing.
# dmp-test-timeout-debug: 5400
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fault-lib.sh"
fi_require
trap 'rc=$?; fi_teardown; if [ $rc != 0 ]; then echo "  (exit $rc at line $LINENO)" >&2; cleanup_all >/dev/null 2>&1 || true; fi' EXIT
fi_setup
modprobe dmp
zero_dev fizero 8192

start=$SECONDS
failed=0 absorbed=0 msgs=""
for n in $(seq 1 400); do
	dmsetup create fi1 --table "0 8192 dmp /dev/mapper/fizero"
	d=$(kname fi1)
	seq0=$(klog_mark)
	fi_run "$n" dmsetup reload fi1 --table "0 8192 dmp /dev/mapper/fizero"
	injected=$FI_INJECTED
	if [ "$injected" = 1 ] && [ "$FI_RC" != 0 ]; then
		failed=$((failed + 1))
		grep -qiE 'failed|cannot|error' "$FI_OUT" || fail "reload, point $n: refused without a clear error: $(cat "$FI_OUT")"
		err=$(fi_dmp_errors "$seq0" | sed -n 's/.*dmp: //p' | awk 'NR == 1')
		[ -n "$err" ] || fail "reload, point $n: dm logged no dmp error"
		msgs+="$err"$'\n'
		dmsetup table --inactive fi1 | grep dmp >/dev/null && fail "reload, point $n: a refused table is loaded"
	else
		[ "$FI_RC" = 0 ] || fail "reload, point $n: failed with nothing injected: $(cat "$FI_OUT")"
		[ "$injected" = 0 ] || absorbed=$((absorbed + 1))
		dmsetup resume fi1
	fi
	# The device still counts, in the same directory, and goes away whole.
	dd if=/dev/mapper/fi1 of=/dev/null bs=4k count=1 iflag=direct status=none
	assert_eq "$(stat_of "$d" read_cnt)" 1 "reload, point $n: read_cnt after the reload"
	dmsetup remove fi1
	fi_no_leftovers "reload, point $n"
	[ "$injected" = 1 ] || break
	fi_works fi2 fizero "reload, point $n"
done
[ "$injected" = 0 ] || fail "reload: still injecting at point 400"
reload_points=$((n - 1)) reload_failed=$failed reload_absorbed=$absorbed
reload_msgs=$(sort <<<"$msgs" | uniq -c | sed '/^ *[0-9]* *$/d')
reload_secs=$((SECONDS - start))
[ "$reload_failed" -gt 0 ] || fail "reload: no failure point found"

fi_teardown
dmsetup remove fizero
rmmod dmp
[ ! -e /sys/module/dmp ] || fail "the module did not unload"

report() {
	echo "fault injection, constructor of a reloaded table (allocations with dmp code on the stack, one failing at a time):"
	echo "  dmsetup reload: $reload_points points: $reload_failed refused the table, $reload_absorbed absorbed (${reload_secs}s)"
	sed 's/^/      /' <<<"$reload_msgs"
}
report
[ -z "${DMP_TEST_REPORT:-}" ] || report >>"$DMP_TEST_REPORT"
