# Runner self-test (run by 00-runner, not in the suite): raise a real kernel
# report (LKDTM's WARNING_MESSAGE: a WARN with its trace), then flood the
# kernel log until the ring buffer has been overwritten twice. The test itself
# passes; the runner must fail it with "kernel report". Between the markers
# "dmp-test: expected report $DMP_SELFTEST_ID begins/ends" is the report the
# outer runner (running 00-runner) expects.
. "$(dirname "$0")/../lib.sh"
id=${DMP_SELFTEST_ID:?run by 00-runner}
lkdtm=/sys/kernel/debug/provoke-crash/DIRECT
[ -e "$lkdtm" ] || modprobe lkdtm 2>/dev/null || true
echo "dmp-test: expected report $id begins" >/dev/kmsg
if [ -e "$lkdtm" ]; then
	echo WARNING_MESSAGE >"$lkdtm"
	echo "source: LKDTM WARNING_MESSAGE"
else
	# A kernel without LKDTM (a distribution's): the backtrace of every CPU,
	# also a report for the runner (Call Trace).
	echo l >/proc/sysrq-trigger
	echo "source: sysrq l (no LKDTM in this kernel)"
fi
echo "dmp-test: expected report $id ends" >/dev/kmsg
# Twice the ring buffer, paced so that the runners' readers keep up.
IFS=: read -r -a readers <<<"${DMP_KLOG_ALL:-}"
python3 "$(dirname "$0")/../klog" flood 2x "${readers[@]}"
# The ring buffer no longer holds the report: slicing `dmesg` cannot find it.
if [ "$(dmesg | grep -c "expected report $id begins")" != 0 ]; then
	fail "the flood did not overwrite the report in the ring buffer"
fi
