# Two dmp segments in one table (and another target between them): one
# statistics directory for the device, both segments counted into it, data
# on the right device and sector.
. "$(dirname "$0")/lib.sh"

modprobe dmp
a=$(loop_dev 8)
b=$(loop_dev 8)
dm_create two "0 4096 dmp $a
4096 100 zero
4196 4096 dmp $b"
d=$(kname two)
[ "$(ls -d "$STAT"/dm-* | wc -l)" = 1 ] || fail "expected one device directory: $(ls "$STAT")"
assert_eq "$(dmsetup table two | awk '{print $3}' | tr '\n' ' ')" "dmp zero dmp " "table targets"
echo 1 >"$STAT/$d/reset"
printf 'SEG-A' | dd of=/dev/mapper/two bs=512 seek=10 conv=sync oflag=direct status=none
printf 'SEG-B' | dd of=/dev/mapper/two bs=512 seek=$((4196 + 20)) conv=sync oflag=direct status=none
dd if=/dev/mapper/two of=/dev/null bs=512 skip=4100 count=4 iflag=direct status=none   # zero target: not dmp's
assert_eq "$(dd if="$a" bs=512 skip=10 count=1 status=none iflag=direct | tr -d '\0')" SEG-A "segment A data"
assert_eq "$(dd if="$b" bs=512 skip=20 count=1 status=none iflag=direct | tr -d '\0')" SEG-B "segment B data"
assert_eq "$(stat_of "$d" write_cnt)" 2 "writes of both segments"
assert_eq "$(stat_of "$d" read_cnt)" 0 "reads of the zero segment are not dmp's"
cleanup_all
