# Abuse (issue 6, item 5): bad tables, bad sysfs writes, bad dmsetup messages
# and bad device names. Each one is refused with a clear error (dmsetup's exit
# status and message, the reason in the kernel log, or the errno of the write)
# and changes nothing: the device list, every table, the module's reference
# count, the sysfs tree and every counter in it are compared with a snapshot
# taken before, after every single input. Unusual names that device-mapper
# accepts (spaces, tabs, unicode, the maximum length) are shown by dmp's `name`
# file exactly as dm core holds them (/sys/block/dm-N/dm/name).
. "$(dirname "$0")/lib.sh"
T=$(basename "$0" .sh)
tally() { "$(dirname "$0")/hardening-summary" "$@"; }
tally begin "$T"

modprobe dmp
zero_dev zero1 8192
dmp_dev dmp1 /dev/mapper/zero1
d=$(kname dmp1)
dmp_mm=$(dmsetup info -c --noheadings -o major,minor dmp1 | tr -d ' ')
# Counters that a wrongly accepted reset would zero.
dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=3 iflag=direct status=none
dd if=/dev/zero of=/dev/mapper/dmp1 bs=2k count=1 oflag=direct status=none
mknod /tmp/abuse-chr c 1 3
truncate -s 1M /tmp/abuse-file

# The state that no bad input may change. Builtins where possible: a fork
# costs tens of milliseconds under TCG.
state() {
	local f l
	dmsetup info -c --noheadings --separator ' ' -O name -o name,major,minor,attr,segments,events 2>&1
	dmsetup table 2>&1
	read -r l </sys/module/dmp/refcnt
	echo "refcnt $l"
	for f in "$STAT"/* "$STAT"/*/*; do
		if [ -d "$f" ] || [ "${f##*/}" = reset ]; then
			echo "$f"
		else
			mapfile -t l <"$f"
			echo "$f: ${l[*]}"
		fi
	done
}
S0=$(state)
klog_seen=$(klog_mark)
bad=0 by_dmp=0

# refused WHAT REGEX COMMAND...: COMMAND fails, its output or the kernel log
# lines it caused match REGEX (the clear error), and the state is unchanged.
# A REGEX starting with "dmp: " must match the kernel log: dmp's own code
# (its constructor's ti->error or its message handler) refused the input;
# the others never reached dmp (dmsetup or dm core refused them first), and
# are counted apart.
refused() {
	local what=$1 re=$2 out now klog
	shift 2
	if "$@" >/tmp/abuse.out 2>&1; then
		fail "$what: accepted: $*"
	fi
	klog=$(klog_since "$klog_seen")
	klog_seen=$(klog_mark)
	out="$(</tmp/abuse.out)"$'\n'"$klog"
	if [[ $re == "dmp: "* ]]; then
		[[ $klog =~ $re ]] || fail "$what: dmp's code did not refuse it (no /$re/ in the kernel log): $out"
		by_dmp=$((by_dmp + 1))
	fi
	[[ $out =~ $re ]] || fail "$what: the error does not say /$re/: $out"
	now=$(state)
	if [ "$now" != "$S0" ]; then
		echo "$S0" >/tmp/abuse.before; echo "$now" >/tmp/abuse.after
		fail "$what: the state changed: $(diff /tmp/abuse.before /tmp/abuse.after)"
	fi
	bad=$((bad + 1))
	note "refused: $what: ${BASH_REMATCH[0]}"
}

