# Requests that start on one CPU and end on another: the in-flight gauge (a
# sum of per-CPU +1s at map and -1s at completion, read one CPU after the
# other) must never read "negative" (near 2^64), in dmsetup status nor in the
# stat file. fio submits on CPU 0 only (taskset); the loop device below dmp
# completes on CPU 1 only: its worker runs on an unbound workqueue, whose
# CPUs are set to CPU 1, and rq_affinity=0 completes where the worker runs.
# A reader on CPU 1 samples the stat file's in-flight field meanwhile; the
# sum is read CPU 0 first, so a request started after that and ended before
# CPU 1 is read is what would make it wrap.
# What this test cannot do: force that race. A whole request (here about
# 0.3 ms) would have to fit between the reader's two per-CPU reads; with the
# clamp removed (in_flight_gauge returning the raw sum) it passed 3 times out
# of 3 (8,800 and 25,400 samples). The wrap and the clamp are shown on the
# host, over every interleaving, by src/stats/tests/busy_model.rs
# (a_request_and_a_reader_every_interleaving fails without the clamp).
. "$(dirname "$0")/lib.sh"

[ "$(nproc)" -ge 2 ] || fail "needs 2 CPUs"
wq=/sys/devices/virtual/workqueue/cpumask
[ -w "$wq" ] || fail "no $wq: cannot steer the loop device's completions"
old_mask=$(cat "$wq")
restore() { echo "$old_mask" >"$wq"; }
exit_hooks+=(restore)
echo 2 >"$wq"
modprobe dmp latency=1
loop=$(loop_dev 64)
echo 0 >"/sys/block/${loop#/dev/}/queue/rq_affinity"
dmp_dev dmp1 "$loop"
d=$(kname dmp1)
echo 1 >"$STAT/reset"

depth=16
taskset -c 0 fio --name=xcpu --filename=/dev/mapper/dmp1 --rw=randrw --bs=4k --direct=1 \
	--ioengine=libaio --iodepth=$depth --size=64m --io_size=128m --output-format=terse >/dev/null &
fio_pid=$!
taskset -c 1 python3 - "$STAT/$d/stat" "$fio_pid" >/tmp/xcpu.out <<'PY'
import os, sys
path, pid = sys.argv[1], int(sys.argv[2])
n = top = busy = 0
def alive():
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
while alive():
    for _ in range(200):
        with open(path) as f:
            v = int(f.read().split()[8])
        n += 1
        top = max(top, v)
        busy += v > 0
print(n, top, busy)
PY
wait "$fio_pid" || fail "fio failed"
read -r samples top busy </tmp/xcpu.out
rm -f /tmp/xcpu.out
# The workers whose last work was the loop device's ran on CPU 1.
lw=${loop#/dev/}
cpus=$(ps -eo psr,comm | awk -v w="-$lw" '$2 ~ /^kworker\// && index($2, w) { print $1 }' | sort -u | tr '\n' ' ')
[ -z "$cpus" ] || assert_eq "$cpus" "1 " "CPUs of the workers that ran $lw's work"
report="$samples samples of the in-flight field, $busy of them > 0, highest $top (iodepth $depth); $lw's workers last on CPU ${cpus:-(none left named so)}"
note "$report"
[ -z "${DMP_TEST_REPORT:-}" ] || echo "$report" >>"$DMP_TEST_REPORT"
[ "$samples" -ge 1000 ] || fail "only $samples samples"
[ "$busy" -ge 1 ] || fail "never saw a request in flight: the sampling proves nothing"
[ "$top" -le "$depth" ] || fail "in flight read $top, more than fio's iodepth $depth (wrapped?)"
read -r -a st <<<"$(dmsetup status dmp1)"
assert_eq "${st[10]}" 0 "in flight after fio"
check_exact "$d"
cleanup_all
