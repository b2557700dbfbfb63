#!/bin/bash
# End-to-end test of the dmp-dkms package on one of Debian's own kernels
# (issue 11, point 5), in a systemd guest. Run by tests/guest-pkg/run-host:
#
#   scripts/vm-run --systemd --kernel debian:RELEASE --payload DIR tests/guest-pkg/debian-e2e.sh
#
# The root was made by scripts/build-debian-root: Debian's linux-image,
# linux-headers and linux-source for RELEASE, then `apt install ./dmp-dkms_*.deb`,
# whose DKMS build (natively, through the package's wrapper, which regenerated
# the Rust metadata the headers lack) put dmp.ko in updates/dkms. DIR holds
# pkgs/dmp-dkms_*.deb (the same package) and lib.sh (the shared checks).
#
# boot 1  Debian's kernel runs; dmp was loaded at boot (modules-load.d);
#         unloaded, the package's install step (its postinst) finds dmp built
#         and loads it; an unprivileged user reads the statistics (udev rule);
#         a dmp device counts exactly; Debian's kernel of another series
#         installed without its source: apt exits 0, DKMS skips dmp for it;
#         removed again with apt purge (nothing of dmp left for it);
#         /etc/dmptab set up; reboot
# boot 2  dmp loaded at boot, the dmptab device is back, readable by the user
#
# Every check prints PASS/FAIL; `N passed, N failed` at the end.
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
if [ -d /run/systemd/system ]; then
	systemctl mask --now serial-getty@ttyS0.service >/dev/null 2>&1
	exec >/dev/ttyS0 2>&1
fi
echo "=== dmp package test on Debian's kernel, boot $boot, kernel $kver"

# shellcheck source=tests/guest-pkg/lib.sh
source /dmp/lib.sh
pkg_deb=$(ls /dmp/pkgs/dmp-dkms_*_all.deb)
version=$(dpkg-deb -f "$pkg_deb" Version); version=${version%-*}