# --- tables -------------------------------------------------------------------
new() { dmsetup create bad1 --table "$1"; }
args100=$(printf ' a%.0s' $(seq 100))
refused "table with no argument" "dmp: Invalid argument count: expected <device>" new "0 8192 dmp"
refused "table with 2 arguments" "dmp: Invalid argument count" new "0 8192 dmp /dev/mapper/zero1 0"
refused "table with 3 arguments" "dmp: Invalid argument count" new "0 8192 dmp /dev/mapper/zero1 0 x"
refused "table with 100 arguments" "dmp: Invalid argument count" new "0 8192 dmp$args100"
refused "nonexistent path" "dmp: Device lookup failed" new "0 8192 dmp /dev/does-not-exist"
refused "regular file" "dmp: Device lookup failed" new "0 8192 dmp /tmp/abuse-file"
refused "character device" "dmp: Device lookup failed" new "0 8192 dmp /tmp/abuse-chr"
refused "directory" "dmp: Device lookup failed" new "0 8192 dmp /tmp"
refused "unknown MAJ:MIN" "dmp: Device lookup failed" new "0 8192 dmp 999:999"
refused "MAJ:MIN 0:0" "dmp: Device lookup failed" new "0 8192 dmp 0:0"
refused "5000-character path" "dmp: Device lookup failed \((-36|-ENAMETOOLONG)\)" new "0 8192 dmp /$(printf 'x%.0s' $(seq 5000))"
refused "path that is not UTF-8" "dmp: Device lookup failed" new "0 8192 dmp $(printf '/dev/\xff\xfe')"
refused "segment longer than the device" "dmp: Device is smaller than the target" new "0 8193 dmp /dev/mapper/zero1"
refused "second segment longer than the device" "dmp: Device is smaller than the target" \
	sh -c 'printf "0 4096 dmp /dev/mapper/zero1\n4096 8193 dmp /dev/mapper/zero1\n" | dmsetup create bad1'
refused "length 2^64-1" "too large device" new "0 18446744073709551615 dmp /dev/mapper/zero1"
refused "length 2^63-1" "too large device" new "0 9223372036854775807 dmp /dev/mapper/zero1"
refused "length -1" "too large device" new "0 -1 dmp /dev/mapper/zero1"
refused "length 0" "zero-length target" new "0 0 dmp /dev/mapper/zero1"
refused "segment not starting at 0" "Gap in table" new "8 8184 dmp /dev/mapper/zero1"
refused "start not a number" "Invalid format on line 1" new "x 8192 dmp /dev/mapper/zero1"
refused "reload: the dmp device itself" "dmp: Device lookup failed" \
	dmsetup reload dmp1 --table "0 8192 dmp $dmp_mm"
refused "reload: segment longer than the device" "dmp: Device is smaller than the target" \
	dmsetup reload dmp1 --table "0 8193 dmp /dev/mapper/zero1"
refused "reload: no argument" "dmp: Invalid argument count" dmsetup reload dmp1 --table "0 8192 dmp"
tables=$bad

# --- dmsetup messages -----------------------------------------------------------
words300=$(printf ' w%.0s' $(seq 299))
refused "unknown message" "dmp: unknown message; the only message is: reset" dmsetup message dmp1 0 frobnicate
refused "message in capitals" "dmp: unknown message" dmsetup message dmp1 0 RESET
refused "reset with an argument" "dmp: message reset takes no arguments" dmsetup message dmp1 0 reset now
# shellcheck disable=SC2086
refused "reset with 299 arguments" "dmp: message reset takes no arguments" dmsetup message dmp1 0 reset $words300
refused "5000-character message" "dmp: unknown message" dmsetup message dmp1 0 "$(printf 'x%.0s' $(seq 5000))"
refused "empty message" "Empty message received" dmsetup message dmp1 0 ""
refused "message to a sector outside the device" "Target message sector outside device" \
	dmsetup message dmp1 8192 reset
messages=$((bad - tables))

# --- device names -----------------------------------------------------------------
ok_table="0 8192 dmp /dev/mapper/zero1"
refused "name of 128 characters" "too long" dmsetup create "$(printf 'n%.0s' $(seq 128))" --table "$ok_table"
refused "name of 128 bytes (64 x ü)" "too long" \
	dmsetup create --manglename none "$(printf 'ü%.0s' $(seq 64))" --table "$ok_table"
