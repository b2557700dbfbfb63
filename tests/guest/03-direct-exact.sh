# Direct I/O with known sizes gives exactly known numbers: the example of the
# old README (176 reads of 4 KiB, 7 writes of 1 KiB), byte for byte.
. "$(dirname "$0")/lib.sh"

modprobe dmp
zero_dev zero1 $((64 * 1024 * 2))
dmp_dev dmp1 /dev/mapper/zero1
d=$(kname dmp1)
# Opening the device may read (partition scan): start from zero.
echo 1 >"$STAT/reset"

dd if=/dev/mapper/dmp1 of=/dev/null bs=4096 count=176 iflag=direct status=none
dd if=/dev/zero of=/dev/mapper/dmp1 bs=1024 count=7 oflag=direct status=none

expected=$'read:\n reqs: 176\n avg size: 4096\nwrite:\n reqs: 7\n avg size: 1024\ntotal:\n reqs: 183\n avg size: 3978'
assert_eq "$(cat "$STAT/volumes")" "$expected" "volumes"
assert_eq "$(cat "$STAT/$d/summary")" "$expected" "$d/summary"
assert_eq "$(stat_of "$d" read_cnt)" 176 read_cnt
assert_eq "$(stat_of "$d" write_cnt)" 7 write_cnt
assert_eq "$(stat_of "$d" total_cnt)" 183 total_cnt
assert_eq "$(stat_of "$d" read_avr_bs)" 4096 read_avr_bs
assert_eq "$(stat_of "$d" write_avr_bs)" 1024 write_avr_bs
assert_eq "$(stat_of "$d" total_avr_bs)" 3978 total_avr_bs
assert_eq "$(stat_of "$d" read_bytes)" $((176 * 4096)) read_bytes
assert_eq "$(stat_of "$d" write_bytes)" $((7 * 1024)) write_bytes
assert_eq "$(stat_of all_devs total_avr_bs)" 3978 all_devs/total_avr_bs
# The histogram puts the 4 KiB reads and the 1 KiB writes in their buckets.
assert_eq "$(awk '$1 == "4K" { print $2 }' "$STAT/$d/histogram")" 176 "histogram 4K reads"
assert_eq "$(awk '$1 == "1K" { print $3 }' "$STAT/$d/histogram")" 7 "histogram 1K writes"
assert_eq "$(awk '{ r += $2; w += $3 } END { print r, w }' "$STAT/$d/histogram")" "176 7" "histogram totals"
# dmsetup status shows the same counters.
assert_eq "$(dmsetup status dmp1 | cut -d' ' -f4-10)" "176 720896 7 7168 0 0 0" "dmsetup status"
cleanup_all
