# Every bad table is refused with a clear error and leaves nothing behind: no
# device, no statistics directory, no module reference, no leak.
. "$(dirname "$0")/lib.sh"

modprobe dmp
zero_dev zero1 8192
mknod /tmp/chardev c 1 3
truncate -s 1M /tmp/regular

# bad NAME TABLE EXPECTED-ERROR (a regular expression over the kernel log)
bad() {
	local name=$1 table=$2 want=$3 mark new
	mark=$(klog_mark)
	if dmsetup create bad1 --table "$table" >/tmp/bad.out 2>&1; then
		fail "$name: table '$table' was accepted"
	fi
	new=$(klog_since "$mark")
	grep -Eq "$want" <<<"$new" || fail "$name: the kernel log has no '$want': $new"
	if dmsetup info bad1 >/dev/null 2>&1; then dmsetup remove bad1; fi
	[ -z "$(ls -d "$STAT"/dm-* 2>/dev/null | grep -v "$(kname zero1)")" ] ||
		fail "$name: a statistics directory was left behind: $(ls "$STAT")"
	note "refused: $name"
}
bad "no argument"        "0 8192 dmp"                              "dmp: Invalid argument count"
bad "two arguments"      "0 8192 dmp /dev/mapper/zero1 0"          "dmp: Invalid argument count"
bad "three arguments"    "0 8192 dmp /dev/mapper/zero1 0 x"        "dmp: Invalid argument count"
bad "missing path"       "0 8192 dmp /dev/does-not-exist"          "dmp: Device lookup failed"
bad "regular file"       "0 8192 dmp /tmp/regular"                 "dmp: Device lookup failed"
bad "character device"   "0 8192 dmp /tmp/chardev"                 "dmp: Device lookup failed"
bad "bad MAJ:MIN"        "0 8192 dmp 999:999"                      "dmp: Device lookup failed"
bad "too long"           "0 8193 dmp /dev/mapper/zero1"            "dmp: Device is smaller than the target"
bad "absurd length"      "0 9223372036854775807 dmp /dev/mapper/zero1" "too large device|dmp: Device is smaller"
rm -f /tmp/chardev /tmp/regular
# The module is still usable and unloadable: no reference was leaked.
dmp_dev good /dev/mapper/zero1
dmsetup remove good
dmsetup remove zero1
rmmod dmp || fail "rmmod failed after refused tables (leaked reference?)"
