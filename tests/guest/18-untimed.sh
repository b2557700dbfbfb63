# dmpstat with the module's default, latency=0 (no request timing), idle and
# under fio: check compares the counts and bytes and says in one line what
# it did not compare; -x shows "-" for the awaits, aqu-sz and %util; JSON has
# "timed": false, null awaits and no timed counters; Prometheus has no
# latency, error, in-flight or busy samples; `dmpstat latency` is an error.
# 16-dmpstat runs the same readers with latency=1.
. "$(dirname "$0")/lib.sh"

dmpstat=/dmp/bin/dmpstat
modprobe dmp
assert_eq "$(cat /sys/module/dmp/parameters/latency)" N "the default of the parameter latency"
loop=$(loop_dev 256)
dmp_dev dmp1 "$loop"
d1=$(kname dmp1)
dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=176 iflag=direct status=none
dd if=/dev/zero of=/dev/mapper/dmp1 bs=1k count=7 oflag=direct status=none
check_exact "$d1"

# readers MODE: every reader once; MODE (idle or busy) names the outputs.
readers() {
	set +e
	$dmpstat check >"/tmp/check-$1.out" 2>"/tmp/check-$1.err"; echo $? >"/tmp/check-$1.rc"
	$dmpstat -x dmp1 1 2 >"/tmp/x-$1.out" 2>"/tmp/x-$1.err"; echo $? >"/tmp/x-$1.rc"
	$dmpstat --json -x dmp1 1 1 >"/tmp/xj-$1.out" 2>"/tmp/xj-$1.err"; echo $? >"/tmp/xj-$1.rc"
	$dmpstat --json >"/tmp/json-$1.out" 2>&1; echo $? >"/tmp/json-$1.rc"
	$dmpstat prometheus >"/tmp/prom-$1.out" 2>&1; echo $? >"/tmp/prom-$1.rc"
	$dmpstat latency dmp1 >"/tmp/lat-$1.out" 2>"/tmp/lat-$1.err"; echo $? >"/tmp/lat-$1.rc"
	set -e
}
judge() { # MODE
	local m=$1
	cat "/tmp/check-$m.err" "/tmp/check-$m.out" "/tmp/x-$m.out"
	assert_eq "$(cat "/tmp/check-$m.rc")" 0 "dmpstat check ($m, latency=0)"
	grep -Ev ': (equal|within bounds.*)$' "/tmp/check-$m.out" && fail "dmpstat check ($m): a result that is not equal or within bounds"
	[ "$m" = busy ] || ! grep -v ': equal$' "/tmp/check-$m.out" || fail "dmpstat check (idle): not all equal"
	assert_eq "$(grep -c . "/tmp/check-$m.out")" 2 "dmpstat check ($m): results for dmp1 and all_devs"
	assert_eq "$(grep -c 'completions, in-flight and times not compared: dmp does not time requests (module parameter latency=0)' "/tmp/check-$m.err")" 1 \
		"dmpstat check ($m): the one line saying what was not compared"
	assert_eq "$(cat "/tmp/x-$m.rc")" 0 "dmpstat -x ($m)"
	grep -q 'latency is off' "/tmp/x-$m.err" || fail "dmpstat -x ($m): says nothing of latency=0: $(cat "/tmp/x-$m.err")"
	awk -v d="$d1" -v busy="$([ "$m" = busy ] && echo 1 || echo 0)" '
		$1 == "NAME" { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$2 == d {
			n++
			for (c in col) if (c ~ /_await$|^aqu-sz$|^%util$/ && $(col[c]) != "-") bad++
			if (busy && !($(col["r/s"]) > 0 && $(col["rareq-sz"]) == 4)) bad++
		}
		END { exit !(n == 2 && bad == 0) }' "/tmp/x-$m.out" || fail "dmpstat -x ($m): a timed column is not '-', or no reads (see above)"
	assert_eq "$(cat "/tmp/xj-$m.rc") $(cat "/tmp/json-$m.rc") $(cat "/tmp/prom-$m.rc")" "0 0 0" "dmpstat --json -x, --json, prometheus ($m)"
	python3 - "$d1" "$m" <<'PY' || fail "JSON or Prometheus output with latency=0 ($m, see above)"
import json, sys
d1, mode = sys.argv[1:3]
timed = ["read_done", "write_done", "read_ns", "write_ns", "in_flight", "io_ticks_ns", "read_errors"]
x = [d for d in json.load(open(f"/tmp/xj-{mode}.out"))["devices"] if d["device"] == d1][0]
assert x["timed"] is False, x
assert all(x[k] is None for k in ["r_await_ms", "w_await_ms", "d_await_ms", "f_await_ms", "aqu_sz", "util_pct"]), x
assert not any(k in x for k in timed) and "latency" not in x, x
assert mode == "idle" or x["r_s"] > 0, x
j = json.load(open(f"/tmp/json-{mode}.out"))
assert j["timed"] is False, j
dev = j["devices"][0]
assert dev["read_reqs"] >= 176 and not any(k in dev for k in timed), dev
prom = open(f"/tmp/prom-{mode}.out").read()
assert f'dmp_reads_total{{device="{d1}",name="dmp1"}}' in prom, prom[:300]
for m in ["dmp_read_latency_seconds_bucket{", "dmp_read_errors_total{", "dmp_in_flight_requests{", "dmp_io_time_seconds_total{"]:
    assert m not in prom, m
print(f"{mode}: -x JSON", json.dumps(x, sort_keys=True)[:200])
PY
	assert_eq "$(cat "/tmp/lat-$m.rc")" 5 "dmpstat latency with latency=0 ($m): an error"
	grep -q 'dmp does not time requests' "/tmp/lat-$m.err" || fail "dmpstat latency ($m): $(cat "/tmp/lat-$m.err")"
}

readers idle
judge idle

fio --name=busy --filename=/dev/mapper/dmp1 --rw=randrw --bs=4k --direct=1 --ioengine=psync \
	--numjobs=2 --size=64m --time_based --runtime=30 --thread --group_reporting \
	--output-format=terse >/tmp/fio-busy.out 2>&1 &
fio_pid=$!
for _ in $(seq 600); do
	[ "$(stat_of "$d1" read_cnt)" -gt 200 ] && [ "$(stat_of "$d1" write_cnt)" -gt 7 ] && break
	sleep 0.1
done
readers busy
kill -0 "$fio_pid" 2>/dev/null; fio_was_running=$?
kill "$fio_pid" 2>/dev/null || true
wait "$fio_pid" 2>/dev/null || true
assert_eq "$fio_was_running" 0 "fio still ran while dmpstat read"
judge busy

# Idle again: exact.
$dmpstat check >/tmp/check-after.out 2>/dev/null || fail "dmpstat check after fio: $(cat /tmp/check-after.out)"
assert_eq "$(cat /tmp/check-after.out)" "$d1 (dmp1): equal
all_devs: equal" "dmpstat check once idle after fio"
check_exact "$d1"
dmsetup remove dmp1
cleanup_all
