#!/bin/bash
# The kernel upgrade a user does (issue 27, point 3), in a systemd guest that
# boots Debian's OLD kernel with dmp-dkms installed (scripts/build-debian-root
# OLD). Run by tests/guest-pkg/kernel-upgrade, whose payload DIR holds lib.sh,
# old-release, new-release and repo/ (a flat apt repository with Debian's own
# packages of NEW and the metapackages).
#
# boot 1 (OLD)  dmp loaded at boot; the apt sources replaced by the payload's
#               repository; linux-source of OLD's version installed (as the
#               README's install line left it); /etc/dmptab with a device over
#               a loop file, 16 MiB written through dmp (sha256), its
#               statistics read by an unprivileged user; then the README's
#               install line again, which now upgrades to NEW's series:
#               `apt-get install linux-image-amd64 linux-headers-amd64
#               linux-source`, while a reader keeps the dmp device busy: exit 0,
#               DKMS built dmp for NEW during it, NEW's initramfs made, nothing
#               left unconfigured, the reader saw no error; the newest kernel
#               in /boot (the bootloader's default) is NEW: reboot into it
# boot 2 (NEW)  running NEW; dmp (DKMS's, vermagic NEW) loaded at boot;
#               dmptab's device back with the same sha256, read by the
#               unprivileged user, counting; the old kernel purged with apt:
#               exit 0, nothing of dmp for OLD left (module, DKMS state,
#               regenerated metadata); dmp still working on NEW
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
old=$(cat /dmp/old-release) new=$(cat /dmp/new-release)
flavour=${new##*-}
newxy=$(echo "$new" | cut -d. -f1-2) oldxy=$(echo "$old" | cut -d. -f1-2)
echo "=== dmp kernel upgrade test, boot $boot, kernel $kver ($old -> $new)"

# shellcheck source=tests/guest-pkg/lib.sh
source /dmp/lib.sh
version=$(dpkg-query -W -f '${Version}' dmp-dkms); version=${version%-*}
data_sum() { dd if=/dev/mapper/pkgdata bs=1M count=16 iflag=direct status=none | sha256sum | cut -d' ' -f1; }

if [ "$boot" = 1 ]; then
	mkdir -p /var/log/journal
	systemd-tmpfiles --create --prefix /var/log/journal >/dev/null 2>&1
	journalctl --flush >/dev/null 2>&1
	check "running Debian's own linux-image-$old" \
		cond "[ $kver = $old ] && dpkg -s linux-image-$old | grep -q '^Status: install ok installed' && grep -q Debian /proc/version"
	check "DKMS built dmp $version for $old, and it was loaded at boot" \
		cond "dkms status -m dmp -v $version -k $old | grep -q ': installed' && [ -d /sys/module/dmp ]"
	# The guest's mirror: the payload's repository only.
	rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*
	rm -rf /var/lib/apt/lists/*
	echo 'deb [trusted=yes] file:/dmp/repo ./' >/etc/apt/sources.list.d/kernel-update.list
	check "apt-get update from the guest's repository" cond "apt-get update -q >$state/apt-update.log 2>&1"
	# The image is a copy of the build root, where linux-source-$newxy is
	# installed (the test bed's kernels are built from it) and whose tarball
	# the image leaves out: a system running $old has no such package.
	if dpkg -s "linux-source-$newxy" >/dev/null 2>&1; then
		check "linux-source-$newxy of the build root purged (not on a system running $old)" \
			cond "dpkg --purge linux-source-$newxy >$state/purge-source.log 2>&1"
	fi
	ov=$(dpkg-query -W -f '${Version}' "linux-headers-$old")
	check "the linux-source metapackage of $old's version ($ov) installed, as the README's line left it" \
		cond "apt-get install -y -q linux-source=$ov >$state/apt-old.log 2>&1 && dpkg-query -W -f '\${Version}' linux-source | grep -qx '$ov'"

	# A dmptab device holding data: a loop file under a dm-linear of a fixed
	# name (made at boot by a unit before dmptab's, as a disk would be).
	truncate -s 64M "$state/data.img"
	cat >/etc/systemd/system/pkg-data-under.service <<-EOF
	[Unit]
	Description=dmp upgrade test: the underlying device of /etc/dmptab
	DefaultDependencies=no
	After=systemd-udevd.service systemd-udev-trigger.service systemd-modules-load.service
	[Service]
	Type=oneshot
	RemainAfterExit=yes
	ExecStart=/bin/sh -c 'if [ -d /sys/module/dmp ]; then echo yes; else echo no; fi >/run/dmp-loaded-early; l=\$(losetup -f --show $state/data.img) && dmsetup create pkg-data-under --table "0 131072 linear \$l 0"'
	[Install]
	WantedBy=sysinit.target
	EOF
	echo 'pkgdata /dev/mapper/pkg-data-under timeout=120' >/etc/dmptab
	systemctl daemon-reload
	systemctl enable --now pkg-data-under.service >/dev/null 2>&1
	check "dmptab start creates pkgdata over the loop device" \
		cond "dmptab start && udevadm settle && dmsetup table pkgdata | grep -q ' dmp '"
	dd if=/dev/urandom of=/dev/mapper/pkgdata bs=1M count=16 oflag=direct status=none
	sum=$(data_sum)
	echo "$sum" >"$state/data.sha256"
	check "16 MiB written through dmp ($sum)" test -n "$sum"
	d=$(kname pkgdata)
	check "an unprivileged user reads pkgdata's statistics ($d)" as_user cat "$STAT/$d/summary"

	# The upgrade, while a reader keeps the device busy.
	(
		n=0
		while [ ! -f "$state/stop-reader" ]; do
			dd if=/dev/mapper/pkgdata of=/dev/null bs=64k count=256 iflag=direct status=none ||
				{ echo "read $n failed" >>"$state/reader-errors"; }
			n=$((n + 1))
		done
		echo "$n" >"$state/reader-count"
	) &
	reader=$!
	s=$(date +%s)
	touch "$state/upgrade-start"
	apt-get install -y -q "linux-image-$flavour" "linux-headers-$flavour" linux-source >"$state/apt-upgrade.log" 2>&1
	rc=$?
	t=$(( $(date +%s) - s ))
	touch "$state/stop-reader"; wait "$reader"
	grep -E 'dmp-dkms:|^dmp:|dkms|Building|initrd|rror' "$state/apt-upgrade.log" | sed 's/^/  apt| /' | tail -n 40
	[ "$rc" = 0 ] || tail -n 20 "$state/apt-upgrade.log" | sed 's/^/  apt| /'
	check "apt-get install linux-image-$flavour linux-headers-$flavour linux-source: exit 0 ($rc, ${t}s)" test "$rc" = 0
	check "... installed Debian's linux-image-$new, its headers and linux-source-$newxy of their version" \
		cond "dpkg -l linux-image-$new linux-headers-$new linux-source-$newxy | grep -c '^ii' | grep -qx 3 && [ \"\$(dpkg-query -W -f '\${Version}' linux-source)\" = \"\$(dpkg-query -W -f '\${Version}' linux-headers-$new)\" ]"
	check "... DKMS built dmp $version for $new during it" \
		cond "grep -Fq -e 'Autoinstall on $new succeeded for module(s) dmp' -e 'Installing /lib/modules/$new/updates/dkms/dmp.ko' -e 'dmp-dkms: dmp $version is installed for kernel $new' $state/apt-upgrade.log && dkms status -m dmp -v $version -k $new | grep -q ': installed' && [ -n \"\$(find /lib/modules/$new/updates/dkms -name 'dmp.ko*' -newer $state/upgrade-start)\" ]"
	check "... dmp.ko for $new has vermagic $new" \
		cond "modinfo -F vermagic /lib/modules/$new/updates/dkms/dmp.ko* | grep -q '^$new '"
	check "... $new's initramfs was made (the hooks after DKMS's ran)" test -s "/boot/initrd.img-$new"
	check "... no package is left unconfigured" cond "[ -z \"\$(dpkg --audit)\" ]"
	check "... the dmp device served reads all through it ($(cat "$state/reader-count" 2>/dev/null) runs, no error)" \
		cond "[ ! -s $state/reader-errors ] && [ \$(cat $state/reader-count) -gt 0 ]"
	check "... its data is intact (sha256)" test "$(data_sum)" = "$sum"
	newest=$(linux-version list | linux-version sort | tail -n 1)
	check "the bootloader's default (the newest kernel in /boot) is $new ($newest)" test "$newest" = "$new"
	mkdir -p /dmp/next-boot
	cp "/boot/vmlinuz-$newest" /dmp/next-boot/vmlinuz
	cp "/boot/initrd.img-$newest" /dmp/next-boot/initrd.img
	echo "$newest" >/dmp/next-boot/release
	echo "=== boot 1 done; rebooting into $newest"
	next_boot guest
fi

if [ "$boot" = 2 ]; then
	sum=$(cat "$state/data.sha256")
	check "running Debian's linux-image-$new after the reboot" cond "[ $kver = $new ] && grep -q Debian /proc/version"
	check "dmp loaded at boot, before any dmp device" cond "grep -qx yes /run/dmp-loaded-early"
	check "the loaded dmp is DKMS's build for $new" \
		cond "modinfo -n dmp | grep -q '/lib/modules/$new/updates/dkms/dmp.ko' && grep -qx '$version' /sys/module/dmp/version"
	check "dmptab.service is active and pkgdata is back as a dmp device" \
		cond "systemctl is-active dmptab.service && dmsetup table pkgdata | grep -q ' dmp '"
	check "pkgdata holds the same data (sha256 $sum)" test "$(data_sum)" = "$sum"
	d=$(kname pkgdata)
	before=$(as_user cat "$STAT/$d/read_cnt" 2>&1)
	dd if=/dev/mapper/pkgdata of=/dev/null bs=4096 count=10 iflag=direct status=none
	after=$(as_user cat "$STAT/$d/read_cnt" 2>&1)
	check "an unprivileged user reads pkgdata's read_cnt: +10 after 10 reads ($before -> $after)" \
		cond "[ \"\$(( $before + 10 ))\" = '$after' ]"
	check_working "$new after the upgrade"

	# The old kernel removed, as a user does once the new one boots.
	s=$(date +%s)
	apt-get purge -y -q "linux-image-$old" "linux-headers-$old" "linux-source-$oldxy" >"$state/apt-purge.log" 2>&1 &&
		apt-get autoremove --purge -y -q >>"$state/apt-purge.log" 2>&1
	rc=$?
	grep -E 'dmp-dkms:|^dmp:|dkms|rror|Removing' "$state/apt-purge.log" | sed 's/^/  apt| /' | tail -n 30
	check "apt-get purge of linux-image-$old, its headers and source, then autoremove: exit 0 ($rc, $(( $(date +%s) - s ))s)" test "$rc" = 0
	check "... $old's kernel packages are gone" \
		cond "! dpkg -l 'linux-*-$old' 'linux-image-$old' 2>/dev/null | grep -q '^ii'"
	check "... no dmp module is left for $old" \
		cond "[ -z \"\$(find /lib/modules/$old /usr/lib/modules/$old -name 'dmp.ko*' 2>/dev/null)\" ]"
	check "... DKMS has no dmp for $old" \
		cond "! dkms status -m dmp | grep -q '$old' && [ -z \"\$(find /var/lib/dkms/dmp -maxdepth 2 -name '*$old*' 2>/dev/null)\" ]"
	check "... no regenerated Rust metadata is left for $old" \
		cond "[ -z \"\$(ls -d /var/cache/dmp/rust-meta/$old* 2>/dev/null)\" ] && [ -f /var/cache/dmp/rust-meta/$new/stamp ]"
	ls /var/cache/dmp/rust-meta/ 2>&1 | sed 's/^/  rust-meta| /'
	check "... dmp is still loaded" test -d /sys/module/dmp
	check "... pkgdata intact" test "$(data_sum)" = "$sum"
	finish
fi
fail "unexpected boot $boot"
finish
