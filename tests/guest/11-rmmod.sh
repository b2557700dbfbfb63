# rmmod is refused while a dmp device exists and succeeds after its removal;
# the statistics tree goes with the module, and a reloaded module counts from
# zero: nothing from before the unload, every request after it.
. "$(dirname "$0")/lib.sh"

# counts DIR: "reads read-bytes writes write-bytes" of a statistics directory.
counts() {
	echo "$(stat_of "$1" read_cnt) $(stat_of "$1" read_bytes) $(stat_of "$1" write_cnt) $(stat_of "$1" write_bytes)"
}

modprobe dmp
zero_dev zero1 8192
dmp_dev dmp1 /dev/mapper/zero1
# Counts before the unload (these must not survive it).
dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=5 iflag=direct status=none
assert_eq "$(counts all_devs)" "5 20480 0 0" "aggregate before the unload"
expect_fail "rmmod with a dmp device" rmmod dmp
grep -q 'in use' /tmp/expect_fail.out || fail "rmmod error does not say in use: $(cat /tmp/expect_fail.out)"
[ -d "$STAT/$(kname dmp1)" ] || fail "device directory gone after refused rmmod"
dmsetup remove dmp1
rmmod dmp
[ ! -e /sys/module/dmp ] || fail "/sys/module/dmp still present"
# Load again: the tree is rebuilt from zero ...
modprobe dmp
assert_eq "$(counts all_devs)" "0 0 0 0" "aggregate after reload of the module"
# ... and counts what comes after, exactly: 3 reads of 2 KiB, 2 writes of 512 bytes.
dmp_dev dmp1 /dev/mapper/zero1
d=$(kname dmp1)
dd if=/dev/mapper/dmp1 of=/dev/null bs=2k count=3 iflag=direct status=none
dd if=/dev/zero of=/dev/mapper/dmp1 bs=512 count=2 oflag=direct status=none
assert_eq "$(counts "$d")" "3 6144 2 1024" "$d after the reload"
check_exact "$d"
assert_eq "$(counts all_devs)" "3 6144 2 1024" "aggregate after the reload and new I/O"
assert_eq "$(cat "$STAT/volumes")" "read:
 reqs: 3
 avg size: 2048
write:
 reqs: 2
 avg size: 512
total:
 reqs: 5
 avg size: $(( (6144 + 1024) / 5 ))" "volumes after the reload and new I/O"
cleanup_all
