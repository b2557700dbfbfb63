# The debug kernel's own disk release, without dmp (debug kernel only): with
# DEBUG_KOBJECT_RELEASE, 7.3's disk_release() freed the gendisk while the
# delayed release of its embedded queue kobject was still pending, and the
# timer then fired in freed memory (KASAN slab-use-after-free in
# run_timer_softirq) after nearly every removal of any block device; the
# test bed's debug kernel carries a fix
# (scripts/kconfig/debug-patches/0001-*). Here dm-zero and dm-linear
# devices are created and removed with dmp unloaded, and the delayed
# releases are waited out: the runner fails this test on any kernel report.
# Seen failing on the unpatched debug kernel (the report above, dmp never
# loaded).
. "$(dirname "$0")/../lib.sh"
case "$(uname -r)" in
*-debug) ;;
*) echo "SKIP: only meaningful on the debug kernel (DEBUG_KOBJECT_RELEASE)"; exit 77 ;;
esac
if [ -d /sys/module/dmp ]; then rmmod_dmp; fi
for i in 1 2 3 4 5 6; do
	zero_dev "dz$i" 2048
	dm_create "dl$i" "0 2048 linear /dev/mapper/dz$i 0"
	dd if="/dev/mapper/dl$i" of=/dev/null bs=4k count=1 iflag=direct status=none
	dmsetup remove "dl$i"
	dmsetup remove "dz$i"
done
# Releases are delayed by 1-4 s; the freed disks' RCU callbacks run meanwhile.
sleep 8
[ ! -d /sys/module/dmp ] || fail "dmp got loaded, but this test must run without it"
note "6 dm-zero and 6 dm-linear devices created and removed without dmp; delayed releases waited out"
