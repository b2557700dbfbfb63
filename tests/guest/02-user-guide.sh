# The old user guides' procedure: a zero device, a dmp device over it, dd
# reads and writes, `cat volumes`, the per-device files, reset.
. "$(dirname "$0")/lib.sh"

modprobe dmp
zero_dev zero1 $((200 * 1024 * 2))      # 200 MiB
dmp_dev dmp1 /dev/mapper/zero1
d=$(kname dmp1)
[ -d "$STAT/$d" ] || fail "no $STAT/$d after dmsetup create"
assert_eq "$(cat "$STAT/$d/name")" dmp1 "$d/name"

dd if=/dev/random of=/dev/mapper/dmp1 bs=4k count=1 status=none
dd of=/dev/null if=/dev/mapper/dmp1 bs=4k count=1 status=none
cat "$STAT/volumes"
# Buffered I/O goes through the page cache: the numbers are whatever reached
# the device, which dm core counted too.
check_exact "$d"
[ "$(stat_of "$d" write_cnt)" -ge 1 ] || fail "no write counted"

for f in read_cnt write_cnt total_cnt read_avr_bs write_avr_bs total_avr_bs; do
	grep -Eqx '[0-9]+' "$STAT/$d/$f" || fail "$d/$f is not one number: $(cat "$STAT/$d/$f")"
done
assert_eq "$(stat_of "$d" total_cnt)" "$(( $(stat_of "$d" read_cnt) + $(stat_of "$d" write_cnt) ))" "total_cnt"
# volumes, from the dm core's accounting of the one device (its stat file:
# requests and sectors), not from dmp's own counters: avg size is bytes /
# requests, rounded down, 0 without requests.
read -r -a core <"/sys/block/$d/stat"
r=${core[0]} rb=$((core[2] * 512)) w=${core[4]} wb=$((core[6] * 512))
assert_eq "$(cat "$STAT/volumes")" "$(summary_text "$r" "$rb" "$w" "$wb")" "volumes vs the dm core's accounting"
cmp -s "$STAT/volumes" "$STAT/all_devs/summary" || fail "volumes differs from all_devs/summary"
cmp -s "$STAT/volumes" "$STAT/$d/summary" || fail "one device: volumes differs from its summary"

echo 1 >"$STAT/reset"
expected=$'read:\n reqs: 0\n avg size: 0\nwrite:\n reqs: 0\n avg size: 0\ntotal:\n reqs: 0\n avg size: 0'
assert_eq "$(cat "$STAT/volumes")" "$expected" "volumes after reset"
assert_eq "$(cat "$STAT/$d/summary")" "$expected" "$d/summary after reset"
cleanup_all
