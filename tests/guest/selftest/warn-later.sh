# Runner self-test (run by 00-runner, not in the suite): a test that passes
# and leaves behind something that raises a kernel report after it has ended,
# as a deferred kobject release or an RCU callback would. A job outside the
# test waits until the runner has closed this test's window (its end marker
# is in the runner's kernel log copy), then raises the report (LKDTM's
# WARNING_MESSAGE, or sysrq l's backtraces). The runner must fail the run with
# "after the last test (warn-later): kernel report in dmesg", not pass this
# test's window or lose the report. The job brackets the report with the outer
# runner's "expected report" markers and touches $DMP_SELFTEST_DONE when done.
. "$(dirname "$0")/../lib.sh"
: "${DMP_SELFTEST_ID:?run by 00-runner}" "${DMP_SELFTEST_DONE:?run by 00-runner}" "${DMP_KLOG:?run by the runner}"
lkdtm=/sys/kernel/debug/provoke-crash/DIRECT
[ -e "$lkdtm" ] || modprobe lkdtm 2>/dev/null || true
export lkdtm
setsid bash -c '
	for i in $(seq 1200); do
		grep -qF " dmp-test: end warn-later (runner " "$DMP_KLOG" && break
		sleep 0.05
	done
	echo "dmp-test: expected report $DMP_SELFTEST_ID begins" >/dev/kmsg
	if [ -e "$lkdtm" ]; then echo WARNING_MESSAGE >"$lkdtm"; else echo l >/proc/sysrq-trigger; fi
	echo "dmp-test: expected report $DMP_SELFTEST_ID ends" >/dev/kmsg
	touch "$DMP_SELFTEST_DONE"
' </dev/null >/dev/null 2>&1 &
echo "the report is raised after this test's end marker (job $!)"
