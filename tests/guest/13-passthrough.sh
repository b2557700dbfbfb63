# Full pass-through like dm-linear: flush, discard and write-zeroes reach the
# device and are counted by the documented rule; limits are inherited.
. "$(dirname "$0")/lib.sh"

modprobe dmp
loop=$(loop_dev 64)
l=$(basename "$loop")
dmp_dev dmp1 "$loop"
d=$(kname dmp1)
for q in logical_block_size physical_block_size max_sectors_kb discard_granularity discard_max_bytes write_zeroes_max_bytes; do
	assert_eq "$(cat /sys/block/"$d"/queue/$q)" "$(cat /sys/block/"$l"/queue/$q)" "queue/$q inherited"
done
echo 1 >"$STAT/$d/reset"
flush_before=$(diskstat "$l" 16)
dd if=/dev/urandom of=/dev/mapper/dmp1 bs=64k count=4 oflag=direct conv=fsync status=none
[ "$(diskstat "$l" 16)" -gt "$flush_before" ] || fail "the flush did not reach $l"
# One fsync sends exactly one empty flush: counted once as a flush (and, by
# the counting rule, as a write of 0 bytes after the 4 data writes).
assert_eq "$(stat_of "$d" flush_cnt)" 1 "flushes after one fsync"
assert_eq "$(stat_of "$d" write_cnt) $(stat_of "$d" write_bytes)" "5 262144" "writes (4 of 64 KiB and the empty flush)"
blkdiscard -o 0 -l 1M /dev/mapper/dmp1
[ "$(stat_of "$d" discard_cnt)" -ge 1 ] || fail "discard not counted"
assert_eq "$(stat_of "$d" discard_bytes)" 1048576 "discard bytes"
assert_eq "$(dd if="$loop" bs=64k count=4 iflag=direct status=none | tr -d '\0' | wc -c)" 0 "discarded range reads as zeroes"
dd if=/dev/urandom of=/dev/mapper/dmp1 bs=64k count=4 seek=32 oflag=direct status=none
# Write-zeroes is a write: requests and bytes exactly as the dm core saw them
# (the kernel may follow a write-zeroes the device below fails with plain
# writes of zeroes, blkdev_issue_zeroout: both are writes, both counted).
w_before=$(stat_of "$d" write_cnt) wb_before=$(stat_of "$d" write_bytes)
core_before=$(diskstat "$d" 5) cores_before=$(diskstat "$d" 7)
blkdiscard -z -o $((2 * 1048576)) -l 256k /dev/mapper/dmp1
assert_eq "$(dd if="$loop" bs=64k skip=32 count=4 iflag=direct status=none | tr -d '\0' | wc -c)" 0 "write-zeroes range reads as zeroes"
assert_eq "$(( $(stat_of "$d" write_cnt) - w_before )) $(( $(stat_of "$d" write_bytes) - wb_before ))" \
	"$(( $(diskstat "$d" 5) - core_before )) $(( ($(diskstat "$d" 7) - cores_before) * 512 ))" \
	"write-zeroes as writes (requests and bytes vs the dm core's)"
# Secure erase: no device here supports it (loop does not; dm offers it only
# when every device below does), so the block layer refuses BLKSECDISCARD
# before dmp sees a bio. What can be checked: refused, and nothing counted
# (-f: without it blkdiscard first reads the device for signatures).
# dmp's mapping of REQ_OP_SECURE_ERASE itself is not exercised here.
before=$(cat "$STAT/$d/stat" "$STAT/$d/summary")
if blkdiscard -f -s -o 0 -l 64k /dev/mapper/dmp1 2>/tmp/secdiscard.err; then
	fail "secure erase accepted on a device that cannot do it"
fi
grep -q 'not supported' /tmp/secdiscard.err || fail "secure erase refused for another reason: $(cat /tmp/secdiscard.err)"
assert_eq "$(cat "$STAT/$d/stat" "$STAT/$d/summary")" "$before" "counters after a refused secure erase"
check_exact "$d"
cleanup_all