refused "name with a slash" 'contains "/"' dmsetup create "dmp/1" --table "$ok_table"
refused "name 'control'" 'device name cannot be "control"' dmsetup create control --table "$ok_table"
refused "name '.'" 'device name cannot be' dmsetup create . --table "$ok_table"
refused "name '..'" 'device name cannot be' dmsetup create .. --table "$ok_table"
refused "empty name" "name not supplied" dmsetup create "" --table "$ok_table"
refused "name of an existing device" "Device or resource busy" dmsetup create dmp1 --table "$ok_table"
refused "rename to an existing name" "Device or resource busy" dmsetup rename dmp1 zero1
refused "rename to a name with a slash" 'contains "/"' dmsetup rename dmp1 "a/b"
names=$((bad - tables - messages))

# Accepted names: dmp's name file shows dm core's name, byte for byte.
# named EXPECTED-NAME-FILE DMSETUP-ARGS...
accepted=0
named() {
	local want=$1 dev
	shift
	dmsetup create "$@" --table "$ok_table"
	dev=$(dmsetup info -c --noheadings -o blkdevname "$@")
	# (echo . keeps trailing newlines through $(...))
	assert_eq "$(cat "$STAT/$dev/name"; echo .)" "$want"$'\n.' "name file of '${*: -1}'"
	assert_eq "$(cat "/sys/block/$dev/dm/name"; echo .)" "$want"$'\n.' "dm core's name of '${*: -1}'"
	dmsetup remove "$@"
	[ "$(state)" = "$S0" ] || fail "state changed after creating and removing '${*: -1}'"
	accepted=$((accepted + 1))
	note "accepted name: $want"
}
named 'dmp\x20with\x20spaces' "dmp with spaces"
named 'dmp with spaces' --manglename none "dmp with spaces"
named 'tab\x09name' "$(printf 'tab\tname')"
named 'dmp-\xc3\xbc-\xd0\xb4\xd0\xb8\xd1\x81\xd0\xba-\xf0\x9f\x92\xbe' "dmp-ü-диск-💾"
named 'dmp-ü-диск-💾' --manglename none "dmp-ü-диск-💾"
named "$(printf 'n%.0s' $(seq 127))" "$(printf 'n%.0s' $(seq 127))"
named "$(printf 'ü%.0s' $(seq 63))x" --manglename none "$(printf 'ü%.0s' $(seq 63))x"
# A rename shows at once in the name file.
dmsetup rename --manglename none dmp1 "dmp renamed"
assert_eq "$(cat "$STAT/$d/name")" "dmp renamed" "name file after a rename"
dmsetup rename --manglename none "dmp renamed" dmp1
# Renames are events: only dmp1's event counter may differ now.
assert_eq "$(state | sed '1s/ [0-9]*$//')" "$(echo "$S0" | sed '1s/ [0-9]*$//')" "state after renaming back"
S0=$(state)

# --- sysfs writes ---------------------------------------------------------------------
# Every writable file gets every bad value in one write(2); each is refused
# with EINVAL and changes nothing. An empty write never reaches the module
# (kernfs returns 0 for it): it must change nothing either. Opening a
# read-only file for writing, or a write-only one for reading, is refused by
# sysfs with EACCES, even for root.
python3 - "$STAT" "$d" >/tmp/abuse-sysfs.out <<'EOF' || fail "sysfs writes: $(cat /tmp/abuse-sysfs.out)"
import errno, os, sys
S, d = sys.argv[1], sys.argv[2]

def snapshot():
    out = {}
    for dirpath, dirs, files in os.walk(S):
        for f in files:
            p = os.path.join(dirpath, f)
            out[p] = None if f == "reset" else open(p, "rb").read()
    return out

