# Runner self-test (run by 00-runner, not in the suite): a clean test, with a
# userspace line that looks like a report. The runner must pass it: only the
# kernel's own records are reports.
. "$(dirname "$0")/../lib.sh"
echo "WARNING: written to /dev/kmsg by userspace, not a kernel report" >/dev/kmsg
