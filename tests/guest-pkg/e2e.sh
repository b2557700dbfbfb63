#!/bin/bash
# End-to-end test of the dmp-dkms package in a systemd guest (issue 4, points
# 5, 6 and 7). Run by tests/guest-pkg/run-host:
#
#   scripts/vm-run --systemd --kernel 7.3 --with-kernel 6.12 --payload DIR tests/guest-pkg/e2e.sh
#
# DIR holds pkgs/*.deb (dmp-dkms, dmpstat), repo-1/ and repo-2/ (scripts/repo
# for file:///srv/dmp-repo: this version; this and the next, scripts/package-next),
# headers/<release>/*.deb (the guest
# kernels' linux-headers + linux-lib-rust, Ubuntu's layout), second-kernel (the
# version to switch to, e.g. 6.12) and rpm/ (the rpm's scriptlets, its files as
# root.tar and their list, extracted on the host).
#
# boot 1 (7.3)  the test bed's own dmp.ko is removed; headers without the Rust
#               metadata: installing dmp-dkms succeeds and says which package is
#               missing; remove; with linux-lib-rust: the test's signed apt
#               repository added as a user adds it (.sources, keyring) and
#               `apt install dmp-dkms dmpstat` by name builds and loads dmp
#               (its version in modinfo and sysfs); an unprivileged user reads the statistics (at load
#               and of a new device); dmsetup create; /etc/dmptab set up over a
#               device that appears late; reboot
# boot 2 (7.3)  dmp loaded at boot, dmptab device created (after its device
#               appeared) and removed at the last shutdown; bad dmptab lines
#               reported; dmsetup create again; the next version published and
#               `apt upgrade` to it while a dmp device serves I/O (no error,
#               data intact, conffile edit and a disabled dmptab kept, the old
#               module keeps running, the new one installed); the 6.12 kernel and its headers
#               installed (DKMS builds for it); reboot into 6.12
# boot 3 (6.12) the same on 6.12, running the next version; the old kernel's
#               headers removed; a downgrade with apt; apt remove unloads and removes everything,
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
# The version under test: the one installed (after the upgrade of boot 2, the
# next), else the payload's.
version=$(dpkg-query -W -f '${Version}' dmp-dkms 2>/dev/null | grep . || dpkg-deb -f "$pkg_deb" Version); version=${version%-*}
# The payload's version, and the next one (repo-2 holds both).
first=$(dpkg-deb -f "$pkg_deb" Version); first=${first%-*}
next=$(ls /dmp/repo-2/apt/pool/main/dmp-dkms_*_all.deb | grep -v "_${first}-" | head -n 1)
next=$(dpkg-deb -f "$next" Version); next=${next%-*}
headers_deb() { ls "/dmp/headers/$1/linux-headers-${1}_"*.deb; }

