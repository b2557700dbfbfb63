# dmsetup table round-trips the table (path given as MAJ:MIN by dm core),
# dmsetup status shows the counters, `message reset` resets the device, and
# unknown messages are refused.
. "$(dirname "$0")/lib.sh"

mark=$(klog_mark)
modprobe dmp
zero_dev zero1 8192
dmp_dev dmp1 /dev/mapper/zero1 4096
majmin=$(dmsetup info -c --noheadings -o major,minor zero1 | tr -d ' ')
assert_eq "$(dmsetup table dmp1)" "0 4096 dmp $majmin" "dmsetup table"
# The printed table is accepted back as it is.
dmsetup reload dmp1 --table "$(dmsetup table dmp1)"
dmsetup resume dmp1
assert_eq "$(dmsetup table dmp1)" "0 4096 dmp $majmin" "dmsetup table after round trip"
d=$(kname dmp1)
dmsetup message dmp1 0 reset
dd if=/dev/mapper/dmp1 of=/dev/null bs=2048 count=3 iflag=direct status=none
assert_eq "$(dmsetup status dmp1 | cut -d' ' -f1-10)" "0 4096 dmp 3 6144 0 0 0 0 0" "dmsetup status"
# Then in flight, busy ms, read/write/discard/flush ms, read/write/discard errors.
read -r -a st <<<"$(dmsetup status dmp1)"
assert_eq "${#st[@]}" 19 "fields of dmsetup status"
assert_eq "${st[10]} ${st[13]} ${st[14]} ${st[15]} ${st[16]} ${st[17]} ${st[18]}" "0 0 0 0 0 0 0" "in flight, write/discard/flush ms, errors"
read -r -a f <"$STAT/$d/stat"
assert_eq "${st[11]} ${st[12]}" "${f[9]} ${f[3]}" "busy and read ms: as the stat file"
dmsetup message dmp1 0 reset
assert_eq "$(dmsetup status dmp1)" "0 4096 dmp 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0" "status after message reset"
expect_fail "unknown message" dmsetup message dmp1 0 frobnicate
expect_fail "reset with extra words" dmsetup message dmp1 0 reset now
# Only this test's records: an earlier test's message must not count.
new=$(klog_since "$mark")
grep -q 'dmp: unknown message' <<<"$new" || fail "no kernel message for the unknown message: $new"
cleanup_all

# --- the timed fields, with request timing on (latency=1) ----------------------
# dm-delay under dmp holds every request (reads, writes, discards, flushes) for
# the delay, less up to one jiffy (10 ms at HZ >= 100): each field has a floor
# from the requests sent one after another, and none can exceed the time the
# requests took on the wall clock. The loop device below has discard and a
# write cache (so flushes reach dmp).
modprobe dmp latency=1
loop=$(loop_dev 4)
delay_ms=300
least=$((delay_ms - 10))
dm_create delay1 "0 8192 delay $loop 0 $delay_ms"
dmp_dev dmp1 /dev/mapper/delay1
d=$(kname dmp1)
udevadm settle 2>/dev/null || true
dmsetup message dmp1 0 reset
t0=$(date +%s%N)
# One read held in dm-delay: in flight while it waits.
dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=1 iflag=direct status=none &
reader=$!
for _ in $(seq 100); do
	read -r -a st <<<"$(dmsetup status dmp1)"
	[ "${st[3]}" = 1 ] && break
	sleep 0.01
done
assert_eq "${st[3]} ${st[10]}" "1 1" "reads and in flight while dm-delay holds the read"
wait "$reader"
dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=2 iflag=direct status=none
dd if=/dev/zero of=/dev/mapper/dmp1 bs=4k count=1 oflag=direct status=none
blkdiscard -f -o 0 -l 4096 /dev/mapper/dmp1   # -f: no signature probe (reads)
python3 -c 'import os, sys; fd = os.open(sys.argv[1], os.O_WRONLY); os.fsync(fd); os.close(fd)' /dev/mapper/dmp1
wall=$((($(date +%s%N) - t0) / 1000000))
read -r -a st <<<"$(dmsetup status dmp1)"
read -r -a f <"$STAT/$d/stat"
note "status: ${st[*]}; wall clock ${wall} ms"
# 3 reads, a write and an empty flush (2 writes), a discard, a flush; none in
# flight, none failed.
assert_eq "${st[*]:3:8} ${st[*]:16:3}" "3 12288 2 4096 1 4096 1 0 0 0 0" "counts, in flight and errors with latency=1"
# busy, read, write, discard, flush ms: the status fields are stat fields 10,
# 4, 8, 15 and 17 (one pass over the counters each; nothing ran in between).
assert_eq "${st[*]:11:5}" "${f[9]} ${f[3]} ${f[7]} ${f[14]} ${f[16]}" "timed status fields vs the stat file"
# at_least FIELD-NAME VALUE N: VALUE covers N requests of the delay, and no
# more than the wall clock.
at_least() {
	[ "$2" -ge $(($3 * least)) ] || fail "$1: $2 ms, less than $3 requests of $least ms"
	[ "$2" -le "$wall" ] || fail "$1: $2 ms, more than the $wall ms the requests took"
}
at_least "busy ms" "${st[11]}" 6
at_least "read ms" "${st[12]}" 3
at_least "write ms (the write and the empty flush)" "${st[13]}" 2
at_least "discard ms" "${st[14]}" 1
at_least "flush ms" "${st[15]}" 1
dmsetup message dmp1 0 reset
assert_eq "$(dmsetup status dmp1)" "0 8192 dmp 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0" "status after message reset, latency=1"
cleanup_all
