# rmmod is refused while a dmp device exists and succeeds after its removal;
# the statistics tree goes with the module.
. "$(dirname "$0")/lib.sh"

modprobe dmp
zero_dev zero1 8192
dmp_dev dmp1 /dev/mapper/zero1
expect_fail "rmmod with a dmp device" rmmod dmp
grep -q 'in use' /tmp/expect_fail.out || fail "rmmod error does not say in use: $(cat /tmp/expect_fail.out)"
[ -d "$STAT/$(kname dmp1)" ] || fail "device directory gone after refused rmmod"
dmsetup remove dmp1
rmmod dmp
[ ! -e /sys/module/dmp ] || fail "/sys/module/dmp still present"
# Load again: the tree is rebuilt from zero.
modprobe dmp
assert_eq "$(stat_of all_devs total_cnt)" 0 "aggregate after reload of the module"
cleanup_all
