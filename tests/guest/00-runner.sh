# The runner (tests/guest/run) itself: run inside this test on purpose-made
# tests (tests/guest/selftest/), it must
#  - pass a clean test that writes a report-like line from userspace;
#  - fail a test that raised a real kernel report (a WARN from LKDTM) even
#    though a flood of messages then overwrote the whole ring buffer (slicing
#    `dmesg` by line count finds nothing then);
#  - fail a test during which its kernel log reader lost records (the reader
#    stopped while the ring buffer wrapped: /dev/kmsg read gives EPIPE);
#  - fail the run when a report comes after a passing test has ended (raised
#    by a job it left behind), naming where: after the last test.
# The WARN is announced to this runner in $DMP_TEST_EXPECT_REPORT: expected
# here, it does not fail this test, but it must be in this test's kernel log.
. "$(dirname "$0")/lib.sh"

here=$(cd "$(dirname "$0")" && pwd)
export DMP_SELFTEST_ID="runner-selftest-$$-$RANDOM"
export DMP_SELFTEST_DONE=/tmp/runner-selftest-done.$$
rm -f "$DMP_SELFTEST_DONE"
echo "$DMP_SELFTEST_ID" >"$DMP_TEST_EXPECT_REPORT"
set +e
out=$(bash "$here/run" selftest/passes selftest/warn-after-flood selftest/lost-records selftest/warn-later 2>&1)
rc=$?
set -e
# The late report is inside this test's window (expected): wait for its job.
for i in $(seq 600); do [ -e "$DMP_SELFTEST_DONE" ] && break; sleep 0.1; done
[ -e "$DMP_SELFTEST_DONE" ] || fail "warn-later's job did not raise its report within 60 s"
rm -f "$DMP_SELFTEST_DONE"
# Expected here, so out of the ring buffer too (vm-run judges the dmesg left
# at the end): twice the ring buffer, paced for this runner's readers.
IFS=: read -r -a readers <<<"${DMP_KLOG_ALL:-}"
python3 "$here/klog" flood 2x "${readers[@]}" >/dev/null
echo "$out"
# Shown under this test's result line: what the inner runner said.
grep -E '^(ok   |FAIL |[0-9]+ passed, )' <<<"$out" | sed 's/^/inner runner: /' >"$DMP_TEST_REPORT"
assert_eq "$rc" 1 "exit status of the runner on the failing self-tests"
grep -Eq '^ok   passes \([0-9.]+s\)$' <<<"$out" ||
	fail "a clean test (with a userspace 'WARNING:' line) did not pass"
grep -Eq '^FAIL warn-after-flood \([0-9.]+s\): kernel report in dmesg$' <<<"$out" ||
	fail "the WARN overwritten in the ring buffer was not reported as the only failure"
# The report shown is the WARN (or the backtrace of a kernel without LKDTM).
sed -n '/^FAIL warn-after-flood/,/^\(ok\|FAIL\) /p' <<<"$out" |
	grep -Eq '^     \| (WARNING: .*lkdtm|Call Trace:)' ||
	fail "the report is not shown under the failure"
grep -Eq '^FAIL lost-records \([0-9.]+s\): kernel log records lost \([0-9]+ records, seq [0-9]+-[0-9]+\)[^;]*$' <<<"$out" ||
	fail "records lost by the reader were not reported as the only failure"
grep -Eq '^ok   warn-later \([0-9.]+s\)$' <<<"$out" ||
	fail "warn-later's own window (the report comes after it) did not pass"
grep -qx 'FAIL after the last test (warn-later): kernel report in dmesg' <<<"$out" ||
	fail "the report raised after the last test ended was not reported as outside the tests"
sed -n '/^FAIL after the last test/,$p' <<<"$out" |
	grep -Eq '^     \| (WARNING: .*lkdtm|Call Trace:)' ||
	fail "the late report is not shown under its failure"
assert_eq "$(tail -n 1 <<<"$out")" "2 passed, 3 failed" "the runner's last line"
