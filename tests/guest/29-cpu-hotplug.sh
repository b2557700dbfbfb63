# CPUs that go offline and come back during I/O: dmp's per-CPU counters of an
# offlined CPU still count (they are summed over every possible CPU, not the
# online ones), so the counts stay exact against the dm core's accounting
# while fio runs on every CPU, and with every CPU but the boot CPU offline.
# Timing is on (latency=1): no request is left in flight either.
. "$(dirname "$0")/lib.sh"

hot=()
for c in /sys/devices/system/cpu/cpu[1-9]*; do
	[ -f "$c/online" ] && hot+=("$c")
done
[ "${#hot[@]}" -ge 1 ] || fail "no CPU that can go offline here (needs 2 or more CPUs and CONFIG_HOTPLUG_CPU)"
ncpu=$(nproc)
modprobe dmp latency=1
zero_dev zero1 $((256 * 2048))
dmp_dev dmp1 /dev/mapper/zero1
d=$(kname dmp1)
echo 1 >"$STAT/reset"

fio --name=hotplug --filename=/dev/mapper/dmp1 --rw=randrw --bsrange=512-64k --direct=1 \
	--ioengine=psync --numjobs="$ncpu" --size=64m --io_size=16m --thread \
	--group_reporting --output-format=terse >/dev/null &
fio_pid=$!
cycles=0
while kill -0 "$fio_pid" 2>/dev/null; do
	for c in "${hot[@]}"; do
		echo 0 >"$c/online" || { kill "$fio_pid"; fail "$c: could not go offline"; }
		sleep 0.2
		echo 1 >"$c/online" || { kill "$fio_pid"; fail "$c: could not come back online"; }
		sleep 0.2
		cycles=$((cycles + 1))
	done
done
wait "$fio_pid" || fail "fio failed"
[ "$cycles" -ge 2 ] || fail "only $cycles offline/online cycles during fio"
note "$ncpu CPUs, ${#hot[@]} hot-pluggable, $cycles offline/online cycles during fio; $(stat_of "$d" total_cnt) requests"
check_exact "$d"

# Every CPU but the boot CPU offline: what the others counted is still there.
# Each of them first reads 5 blocks itself (taskset), so that it holds counts.
for c in "${hot[@]}"; do
	taskset -c "${c##*/cpu}" dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=5 iflag=direct status=none
done
check_exact "$d"
before=$(cat "$STAT/$d/summary" "$STAT/all_devs/summary")
for c in "${hot[@]}"; do echo 0 >"$c/online"; done
assert_eq "$(nproc)" 1 "CPUs online with the others offline"
assert_eq "$(cat "$STAT/$d/summary" "$STAT/all_devs/summary")" "$before" "summaries with the other CPUs offline"
check_exact "$d"
assert_eq "$(dmsetup status dmp1 | cut -d' ' -f11)" 0 "requests in flight"
dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=3 iflag=direct status=none
check_exact "$d"
for c in "${hot[@]}"; do echo 1 >"$c/online"; done
assert_eq "$(nproc)" "$ncpu" "CPUs online again"
check_exact "$d"
cleanup_all
