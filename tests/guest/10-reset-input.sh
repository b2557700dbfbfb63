# The reset files accept exactly "1": any other value is refused with EINVAL
# and changes nothing.
. "$(dirname "$0")/lib.sh"

modprobe dmp
zero_dev zero1 8192
dmp_dev dmp1 /dev/mapper/zero1
d=$(kname dmp1)
echo 1 >"$STAT/reset"
dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=5 iflag=direct status=none
for f in "$STAT/reset" "$STAT/$d/reset"; do
	for v in 0 2 abc -1 11 "1 1" " 1" yes; do
		if printf '%s' "$v" >"$f" 2>/tmp/err; then fail "$f accepted '$v'"; fi
		grep -q 'Invalid argument' /tmp/err || fail "$f: '$v' gave $(cat /tmp/err), not EINVAL"
	done
	if printf '' >"$f" 2>/dev/null; then :; fi   # an empty write never reaches store()
	if head -c 1048576 /dev/zero | tr '\0' 1 >"$f" 2>/dev/null; then fail "$f accepted a 1 MiB write"; fi
	if printf '\x01\xff\x00' >"$f" 2>/dev/null; then fail "$f accepted binary data"; fi
	assert_eq "$(stat_of "$d" read_cnt)" 5 "reads after bad writes to $f"
	assert_eq "$(stat_of all_devs read_cnt)" 5 "aggregate after bad writes to $f"
done
printf '1\n' >"$STAT/$d/reset"
assert_eq "$(stat_of "$d" read_cnt)" 0 "reads after a good device reset"
assert_eq "$(stat_of all_devs read_cnt)" 5 "aggregate after a device reset"
printf '1' >"$STAT/reset"
assert_eq "$(stat_of all_devs read_cnt)" 0 "aggregate after a good global reset"
# Read-only files cannot be written.
if echo 1 >"$STAT/volumes" 2>/dev/null; then fail "volumes is writable"; fi
cleanup_all
