#!/bin/bash
# End-to-end test of the dmp-dkms package in a systemd guest (issue 4, points
# 5, 6 and 7). Run by tests/guest-pkg/run-host:
#
#   scripts/vm-run --systemd --kernel 7.3 --with-kernel 6.12 --payload DIR tests/guest-pkg/e2e.sh
#
# DIR holds pkgs/*.deb (dmp-dkms, dmpstat), headers/<release>/*.deb (the guest
# kernels' linux-headers + linux-lib-rust, Ubuntu's layout), second-kernel (the
# version to switch to, e.g. 6.12) and rpm/ (the rpm's scriptlets, its files as
# root.tar and their list, extracted on the host).
#
# boot 1 (7.3)  the test bed's own dmp.ko is removed; headers without the Rust
#               metadata: installing dmp-dkms succeeds and says which package is
#               missing; remove; with linux-lib-rust: apt install builds and
#               loads dmp; an unprivileged user reads the statistics (at load
#               and of a new device); dmsetup create; /etc/dmptab set up over a
#               device that appears late; reboot
# boot 2 (7.3)  dmp loaded at boot, dmptab device created (after its device
#               appeared) and removed at the last shutdown; bad dmptab lines
#               reported; dmsetup create again; the 6.12 kernel and its headers
#               installed (DKMS builds for it); reboot into 6.12
# boot 3 (6.12) the same on 6.12; apt remove unloads and removes everything,
#               purge the conffiles; then the rpm's scriptlets against the
#               same kernel, including removal while a device is in use
#
# Every check prints PASS/FAIL; the results of all boots are summed at the end
# in `N passed, N failed`; exit status non-zero on any failure.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
state=/var/lib/dmp-pkg-test
mkdir -p "$state"
results=$state/results
out=$state/out
boot=${DMP_BOOT:-1}
kver=$(uname -r)
STAT=/sys/module/dmp/stat
# A serial getty would hang up ttyS0, where this output goes, if it started
# during the test (the test bed's image has none): make sure of it.
if [ -d /run/systemd/system ]; then
	systemctl mask --now serial-getty@ttyS0.service >/dev/null 2>&1
	exec >/dev/ttyS0 2>&1
fi
echo "=== dmp package test, boot $boot, kernel $kver"

# shellcheck source=tests/guest-pkg/lib.sh
source /dmp/lib.sh
t0=$(date +%s)
elapsed() { echo "$(( $(date +%s) - t0 ))s"; }

pkg_deb=$(ls /dmp/pkgs/dmp-dkms_*_all.deb)
stat_deb=$(ls /dmp/pkgs/dmpstat_*.deb)
version=$(dpkg-deb -f "$pkg_deb" Version); version=${version%-*}
headers_deb() { ls "/dmp/headers/$1/linux-headers-${1}_"*.deb; }
librust_deb() { ls "/dmp/headers/$1/linux-lib-rust-${1}_"*.deb; }

