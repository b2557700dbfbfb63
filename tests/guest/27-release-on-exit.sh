# The module's code outlives the release of every kobject it made: rmmod right
# after devices are removed (and right after a load) must not leave a release
# to run in freed module code. On the debug kernel every kobject release is
# delayed by 1-4 s (CONFIG_DEBUG_KOBJECT_RELEASE), so the releases of the
# device directories and all_devs are still pending when rmmod runs: module
# exit must wait for them. A release run in freed code would oops (KASAN) in
# the 5 s waited below, which the runner reports.
. "$(dirname "$0")/lib.sh"

seq0=$(klog_mark)
zero_dev zero1 8192
for round in 1 2 3; do
	modprobe dmp
	for i in 1 2 3; do
		dmp_dev "rel$i" /dev/mapper/zero1
		dd if="/dev/mapper/rel$i" of=/dev/null bs=4k count=1 iflag=direct status=none
	done
	dmsetup remove rel1 rel2 rel3
	rmmod dmp
	[ ! -e /sys/module/dmp ] || fail "round $round: the module did not unload"
done
# A load and an immediate unload: all_devs' release is pending.
modprobe dmp
rmmod dmp
# The kernel logs each delayed release; all_devs is dmp's alone (dm-N is
# also the name of the mapped device's disk).
delayed=$(klog_since "$seq0" | grep -c "'all_devs' .*kobject_release.*delayed" || true)
if [[ "$(uname -r)" == *-debug ]]; then
	[ "$delayed" -ge 4 ] || fail "the debug kernel delayed $delayed releases of all_devs, expected 4 (CONFIG_DEBUG_KOBJECT_RELEASE)"
	note "the kernel delayed the release of all_devs at each of the 4 unloads; no release ran after one"
fi
sleep 5
dmsetup remove zero1
