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