# The last stage, on the second kernel (or on the first when there is none):
# package removal, then the rpm's scriptlets.
removal() {
	# --- apt remove: dmptab's device is removed with its service, the module
	# unloaded, DKMS's builds for both kernels and every file gone.
	apt-get remove -y -q dmp-dkms >"$state/apt-remove.log" 2>&1
	rc=$?
	grep -E 'dmp-dkms:|dmp:' "$state/apt-remove.log" | sed 's/^/  apt| /'
	check "apt remove dmp-dkms (exit $rc)" test "$rc" = 0
	check_not "dmp is unloaded" test -d /sys/module/dmp
	check_not "the dmptab device is gone" dmsetup info pkgboot
	check "no dmp.ko is left for any kernel" cond "[ -z \"\$(find /lib/modules/ -name 'dmp.ko*')\" ]"
	check "no DKMS state, sources, helpers, rule or unit are left" \
		cond "for p in /var/lib/dkms/dmp /usr/src/dmp-$version /usr/lib/dmp /usr/sbin/dmptab /usr/lib/udev/rules.d/60-dmp.rules /usr/lib/systemd/system/dmptab.service /usr/lib/modules-load.d/dmp.conf; do [ ! -e \$p ] || { echo left: \$p; exit 1; }; done"
	check "dkms knows no dmp" cond "[ -z \"\$(dkms status dmp 2>/dev/null)\" ]"
	check "remove keeps what a reinstall needs: dmptab's enablement, /etc/dmptab" \
		cond "[ -L /etc/systemd/system/sysinit.target.wants/dmptab.service ] && [ -e /etc/dmptab ]"
	check "apt purge dmp-dkms removes the conffiles" \
		cond "apt-get purge -y -q dmp-dkms >/dev/null && [ ! -e /etc/dmptab ] && [ ! -e /etc/modprobe.d/dmp.conf ] && ! dpkg -l dmp-dkms 2>/dev/null | grep -q '^[ir]'"
	check "apt purge dmpstat" apt-get purge -y -q dmpstat
	# Every path named after dmp, but the test's own (payload service, state).
	check "purge leaves nothing of dmp in /etc, /var, /usr" \
		cond "left=\$(find /etc /var /usr -name '*dmp*' ! -path '/var/lib/dmp-pkg-test*' ! -path '/var/lib/dmp-test*' ! -path '/usr/lib/dmp-test*' ! -path '/etc/systemd/system/dmp-payload.service' ! -path '/etc/systemd/system/*/dmp-payload.service' ! -path '/var/lib/dpkg/*' ! -path '/var/cache/apt/*' ! -path '/var/log/journal/*' 2>/dev/null); [ -z \"\$left\" ] || { echo \"\$left\"; false; }"
	systemctl disable --now pkg-under.service >/dev/null 2>&1; dmsetup remove pkg-under >/dev/null 2>&1

	# --- The rpm's scriptlets, run as rpm would run them, against this kernel.
	r=/dmp/rpm
	if [ -f "$r/root.tar" ]; then
		tar -C / -xf "$r/root.tar" --keep-directory-symlink --no-overwrite-dir
		check "rpm files in place (as rpm -i would put them)" cond "while read -r f; do [ -e \"\$f\" ] || { echo missing \$f; exit 1; }; done <$r/files"
		sh "$r/post.sh" 1 >"$state/rpm-post.log" 2>&1
		rc=$?
		grep -E 'dmp-dkms:|dmp:' "$state/rpm-post.log" | sed 's/^/  %post| /'
		check "rpm %post (install) exits 0 ($rc)" test "$rc" = 0
		check_working "rpm %post on $kver"
		check "rpm %post enabled dmptab.service" cond "systemctl is-enabled dmptab.service | grep -q enabled"
		# Erase while a device still uses dmp: reported, not forced.
		dmsetup create pkg-zero --table '0 20480 zero' && dmsetup create pkg-busy --table '0 20480 dmp /dev/mapper/pkg-zero'
		sh "$r/preun.sh" 0 >"$state/rpm-preun.log" 2>&1
		rc=$?
		sed 's/^/  %preun| /' "$state/rpm-preun.log"
		check "rpm %preun (erase) exits 0 ($rc)" test "$rc" = 0
		check "rpm %preun reports the device that still uses dmp" grep -q "still use it: pkg-busy" "$state/rpm-preun.log"
		check "... and leaves dmp loaded (not forced)" test -d /sys/module/dmp
		check "... and the device keeps working" dd if=/dev/mapper/pkg-busy of=/dev/null bs=4096 count=1 iflag=direct status=none
		check "rpm %preun removed dmp from DKMS" cond "[ -z \"\$(dkms status dmp 2>/dev/null)\" ] && [ -z \"\$(find /lib/modules/ -name 'dmp.ko*')\" ]"
		dmsetup remove pkg-busy pkg-zero
		check "after the device is gone, dmp unloads" rmmod dmp
		# rpm removes its files, then runs %postun.
		while read -r f; do rm -f "$f"; done <"$r/files"
		sh "$r/postun.sh" 0 >"$state/rpm-postun.log" 2>&1
		rc=$?
		check "rpm %postun (erase) exits 0 ($rc)" test "$rc" = 0
		check "nothing of the rpm is left" \
			cond "for p in /var/lib/dkms/dmp /usr/src/dmp-$version /usr/lib/dmp /etc/systemd/system/sysinit.target.wants/dmptab.service; do [ ! -e \$p ] || { echo left: \$p; find \$p; exit 1; }; done"
	else
		fail "no rpm scriptlets in the payload"
	fi
}