# The test's apt repository, published at file:///srv/dmp-repo: repo-1 (this
# version) first, repo-2 (this and the next) for the upgrade. The guest has no
# network: `apt-get update` refreshes only that source (the Debian lists of
# the image stay as they are).
publish_repo() { # 1|2
	rm -rf /srv/dmp-repo; mkdir -p /srv/dmp-repo
	cp -a "/dmp/repo-$1/." /srv/dmp-repo/
}
apt_update_dmp() {
	apt-get update -q -o Dir::Etc::SourceList=/dev/null -o APT::Get::List-Cleanup=false
}
check_version() { # LABEL VERSION: what runs and what is installed
	check "$1: /sys/module/dmp/version and modinfo say $2" \
		cond "[ \"\$(cat /sys/module/dmp/version)\" = $2 ] && [ \"\$(modinfo -F version dmp)\" = $2 ]"
}
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
	# The repository goes as a user removes it (it is not the package's).
	rm -f /etc/apt/sources.list.d/dmp.sources /usr/share/keyrings/dmp-archive-keyring.gpg /var/lib/apt/lists/*dmp-repo*
	# Every path named after dmp, but the test's own (payload service, state,
	# the image's apt setting) and the test bed's kernels (releases *-dmp).
	check "purge leaves nothing of dmp in /etc, /var, /usr" \
		cond "left=\$(find /etc /var /usr -name '*dmp*' ! -name '*-dmp' ! -path /etc/apt/apt.conf.d/90dmp-norecommends ! -path '/var/lib/dmp-pkg-test*' ! -path '/var/lib/dmp-test*' ! -path '/usr/lib/dmp-test*' ! -path '/etc/systemd/system/dmp-payload.service' ! -path '/etc/systemd/system/*/dmp-payload.service' ! -path '/var/lib/dpkg/*' ! -path '/var/cache/apt/*' ! -path '/var/log/journal/*' 2>/dev/null); [ -z \"\$left\" ] || { echo \"\$left\"; false; }"
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

# The next version published in the repository, and `apt upgrade` to it
# while a dmp device with data on it serves I/O, with a conffile edited and
# dmptab.service disabled by the administrator.
upgrade() {
	local loop sum io rc s
	truncate -s 64M "$state/upgrade.img"
	loop=$(losetup -f --show "$state/upgrade.img")
	dmsetup create pkg-up --table "0 131072 dmp $loop" && udevadm settle
	dd if=/dev/urandom of=/dev/mapper/pkg-up bs=1M count=16 oflag=direct status=none
	sum=$(dd if=/dev/mapper/pkg-up bs=1M count=16 iflag=direct status=none | sha256sum)
	echo "# an administrator's edit, kept across upgrades" >>/etc/modprobe.d/dmp.conf
	systemctl --quiet disable dmptab.service
	# I/O on the device for the whole upgrade: reads of the data, writes
	# beyond it; every error is recorded.
	rm -f "$state/io-errors" "$state/io-stop"
	(
		n=0
		while [ ! -e "$state/io-stop" ]; do
			dd if=/dev/mapper/pkg-up of=/dev/null bs=64k count=256 iflag=direct status=none || echo "read $n" >>"$state/io-errors"
			dd if=/dev/urandom of=/dev/mapper/pkg-up bs=64k seek=512 count=64 oflag=direct status=none || echo "write $n" >>"$state/io-errors"
			n=$((n + 1)); echo "$n" >"$state/io-rounds"
		done
	) &
	io=$!
	publish_repo 2
	s=$(date +%s)
	{ apt_update_dmp && apt-get upgrade -y -q; } >"$state/apt-upgrade.log" 2>&1
	rc=$?
	touch "$state/io-stop"; wait "$io"
	grep -E 'dmp-dkms:|dmp:|^Inst|upgraded' "$state/apt-upgrade.log" | sed 's/^/  apt| /'
	check "apt upgrade to $next (exit $rc, $(( $(date +%s) - s ))s)" test "$rc" = 0
	check "... dmp-dkms and dmpstat are $next-1" \
		cond "[ \"\$(dpkg-query -W -f '\${Version} ' dmp-dkms dmpstat)\" = '$next-1 $next-1 ' ]"
	check "... DKMS has dmp $next for $kver, and no $version" \
		cond "dkms status -m dmp -v $next -k $kver | grep -q ': installed' && [ -z \"\$(dkms status -m dmp -v $version)\" ]"
	check "... the device served I/O all along ($(cat "$state/io-rounds" 2>/dev/null) rounds), no error" \
		cond "[ ! -s $state/io-errors ] && [ \$(cat $state/io-rounds) -gt 0 ] || { cat $state/io-errors; false; }"
	check "... its data is intact (sha256)" \
		cond "[ \"\$(dd if=/dev/mapper/pkg-up bs=1M count=16 iflag=direct status=none | sha256sum)\" = '$sum' ]"
	check "... the module in use stays loaded ($version) and the package says when $next takes over" \
		cond "[ \"\$(cat /sys/module/dmp/version)\" = $version ] && grep -q 'already loaded is in use by: .*the new build is used from the next reboot' $state/apt-upgrade.log"
	check "... modinfo dmp now finds $next" cond "[ \"\$(modinfo -F version dmp)\" = $next ]"
	check "... the administrator's edit of /etc/modprobe.d/dmp.conf is kept" \
		grep -q "an administrator's edit" /etc/modprobe.d/dmp.conf
	check "... and dmptab.service stays disabled" cond "[ \"\$(systemctl is-enabled dmptab.service)\" = disabled ]"
	systemctl --quiet enable dmptab.service
	dmsetup remove pkg-up; losetup -d "$loop"; rm -f "$state/upgrade.img"
	version=$next
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
	# --- By name from the repository, as the README says: the keyring and
	# the .sources file copied, apt update, apt install.
	publish_repo 1
	check "the repository's keyring and .sources file added as the README says" \
		cond "cp /srv/dmp-repo/apt/dmp-archive-keyring.gpg /usr/share/keyrings/ && cp /srv/dmp-repo/apt/dmp.sources /etc/apt/sources.list.d/"
	apt_update_dmp >"$state/apt-update.log" 2>&1
	rc=$?
	check "apt update reads the signed repository (exit $rc, no warning)" \
		cond "[ $rc = 0 ] && ! grep -E '^(W|E):' $state/apt-update.log || { cat $state/apt-update.log; false; }"
	s=$(date +%s)
	apt-get install -y -q dmp-dkms dmpstat >"$state/apt.log" 2>&1
	rc=$?
	grep -E 'dmp-dkms:|dmp:' "$state/apt.log" | sed 's/^/  apt| /'
	check "apt install dmp-dkms dmpstat, by name (exit $rc, $(( $(date +%s) - s ))s with the DKMS build)" test "$rc" = 0
	check "... $version-1 of both, from the repository" \
		cond "[ \"\$(dpkg-query -W -f '\${Version} \${Status}' dmp-dkms dmpstat)\" = '$version-1 install ok installed$version-1 install ok installed' ] && grep -q 'file:/srv/dmp-repo' $state/apt.log"
	check_working "7.3 after install"
	check_version "7.3 after install" "$version"
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
	check "dmpstat lists the statistics as an unprivileged user" as_user dmpstat

	setup_dmptab
	echo "=== boot 1 done in $(elapsed); rebooting"
	next_boot
fi

if [ "$boot" = 2 ]; then
	check_boot "7.3 after reboot"
	check_working "7.3 after reboot"

	upgrade
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
	check_version "$kver after the reboot" "$version"
	check "... which is the upgrade's $next, not the payload's first version" test "$version" = "$next"
	# --- The old kernel goes: its headers removed.
	k1=""
	for h in /dmp/headers/*/; do h=$(basename "$h"); [ "$h" = "$kver" ] || k1=$h; done
	check "remove the first kernel's headers ($k1)" apt-get remove -y -q "linux-lib-rust-$k1" "linux-headers-$k1"
	# --- Downgrade, with apt, to the first version (repo-2 has both).
	s=$(date +%s)
	apt-get install -y -q --allow-downgrades "dmp-dkms=$first-1" "dmpstat=$first-1" >"$state/apt-downgrade.log" 2>&1
	rc=$?
	grep -E 'dmp-dkms:|dmp:' "$state/apt-downgrade.log" | sed 's/^/  apt| /'
	check "apt install --allow-downgrades dmp-dkms=$first-1 dmpstat=$first-1 (exit $rc, $(( $(date +%s) - s ))s)" test "$rc" = 0
	version=$first
	check "... dmp-dkms and dmpstat are $first-1" \
		cond "[ \"\$(dpkg-query -W -f '\${Version} ' dmp-dkms dmpstat)\" = '$first-1 $first-1 ' ]"
	check "... DKMS has dmp $version for $kver, and no $next" \
		cond "dkms status -m dmp -v $version -k $kver | grep -q ': installed' && [ -z \"\$(dkms status -m dmp -v $next)\" ]"
	check "... modinfo dmp finds $version" cond "[ \"\$(modinfo -F version dmp)\" = $version ]"
	check "... nothing of dmp is left for the removed kernel $k1" \
		cond "[ -z \"\$(find /lib/modules/$k1 /var/lib/dkms/dmp /var/cache/dmp -path '*$k1*' -name 'dmp.ko*' 2>/dev/null; find /var/lib/dkms/dmp /var/cache/dmp -name '$k1' 2>/dev/null)\" ]"
	removal
	echo "=== boot 3 done in $(elapsed)"
	finish
fi
fail "unexpected boot $boot"
finish
