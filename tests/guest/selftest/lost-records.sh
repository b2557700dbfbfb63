# Runner self-test (run by 00-runner, not in the suite): stop the runner's
# kernel log reader, overwrite the whole ring buffer, let it go on. The
# records it could not read are lost (/dev/kmsg read fails with EPIPE); the
# runner must fail the test with "kernel log records lost". The other readers
# (the outer runner's) are waited for, so that they lose nothing.
. "$(dirname "$0")/../lib.sh"
: "${DMP_KLOG_READER_PID:?run by the runner}" "${DMP_KLOG:?}"
readers=()
IFS=: read -r -a all <<<"${DMP_KLOG_ALL:-}"
for r in "${all[@]}"; do [ "$r" = "$DMP_KLOG" ] || readers+=("$r"); done
kill -STOP "$DMP_KLOG_READER_PID"
trap 'kill -CONT "$DMP_KLOG_READER_PID"' EXIT
python3 "$(dirname "$0")/../klog" flood 2x "${readers[@]}"