if [ "$boot" = 1 ]; then
	# --- Start from a system without any dmp.ko: the package must bring it.
	touch /var/lib/dmp-test/no-test-module
	rm -f "/lib/modules/$kver/extra/dmp.ko"
	depmod -a "$kver"
	check_not "no dmp module before the package is installed" modinfo dmp
	# Keep the journal across reboots (the dmptab checks read the last shutdown).
	mkdir -p /var/log/journal
	systemd-tmpfiles --create --prefix /var/log/journal >/dev/null 2>&1
	journalctl --flush >/dev/null 2>&1

	# --- Headers without the Rust metadata: the install says what is missing.
	check "install linux-headers-$kver (without linux-lib-rust)" apt-get install -y -q "$(headers_deb "$kver")"
	check "the headers' rust/ points into linux-lib-rust, not installed yet" \
		cond "[ \"\$(readlink /usr/src/linux-headers-$kver/rust)\" = ../linux-lib-rust-$kver/rust ] && [ ! -e /lib/modules/$kver/build/rust/libkernel.rmeta ]"
	apt-get install -y -q "$pkg_deb" >"$state/apt-norust.log" 2>&1
	rc=$?
	sed 's/^/  apt| /' "$state/apt-norust.log" | grep -v '^  apt| \((Reading\|Reading\|Building\|Selecting\|Preparing\|Unpacking\|Setting up\|Processing\)' | tail -n 20
	check "apt install dmp-dkms without the Rust metadata succeeds (exit $rc)" test "$rc" = 0
	check "... and names the package to install: linux-lib-rust-$kver" \
		grep -q "apt install linux-lib-rust-$kver" "$state/apt-norust.log"
	check "... and says dmp was not built for $kver" grep -q "NOT built for kernel(s): $kver" "$state/apt-norust.log"
	check_not "... and dmp is not loaded" test -d /sys/module/dmp
	check "apt remove dmp-dkms (nothing built)" apt-get remove -y -q dmp-dkms
	check "nothing of dmp in DKMS after that" cond "[ ! -e /var/lib/dkms/dmp ] && [ ! -e /usr/src/dmp-$version ]"

	# --- The Ubuntu layout complete: apt install builds and loads dmp.
	check "install linux-lib-rust-$kver" apt-get install -y -q "$(librust_deb "$kver")"
	check "the kernel build tree has the Rust metadata" test -f "/lib/modules/$kver/build/rust/libkernel.rmeta"
	s=$(date +%s)
	apt-get install -y -q "$pkg_deb" >"$state/apt.log" 2>&1
	rc=$?
	grep -E 'dmp-dkms:|dmp:' "$state/apt.log" | sed 's/^/  apt| /'
	check "apt install ./dmp-dkms_${version}*.deb (exit $rc, $(( $(date +%s) - s ))s with the DKMS build)" test "$rc" = 0
	check_working "7.3 after install"
	check "softdep on dm_mod is configured" cond "modprobe -c | grep -q '^softdep dmp pre: dm_mod'"
	check "dmptab.service is enabled by the package" cond "systemctl is-enabled dmptab.service | grep -q enabled"
	# An upgrade's configure (postinst configure OLD-VERSION, what apt runs
	# after unpacking the next version) leaves an administrator's disable.
	systemctl --quiet disable dmptab.service
	/var/lib/dpkg/info/dmp-dkms.postinst configure "$version-1" >"$state/postinst-upgrade.log" 2>&1
	rc=$?
	check "postinst configure $version-1 (as after an upgrade) exits 0 ($rc) and keeps dmptab.service disabled" \
		cond "[ $rc = 0 ] && [ \"\$(systemctl is-enabled dmptab.service)\" = disabled ]"
	systemctl --quiet enable dmptab.service
	check "apt install ./dmpstat_*.deb" apt-get install -y -q "$stat_deb"
	check "dmpstat lists the statistics as an unprivileged user" as_user dmpstat

	setup_dmptab
	echo "=== boot 1 done in $(elapsed); rebooting"
	next_boot
fi

