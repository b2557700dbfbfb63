# The per-device directory appears with the device and disappears with it;
# reading its files while devices come and go never crashes; a file held open
# across the removal of its device reads as an error afterwards, not garbage.
. "$(dirname "$0")/lib.sh"

modprobe dmp
zero_dev zero1 65536
dmp_dev dmp1 /dev/mapper/zero1
d=$(kname dmp1)
[ -d "$STAT/$d" ] || fail "$STAT/$d missing"
for f in read_cnt write_cnt total_cnt read_avr_bs write_avr_bs total_avr_bs summary read_bytes \
	write_bytes discard_cnt discard_bytes flush_cnt histogram stat latency name; do
	assert_eq "$(stat -c %a "$STAT/$d/$f")" 400 "mode of $d/$f"
done
assert_eq "$(stat -c %a "$STAT/$d/reset")" 200 "mode of $d/reset"

exec 3<"$STAT/$d/summary"
dmsetup remove dmp1
[ ! -e "$STAT/$d" ] || fail "$STAT/$d still present after remove"
if cat <&3 >/dev/null 2>&1; then fail "reading a removed device's file succeeded"; fi
exec 3<&-

# Readers of every file in a loop while devices are created and removed.
( end=$((SECONDS + 8)); while [ $SECONDS -lt $end ]; do
	cat "$STAT"/volumes "$STAT"/*/* >/dev/null 2>&1 || true
done ) &
reader=$!
for i in $(seq 1 40); do
	dmsetup create "cyc$i" --table "0 65536 dmp /dev/mapper/zero1"
	dd if="/dev/mapper/cyc$i" of=/dev/null bs=4k count=2 iflag=direct status=none
	dmsetup remove "cyc$i"
done
wait "$reader"
assert_eq "$(ls -d "$STAT"/dm-* 2>/dev/null | wc -l)" 0 "device directories left"
assert_eq "$(stat_of all_devs read_cnt)" 80 "aggregate keeps removed devices' reads"
cleanup_all
