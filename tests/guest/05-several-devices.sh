# Several dmp devices at once: each has its own directory and counters, and
# the aggregate (volumes, all_devs) is their sum, including removed devices.
. "$(dirname "$0")/lib.sh"

modprobe dmp
for i in 1 2 3; do
	zero_dev "zero$i" 65536
	dmp_dev "dmp$i" "/dev/mapper/zero$i"
done
echo 1 >"$STAT/reset"
for i in 1 2 3; do
	dd if="/dev/mapper/dmp$i" of=/dev/null bs=4k count=$((10 * i)) iflag=direct status=none
	dd if=/dev/zero of="/dev/mapper/dmp$i" bs=512 count=$i oflag=direct status=none
done
for i in 1 2 3; do
	d=$(kname "dmp$i")
	assert_eq "$(stat_of "$d" read_cnt)" $((10 * i)) "dmp$i reads"
	assert_eq "$(stat_of "$d" write_cnt)" "$i" "dmp$i writes"
	assert_eq "$(cat "$STAT/$d/name")" "dmp$i" "dmp$i name"
done
assert_eq "$(stat_of all_devs read_cnt)" 60 "aggregate reads"
assert_eq "$(stat_of all_devs write_cnt)" 6 "aggregate writes"
assert_eq "$(stat_of all_devs total_avr_bs)" $(( (60 * 4096 + 6 * 512) / 66 )) "aggregate average"
cmp -s "$STAT/volumes" "$STAT/all_devs/summary" || fail "volumes differs from all_devs/summary"

# A removed device's counts stay in the aggregate; its directory goes.
d2=$(kname dmp2)
dmsetup remove dmp2
[ ! -e "$STAT/$d2" ] || fail "$STAT/$d2 still present after dmsetup remove"
assert_eq "$(stat_of all_devs read_cnt)" 60 "aggregate reads after removing dmp2"
# A per-device reset does not change the aggregate; a global one does.
echo 1 >"$STAT/$(kname dmp1)/reset"
assert_eq "$(stat_of "$(kname dmp1)" read_cnt)" 0 "dmp1 reads after its reset"
assert_eq "$(stat_of all_devs read_cnt)" 60 "aggregate after a device reset"
echo 1 >"$STAT/reset"
assert_eq "$(stat_of all_devs read_cnt)" 0 "aggregate after global reset"
assert_eq "$(stat_of "$(kname dmp3)" read_cnt)" 0 "dmp3 after global reset"
cleanup_all