if [ "$boot" = 2 ]; then
	check_boot "7.3 after reboot"
	check_working "7.3 after reboot"

	if [ ! -s /dmp/second-kernel ]; then
		echo "=== no second kernel in the payload: removal on $kver"
		removal
		echo "=== boot 2 done in $(elapsed)"
		finish
	fi
	# --- The second kernel: its modules (as its image package would put
	# them) and its headers; installing the headers runs DKMS for it.
	k2=""
	for h in /dmp/headers/*/; do h=$(basename "$h"); [ "$h" = "$kver" ] || k2=$h; done
	k2v=$(cat /dmp/second-kernel 2>/dev/null)
	check "a second kernel is in the payload ($k2v: $k2)" test -n "$k2" -a -n "$k2v"
	mkdir -p "/lib/modules/$k2"
	cp -r "/dmp/modules/$k2/." "/lib/modules/$k2/"
	rm -f "/lib/modules/$k2/extra/dmp.ko"
	depmod -a "$k2"
	# Headers first, without the Rust metadata: dmp cannot be built. DKMS
	# skips it (dkms.conf excludes the kernel), says why and how to fix it,
	# and the headers configure: a kernel update never fails because of dmp.
	apt-get install -y -q "$(headers_deb "$k2")" >"$state/apt-k2-norust.log" 2>&1
	rc=$?
	grep -E 'dmp-dkms:|dmp:|Autoinstall|rror|BUILD_EXCLUSIVE' "$state/apt-k2-norust.log" | sed 's/^/  apt| /'
	check "headers of $k2 without linux-lib-rust install with apt exit 0 ($rc), configured" \
		cond "[ $rc = 0 ] && dpkg -l linux-headers-$k2 | grep -q '^ii'"
	check "... DKMS skipped dmp for $k2, saying why and the fix: apt install linux-lib-rust-$k2" \
		cond "grep -q '^dmp: cannot build for kernel $k2' $state/apt-k2-norust.log && grep -q '^dmp: fix: apt install linux-lib-rust-$k2' $state/apt-k2-norust.log && grep -q 'Autoinstall on $k2 was skipped for module(s) dmp' $state/apt-k2-norust.log"
	check "... dkms status: dmp is not built for $k2" \
		cond "! dkms status -m dmp -v $version -k $k2 | grep -q '$k2'"
	# The missing piece arrives later: dmp-dkms's trigger on /usr/src builds
	# dmp for the kernel that lacked it, with nothing typed.
	s=$(date +%s)
	apt-get install -y -q "$(librust_deb "$k2")" >"$state/apt-k2.log" 2>&1
	rc=$?
	grep -E 'dmp-dkms:|dmp:' "$state/apt-k2.log" | sed 's/^/  apt| /'
	check "then linux-lib-rust-$k2 installs (exit $rc, $(( $(date +%s) - s ))s)" \
		cond "[ $rc = 0 ] && dpkg -l linux-headers-$k2 linux-lib-rust-$k2 | grep -c '^ii' | grep -qx 2"
	check "... and dmp-dkms's trigger built and installed dmp for $k2" \
		cond "dkms status -m dmp -v $version -k $k2 | grep -q ': installed' && grep -q 'dmp $version is installed for kernel $k2' $state/apt-k2.log"
	echo "$k2" >"$state/k2"
	echo "=== boot 2 done in $(elapsed); rebooting into $k2v"
	next_boot "$k2v"
fi

if [ "$boot" = 3 ]; then
	k2=$(cat "$state/k2" 2>/dev/null)
	check "booted the second kernel ($k2)" test "$kver" = "$k2"
	check "$kver: dmp loaded at boot by modules-load.d (before any dmp device)" \
		cond "grep -qx yes /run/dmp-loaded-early || { cat /run/dmp-loaded-early; systemctl status --no-pager systemd-modules-load; false; }"
	check "$kver: dmptab created /dev/mapper/pkgboot at boot" cond "dmsetup table pkgboot | grep -q ' dmp '"
	# dmptab.service first ran in boot 2 (the package enables it, /etc/dmptab
	# was written in boot 1): its stop at boot 2's shutdown is in the journal.
	check "dmptab removed /dev/mapper/pkgboot at the last shutdown" \
		cond "journalctl -b -1 -u dmptab.service | grep -q 'removed /dev/mapper/pkgboot' || { journalctl --list-boots --no-pager; journalctl -b -1 -u dmptab.service --no-pager | tail -n 15; false; }"
	check_working "$kver"
	removal
	echo "=== boot 3 done in $(elapsed)"
	finish
fi
fail "unexpected boot $boot"
finish