# A kernel update dmp cannot be built for (issue 27, point 1): Debian's own
# image and headers of another series (DIR/skip-kernel: their .debs and
# release), without its linux-source. apt installs them with exit 0, DKMS
# skips dmp with the reason and the fix, the image's initramfs is made (the
# hooks after DKMS's ran), and dmp for the running kernel is untouched.
kernel_update_skip() {
	local d=/dmp/skip-kernel k s rc
	[ -f "$d/release" ] || { fail "no kernel dmp cannot build for in the payload ($d)"; return; }
	k=$(cat "$d/release")
	s=$(date +%s)
	apt-get install -y -q "$d"/*.deb >"$state/apt-skip.log" 2>&1
	rc=$?
	grep -E 'dmp-dkms:|dmp:|Autoinstall|rror|BUILD_EXCLUSIVE|initrd' "$state/apt-skip.log" | sed 's/^/  apt| /'
	[ "$rc" = 0 ] || tail -n 15 "$state/apt-skip.log" | sed 's/^/  apt| /'
	check "apt install of Debian's linux-image-$k and headers, no linux-source-${k%.*.*}: exit 0 ($rc, $(( $(date +%s) - s ))s)" \
		cond "[ $rc = 0 ] && dpkg -l linux-image-$k linux-headers-$k | grep -c '^ii' | grep -qx 2"
	check "... its initramfs was made (the hooks after DKMS's ran)" test -s "/boot/initrd.img-$k"
	check "... DKMS skipped dmp for $k, saying why and the fix" \
		cond "grep -q '^dmp: cannot build for kernel $k' $state/apt-skip.log && grep -q '^dmp: fix: apt install linux-source-' $state/apt-skip.log && grep -q 'Autoinstall on $k was skipped for module(s) dmp' $state/apt-skip.log"
	check "... dkms status: dmp is not built for $k, still installed for $kver" \
		cond "! dkms status -m dmp -v $version -k $k | grep -q '$k' && dkms status -m dmp -v $version -k $kver | grep -q ': installed'"
	check "... no package is left unconfigured" cond "[ -z \"\$(dpkg --audit)\" ]"
	# That kernel removed again (the end of tests/guest-pkg/kernel-upgrade,
	# in short): apt exits 0, nothing of dmp names it, dmp for the running
	# kernel and its regenerated metadata stay.
	s=$(date +%s)
	# Every package of that update (installed here from its .deb files, so
	# apt holds them as installed by hand, not for autoremove).
	apt-get purge -y -q $(for f in "$d"/*.deb; do dpkg-deb -f "$f" Package; done) >"$state/apt-skip-purge.log" 2>&1 &&
		apt-get autoremove --purge -y -q >>"$state/apt-skip-purge.log" 2>&1
	rc=$?
	[ "$rc" = 0 ] || tail -n 15 "$state/apt-skip-purge.log" | sed 's/^/  apt| /'
	check "apt purge of that update's packages, then autoremove: exit 0 ($rc, $(( $(date +%s) - s ))s)" test "$rc" = 0
	check "... no package of $k is left" \
		cond "! dpkg -l 'linux-*$k*' 2>/dev/null | grep '^ii'"
	check "... nothing of dmp names $k; dmp for $kver and its metadata stay" \
		cond "[ -z \"\$(find /lib/modules/$k -name 'dmp.ko*' 2>/dev/null; find /var/lib/dkms/dmp /var/cache/dmp -maxdepth 3 -name '*$k*' 2>/dev/null)\" ] && dkms status -m dmp -v $version -k $kver | grep -q ': installed' && [ -f /var/cache/dmp/rust-meta/$kver/stamp ] && [ -d /sys/module/dmp ]"
}

if [ "$boot" = 1 ]; then
	mkdir -p /var/log/journal
	systemd-tmpfiles --create --prefix /var/log/journal >/dev/null 2>&1
	journalctl --flush >/dev/null 2>&1
	check "the running kernel is Debian's own linux-image-$kver" \
		cond "dpkg -s linux-image-$kver | grep -q '^Status: install ok installed' && grep -q 'Debian' /proc/version"
	check "its headers carry no Rust metadata of their own" \
		cond "[ ! -e /usr/src/linux-headers-$kver/rust/libkernel.rmeta ]"
	check "dmp-dkms is installed and DKMS built dmp $version for $kver" \
		cond "dpkg -s dmp-dkms | grep -q '^Status: install ok installed' && dkms status -m dmp -v $version -k $kver | grep -q ': installed'"
	check "dmp.ko's vermagic is $kver" cond "modinfo -F vermagic dmp | grep -q '^$kver '"
	check "dmp was loaded at boot (modules-load.d), before any dmp device" \
		cond "[ -d /sys/module/dmp ] && ! dmsetup table 2>/dev/null | grep -q ' dmp '"
	# What the package's postinst runs (apt install's configure step), on the
	# booted kernel with dmp unloaded: it finds dmp built for this kernel (by
	# the apt install in scripts/build-debian-root, natively) and loads it.
	# Called directly: apt --reinstall also runs prerm, which removes the DKMS
	# build (as Debian's DKMS packages do), and rebuilding under TCG took 395 s.
	check "modprobe -r dmp" cond "modprobe -r dmp && [ ! -d /sys/module/dmp ]"
	s=$(date +%s)
	/usr/lib/dmp/dmp-dkms install "$version" >"$state/postinst.log" 2>&1
	rc=$?
	grep -E 'dmp-dkms:|dmp:' "$state/postinst.log" | sed 's/^/  postinst| /'
	check "the package's install step on the booted kernel (exit $rc, $(( $(date +%s) - s ))s)" test "$rc" = 0
	check "... finds dmp $version built for $kver (no rebuild) and loads it" \
		cond "grep -q 'dmp $version is installed for kernel(s):.* $kver' $state/postinst.log && ! grep -q 'building dmp' $state/postinst.log && [ -d /sys/module/dmp ]"
	check_working "debian $kver after apt install"
	kernel_update_skip
	setup_dmptab
	echo "=== boot 1 done; rebooting"
	next_boot
fi

if [ "$boot" = 2 ]; then
	check "still Debian's kernel $kver after the reboot" cond "grep -q 'Debian' /proc/version"
	check_boot "debian $kver after reboot"
	check_working "debian $kver after reboot"
	finish
fi
fail "unexpected boot $boot"
finish
