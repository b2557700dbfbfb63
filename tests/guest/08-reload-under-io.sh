# `dmsetup reload` + resume and suspend/resume while fio runs: I/O continues,
# the statistics survive every table swap (they belong to the mapped device),
# and at the end they still equal the dm core's accounting exactly.
. "$(dirname "$0")/lib.sh"

modprobe dmp
zero_dev zero1 $((128 * 1024 * 2))
zero_dev zero2 $((128 * 1024 * 2))
dmp_dev dmp1 /dev/mapper/zero1
d=$(kname dmp1)
size=$(blockdev --getsz /dev/mapper/dmp1)
fio --name=io --filename=/dev/mapper/dmp1 --rw=randrw --bs=4k --direct=1 --ioengine=psync \
	--numjobs=4 --thread --time_based --runtime=12 --size=64m >/dev/null &
fio_pid=$!
sleep 1
prev=0
for i in $(seq 1 10); do
	if [ $((i % 2)) = 0 ]; then backing=/dev/mapper/zero1; else backing=/dev/mapper/zero2; fi
	dmsetup reload dmp1 --table "0 $size dmp $backing"
	dmsetup resume dmp1
	dmsetup suspend dmp1
	dmsetup resume dmp1
	[ -d "$STAT/$d" ] || fail "statistics directory gone after reload $i"
	now=$(stat_of "$d" total_cnt)
	[ "$now" -ge "$prev" ] || fail "counters went back after reload $i: $prev -> $now"
	prev=$now
	sleep 0.5
done
wait "$fio_pid" || fail "fio failed during reloads"
assert_eq "$(dmsetup table dmp1 | awk '{print $3}')" dmp "table after reloads"
[ "$(stat_of "$d" total_cnt)" -gt 100 ] || fail "too little I/O counted"
check_exact "$d"
# Loading a table and dropping it again (no resume) leaves the stats alone.
dmsetup reload dmp1 --table "0 $size dmp /dev/mapper/zero2"
dmsetup clear dmp1
[ -d "$STAT/$d" ] || fail "statistics directory gone after clearing an inactive table"
check_exact "$d"
cleanup_all
