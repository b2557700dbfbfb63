# Device directories announce themselves with uevents (SUBSYSTEM=dmp) so that
# a udev rule can make them readable.
. "$(dirname "$0")/lib.sh"

modprobe dmp
zero_dev zero1 8192
log=/tmp/uevents
udevadm monitor --kernel --subsystem-match=dmp --property >"$log" 2>&1 &
mon=$!
sleep 1
dmp_dev dmp1 /dev/mapper/zero1
d=$(kname dmp1)
dmsetup remove dmp1
sleep 1
kill "$mon"; wait "$mon" 2>/dev/null || true
grep -q "ACTION=add" "$log" || fail "no add uevent: $(cat "$log")"
grep -q "DEVPATH=/module/dmp/stat/$d" "$log" || fail "no uevent for $d: $(cat "$log")"
grep -q "ACTION=remove" "$log" || fail "no remove uevent: $(cat "$log")"
cleanup_all
