# Hardening summary (issue 6, item 6): the table of the hardening tests run in
# this boot (tests/guest/2N-*.sh record into /tmp through hardening-summary):
# each test, whether it got to its end, its bad inputs and cycles, the totals,
# and the kernel reports (BUG, WARNING, KASAN, UBSAN, lockdep, kmemleak...) of
# the whole boot. Fails if a hardening test did not finish or the kernel
# reported anything.
#
# The runner shows a passing test's output only on failure; the table is also
# written to the runner's own output (the nearest ancestor process whose
# stdout is not this test's captured stdout), so that every run shows it.
. "$(dirname "$0")/lib.sh"

summary=$("$(dirname "$0")/hardening-summary" table) && rc=0 || rc=$?
echo "$summary"
mine=$(readlink "/proc/$$/fd/1" || true)
pid=$PPID
while [ "${pid:-0}" -gt 1 ]; do
	theirs=$(readlink "/proc/$pid/fd/1" 2>/dev/null || true)
	if [ -n "$theirs" ] && [ "$theirs" != "$mine" ]; then
		[ -w "/proc/$pid/fd/1" ] && sed 's/^/     | /' <<<"$summary" >"/proc/$pid/fd/1" 2>/dev/null || true
		break
	fi
	pid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
done
# The next run of the suite in this boot starts a new table.
rm -f "${DMP_HARDENING_TALLY:-/tmp/dmp-hardening.tally}"
[ "$rc" = 0 ] || fail "a hardening test did not finish or the kernel reported something (see the table)"
