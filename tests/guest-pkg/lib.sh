# shellcheck shell=bash
# Helpers of the package end-to-end tests in the guest (e2e.sh, debian-e2e.sh):
# PASS/FAIL bookkeeping over reboots, and the checks that every working
# installation must pass. Sourced from the payload (/dmp/lib.sh); the caller
# sets state, results, out, kver, version and STAT.

pass() { echo "PASS $*"; echo "PASS $*" >>"$results"; }
fail() { echo "FAIL $*"; echo "FAIL $*" >>"$results"; }
# check WHAT COMMAND...: the command must succeed; its output is shown on failure.
check() {
	local what=$1; shift
	if "$@" >"$out" 2>&1; then pass "$what"; else fail "$what"; sed 's/^/  | /' "$out" | tail -n 25; fi
}
# check_not WHAT COMMAND...: the command must fail.
check_not() {
	local what=$1; shift
	if "$@" >"$out" 2>&1; then fail "$what"; sed 's/^/  | /' "$out" | tail -n 25; else pass "$what"; fi
}
# A bash condition as a command, for check.
# shellcheck disable=SC2317 # called through check
cond() { bash -c "$1"; }
as_user() { runuser -u user -- "$@"; }
finish() {
	local p f
	p=$(grep -c '^PASS' "$results" 2>/dev/null); f=$(grep -c '^FAIL' "$results" 2>/dev/null)
	echo "=== dmp package test: results of every boot"
	grep '^FAIL' "$results" | sed 's/^/  /'
	echo "${p:-0} passed, ${f:-0} failed"
	[ "${f:-0}" = 0 ]
	exit $?
}
next_boot() { # [KERNEL]
	[ -n "${1:-}" ] && echo "$1" >/dmp/next-kernel
	sync
	# (no D-Bus in the guest: skip the wall message and the inhibitor query)
	systemctl --no-wall --check-inhibitors=no reboot 2>/dev/null || reboot
	sleep 600
	fail "the guest did not reboot"; finish
}
# dm-N of a dm device.
kname() { basename "$(readlink -f "/dev/mapper/$1")"; }

# The usual checks once dmp is installed and loaded for the running kernel.
check_working() { # LABEL
	local l=$1 d
	check "$l: dkms reports dmp $version installed for $kver" \
		cond "dkms status -m dmp -v $version -k $kver | grep -q ': installed'"
	check "$l: dmp is loaded" test -d /sys/module/dmp
	check "$l: dmp.ko comes from DKMS (updates/dkms), not the test bed" \
		cond "modinfo -n dmp | grep -q '/updates/dkms/dmp.ko'"
	check "$l: volumes is 0444, reset 0200 (udev rule)" \
		cond "[ \$(stat -c %a $STAT/volumes) = 444 ] && [ \$(stat -c %a $STAT/reset) = 200 ] && [ \$(stat -c %a $STAT/all_devs/read_cnt) = 444 ]"
	check "$l: an unprivileged user reads volumes" as_user cat "$STAT/volumes"
	check_not "$l: an unprivileged user cannot reset" as_user sh -c "echo 1 >$STAT/reset"
	# A new device: created, its files readable by the user, counting.
	dmsetup remove pkg-dmp pkg-zero >/dev/null 2>&1
	check "$l: dmsetup create with a dmp table" cond \
		"dmsetup create pkg-zero --table '0 20480 zero' && dmsetup create pkg-dmp --table '0 20480 dmp /dev/mapper/pkg-zero' && udevadm settle"
	d=$(kname pkg-dmp)
	check "$l: the new device's files are 0444 ($d)" \
		cond "[ \$(stat -c %a $STAT/$d/read_cnt) = 444 ] && [ \$(stat -c %a $STAT/$d/summary) = 444 ]"
	# udev's probe of the new device reads it too: count the difference.
	local before after
	before=$(as_user cat "$STAT/$d/read_cnt" 2>&1)
	dd if=/dev/mapper/pkg-dmp of=/dev/null bs=4096 count=10 iflag=direct status=none
	after=$(as_user cat "$STAT/$d/read_cnt" 2>&1)
	# (in cond: a read that printed an error is a failure, not an abort)
	check "$l: an unprivileged user reads $d/read_cnt: +10 after 10 reads ($before -> $after)" \
		cond "[ \"\$(( $before + 10 ))\" = '$after' ]"
	check "$l: dmsetup table round-trips the dmp table" \
		cond "dmsetup table pkg-dmp | grep -Eq '^0 20480 dmp [0-9]+:[0-9]+\$'"
	check "$l: remove the device" dmsetup remove pkg-dmp pkg-zero
}

# /etc/dmptab over a device that appears 3 s into the boot, plus a bad line
# and an absent optional device, which must not stop the good line.
setup_dmptab() {
	cat >/etc/dmptab <<-'EOF'
	# test entries (tests/guest-pkg/e2e.sh)
	pkgboot   /dev/mapper/pkg-under   timeout=120
	pkgbad    /dev/mapper/pkg-under   rw,bogus
	pkgabsent /dev/mapper/pkg-never   nofail,timeout=2
	EOF
	cat >/etc/systemd/system/pkg-under.service <<-'EOF'
	[Unit]
	Description=dmp package test: the underlying device of /etc/dmptab, late
	DefaultDependencies=no
	After=systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service
	[Service]
	Type=oneshot
	RemainAfterExit=yes
	# Record whether dmp was loaded once systemd-modules-load finished, before
	# any dmp device exists (dm would autoload it for a dmp table).
	ExecStart=/bin/sh -c 'if [ -d /sys/module/dmp ]; then echo yes; else echo no; fi >/run/dmp-loaded-early; sleep 3; dmsetup create pkg-under --table "0 40960 zero"'
	[Install]
	WantedBy=sysinit.target
	EOF
	systemctl enable pkg-under.service >/dev/null 2>&1
	check "dmptab check reports the bad line" cond "dmptab check 2>&1 | grep -q 'line 3: unknown option'"
	check "dmptab check flags the bad line with exit 1" cond "! dmptab check >/dev/null 2>&1"
}

# After a reboot with setup_dmptab done: dmp loaded at boot, dmptab's device
# back, readable by an unprivileged user. $1: label.
check_boot() {
	check "$1: dmp loaded at boot by modules-load.d (before any dmp device)" \
		cond "grep -qx yes /run/dmp-loaded-early || { cat /run/dmp-loaded-early; systemctl status --no-pager systemd-modules-load; grep -r . /usr/lib/modules-load.d/ /etc/modules-load.d/; modinfo -n dmp; false; }"
	check "dmptab.service is active" systemctl is-active dmptab.service
	journalctl -b -u dmptab.service -u pkg-under.service --no-pager -o short-monotonic | tail -n 12 | sed 's/^/  journal| /'
	check "dmptab created /dev/mapper/pkgboot at boot as a dmp device" \
		cond "dmsetup table pkgboot | grep -q ' dmp '"
	check "dmptab waited for the late device (created after pkg-under.service)" \
		cond "journalctl -b -u dmptab.service | grep -q 'created /dev/mapper/pkgboot'"
	check "dmptab reported the bad line and carried on" \
		cond "journalctl -b -u dmptab.service | grep -q 'line 3: unknown option'"
	check "dmptab: the absent nofail device is not an error" \
		cond "journalctl -b -u dmptab.service | grep -q 'pkgabsent not created (nofail)'"
	d=$(kname pkgboot)
	check "an unprivileged user reads the boot-time device's files ($d)" as_user cat "$STAT/$d/summary"
}
