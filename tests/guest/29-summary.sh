# Hardening summary (issue 6, item 6): the table of the hardening tests run in
# this boot (tests/guest/2N-*.sh record into /tmp through hardening-summary):
# each test, whether it got to its end, its bad inputs and cycles, the totals,
# and the kernel reports (BUG, WARNING, KASAN, UBSAN, lockdep, kmemleak...) of
# the whole boot. Fails if a hardening test did not finish or the kernel
# reported anything.
. "$(dirname "$0")/lib.sh"

summary=$("$(dirname "$0")/hardening-summary" table) && rc=0 || rc=$?
# The runner shows the report under the test's result line, passed or failed
# (and the output only on failure: the table is written once).
if [ -n "${DMP_TEST_REPORT:-}" ]; then
	echo "$summary" >"$DMP_TEST_REPORT"
else
	echo "$summary"
fi
# The next run of the suite in this boot starts a new table.
rm -f "${DMP_HARDENING_TALLY:-/tmp/dmp-hardening.tally}"
[ "$rc" = 0 ] || fail "a hardening test did not finish or the kernel reported something (see the table)"