s0 = snapshot()
bad = 0
values = {
    "0": b"0", "newline only": b"\n", "abc": b"abc", "2": b"2", "-1": b"-1", "1 1": b"1 1",
    " 1": b" 1", "+1": b"+1", "01": b"01", "1 and two newlines": b"1\n\n", "1 and NUL": b"1\0",
    "1, NUL, garbage": b"1\0garbage", "binary": b"\x01\xff\x00\x80", "4095 x '1'": b"1" * 4095,
    "4096 x '1'": b"1" * 4096, "1, newline, 4094 x 'x'": b"1\n" + b"x" * 4094,
    "1 MiB of '1'": b"1" * (1 << 20),
}
def check(what):
    if snapshot() != s0:
        sys.exit(f"{what}: the sysfs tree or a counter changed")

for f in (f"{S}/reset", f"{S}/{d}/reset"):
    for name, data in values.items():
        fd = os.open(f, os.O_WRONLY)
        try:
            n = os.write(fd, data)
            sys.exit(f"{f}: write of {name} accepted ({n} bytes)")
        except OSError as e:
            if e.errno != errno.EINVAL:
                sys.exit(f"{f}: write of {name}: {e} (expected EINVAL)")
        finally:
            os.close(fd)
        check(f"{f} <- {name}")
        bad += 1
    fd = os.open(f, os.O_WRONLY)
    n = os.write(fd, b"")
    os.close(fd)
    if n != 0:
        sys.exit(f"{f}: empty write returned {n}")
    check(f"{f} <- empty")
    bad += 1
    try:
        os.close(os.open(f, os.O_RDONLY))
        sys.exit(f"{f}: opened for reading")
    except OSError as e:
        if e.errno != errno.EACCES:
            sys.exit(f"{f}: open for reading: {e} (expected EACCES)")
    bad += 1
ro = [p for p, v in s0.items() if v is not None]
for p in ro:
    try:
        os.close(os.open(p, os.O_WRONLY))
        sys.exit(f"{p}: opened for writing")
    except OSError as e:
        if e.errno != errno.EACCES:
            sys.exit(f"{p}: open for writing: {e} (expected EACCES)")
    check(f"{p} opened for writing")
    bad += 1
print(bad, len(values), len(ro))
EOF
read -r sysfs_bad nvalues nro </tmp/abuse-sysfs.out
note "sysfs: $nvalues bad values and an empty write to each of 2 reset files (EINVAL, 0),"
note "       2 reads of reset files and writes to $nro read-only files (EACCES): $sysfs_bad inputs"
assert_eq "$(state)" "$S0" "state after the sysfs writes"
bad=$((bad + sysfs_bad))

# Every bad value went to both reset files, with an empty write and a read
# open each, and every other file was opened for writing: the count the
# writer reports is that product, the files counted here, not by it.
nfiles=$(find "$STAT" -type f ! -name reset | wc -l)
assert_eq "$nro" "$nfiles" "read-only files the sysfs writer tried"
assert_eq "$sysfs_bad" $((2 * (nvalues + 2) + nfiles)) "sysfs inputs refused"
# dmp's store refuses the bad values (EINVAL); sysfs refuses the rest.
by_dmp=$((by_dmp + 2 * nvalues))
note "$bad bad inputs refused ($tables tables, $messages messages, $names names, $sysfs_bad sysfs), $accepted unusual names accepted"
note "$by_dmp of them refused by dmp's own code; $((bad - by_dmp)) by dmsetup, dm core or sysfs before reaching it"
# Still fully working: I/O is counted, a real reset works, rmmod works.
dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=1 iflag=direct status=none
assert_eq "$(stat_of "$d" read_cnt)" 4 "reads after the abuse"
echo 1 >"$STAT/$d/reset"
assert_eq "$(stat_of "$d" total_cnt)" 0 "a good reset after the abuse"
rm -f /tmp/abuse-chr /tmp/abuse-file /tmp/abuse.out /tmp/abuse.before /tmp/abuse.after /tmp/abuse-sysfs.out
tally add "$T" bad "$bad"
tally add "$T" dmp "$by_dmp"
cleanup_all
tally end "$T"
