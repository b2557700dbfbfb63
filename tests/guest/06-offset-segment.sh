# A dmp segment that starts at sector 1000 of its table maps its first sector
# to sector 0 of the underlying device (the target offset is applied).
. "$(dirname "$0")/lib.sh"

modprobe dmp
loop=$(loop_dev 16)
dm_create off1 "0 1000 zero
1000 8192 dmp $loop"
d=$(kname off1)
printf 'DMP-MARKER-AT-TABLE-SECTOR-1000' | dd of=/dev/mapper/off1 bs=512 seek=1000 conv=sync oflag=direct status=none
printf 'DMP-MARKER-AT-TABLE-SECTOR-3000' | dd of=/dev/mapper/off1 bs=512 seek=3000 conv=sync oflag=direct status=none
got=$(dd if="$loop" bs=512 skip=0 count=1 iflag=direct status=none | tr -d '\0')
assert_eq "$got" DMP-MARKER-AT-TABLE-SECTOR-1000 "underlying sector 0"
got=$(dd if="$loop" bs=512 skip=2000 count=1 iflag=direct status=none | tr -d '\0')
assert_eq "$got" DMP-MARKER-AT-TABLE-SECTOR-3000 "underlying sector 2000"
# Nothing landed where the offset was not applied.
got=$(dd if="$loop" bs=512 skip=1000 count=1 iflag=direct status=none | tr -d '\0')
assert_eq "$got" "" "underlying sector 1000"
# And it reads back through dmp.
got=$(dd if=/dev/mapper/off1 bs=512 skip=3000 count=1 iflag=direct status=none | tr -d '\0')
assert_eq "$got" DMP-MARKER-AT-TABLE-SECTOR-3000 "read back through dmp"
assert_eq "$(stat_of "$d" write_cnt)" 2 "writes counted"
cleanup_all
