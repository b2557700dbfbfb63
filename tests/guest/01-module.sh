# The module loads by name and by dm core's autoload alias, builds the sysfs
# tree with root-only files, and unloads cleanly.
. "$(dirname "$0")/lib.sh"

modinfo dmp | grep -q '^alias: *dm-dmp$' || fail "modinfo: no alias dm-dmp"
modinfo dmp | grep -q '^license: *GPL$' || fail "modinfo: license is not GPL"
modprobe dmp
[ -d "$STAT" ] || fail "$STAT missing after modprobe"
for f in volumes reset all_devs/read_cnt all_devs/summary all_devs/histogram; do
	[ -e "$STAT/$f" ] || fail "$STAT/$f missing"
done
assert_eq "$(stat -c %a "$STAT/volumes")" 400 "mode of volumes"
assert_eq "$(stat -c %a "$STAT/reset")" 200 "mode of reset"
for f in read_cnt write_cnt total_cnt read_avr_bs write_avr_bs total_avr_bs summary \
	read_bytes write_bytes discard_cnt discard_bytes flush_cnt histogram stat latency; do
	assert_eq "$(stat -c %a "$STAT/all_devs/$f")" 400 "mode of all_devs/$f"
done
rmmod_dmp
[ ! -e /sys/module/dmp ] || fail "module still present after rmmod"

# dm core loads the target on first use through the alias dm-dmp.
zero_dev zero1 2048
dmp_dev dmp1 /dev/mapper/zero1
[ -d /sys/module/dmp ] || fail "dmsetup create did not autoload dmp"
assert_eq "$(dmsetup table dmp1 | awk '{print $3}')" dmp "target type"
# The device's statistics directory comes and goes with the device.
n=$(kname dmp1)
[ -d "$STAT/$n" ] || fail "$STAT/$n missing after dmsetup create"
dmsetup remove dmp1
[ ! -e "$STAT/$n" ] || fail "$STAT/$n still there after dmsetup remove"
cleanup_all
