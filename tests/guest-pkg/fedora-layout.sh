#!/bin/bash
# The dmp-dkms .rpm on Fedora's kernel layout (issue 11, point 6): the test
# bed's kernel laid out as Fedora installs one (scripts/build-fedora-layout:
# kernel-devel in /usr/src/kernels/<rel> with no rust/, the kernel's source
# where `rpmbuild -bp` leaves it, ID=fedora), and the .rpm installed there
# with rpm itself, so its scriptlets and DKMS run as on a Fedora machine,
# natively. Then the dmp.ko they built is loaded into that kernel in a guest.
#
#   tests/guest-pkg/fedora-layout.sh PACKAGE-DIR [VERSION [NEXT-PACKAGE-DIR]]    (VERSION: 7.3)
#
# 1. in an overlay over the layout (the template is never changed):
#    rpm -i without a source named: the transaction succeeds, nothing is
#    built, and the message says how to get and prepare the source rpm; the
#    line it gives to name the tree is run as printed; rpm --reinstall:
#    %post regenerates the Rust metadata from that tree into
#    /var/cache/dmp/rust-meta/<rel> and DKMS installs dmp.ko in extra/;
#    kernel-devel and the source tree are unchanged; rpm -U to the next
#    version (NEXT-PACKAGE-DIR, scripts/package-next) and back with
#    --oldpackage, keeping a conffile edit and a disabled dmptab; rpm -e
#    leaves nothing.
# 2. the guest (scripts/vm-run): that dmp.ko loads into the kernel, a dmp
#    device counts a 4 KiB write, a 4 KiB read and a 512-byte write exactly,
#    and it unloads.
#
# Not verified here: Fedora's userland (rpm is Debian's, there is no dnf),
# Fedora's own kernel build (the kernel is the test bed's, built from
# Debian's linux-source), and the real rpmbuild -bp of a kernel source rpm.
#
# Ends with `N passed, N failed` (both parts).
set -u

if [ "${1:-}" = --chroot ]; then
	# ---- Part 1, inside the overlay. $2: the release. /tmp/dmp-test holds
	# the .rpm and lib.sh; dmp.ko is left in /tmp/dmp-test/out.
	rel=$2 t=/tmp/dmp-test
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	results=$t/results out=$t/check.out
	: >"$results"
	# shellcheck source=tests/guest-pkg/lib.sh
	source "$t/lib.sh"
	rpmf=$(ls "$t"/dmp-dkms-*.noarch.rpm)
	version=$(rpm -qp --qf '%{VERSION}' "$rpmf" 2>/dev/null)
	kd=/usr/src/kernels/$rel
	src=$(ls -d /root/rpmbuild/BUILD/kernel-*/"linux-$rel")
	snap() { (cd "$1" && find . -printf '%p %y %s %T@ %l\n' | sort | sha256sum); }
	kd_before=$(snap "$kd") src_before=$(snap "$src")

	check "Fedora's layout: /lib/modules/$rel/build is $kd, which has no rust/" \
		cond "[ \"\$(readlink /lib/modules/$rel/build)\" = $kd ] && [ -f $kd/Module.symvers ] && [ ! -e $kd/rust ] && grep -q '^ID=fedora' /etc/os-release"

	rpm -i --nodeps "$rpmf" >"$t/rpm-i.log" 2>&1
	rc=$?
	sed 's/^/  rpm -i| /' "$t/rpm-i.log"
	check "rpm -i dmp-dkms without the kernel's source: the transaction succeeds (exit $rc)" test "$rc" = 0
	check "... and builds nothing (DKMS: added only)" \
		cond "[ -z \"\$(find /lib/modules -name 'dmp.ko*')\" ] && dkms status -m dmp -v $version | grep -q ': added'"
	check "... the message says how to get and prepare the kernel's source rpm" \
		cond "grep -q \"Fedora's kernel-devel ships none\" $t/rpm-i.log && grep -q 'dnf download --source kernel-' $t/rpm-i.log && grep -q 'rpmbuild -bp' $t/rpm-i.log"
	check_not "... and names no Debian or Ubuntu package" grep -Eq 'linux-lib-rust|linux-source|apt install' "$t/rpm-i.log"
	# The line the message gives for naming the prepared tree, run as printed.
	name_it=$(sed -n 's/^ *dmp: *\(mkdir -p \/etc\/dmp && echo ".*" >>\/etc\/dmp\/kernel-source\)$/\1/p' "$t/rpm-i.log" | head -n 1)
	check "... its line naming the tree works as printed: $name_it" \
		cond "[ -n '$name_it' ] && bash -c '$name_it' && grep -qx '$rel $src' /etc/dmp/kernel-source"

	s=$(date +%s)
	rpm -U --replacepkgs --nodeps "$rpmf" >"$t/rpm-U.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - s ))
	sed 's/^/  rpm --reinstall| /' "$t/rpm-U.log"
	check "rpm --reinstall with the tree named (exit $rc, ${secs}s)" test "$rc" = 0
	check "... %post regenerated the Rust metadata from the named tree" \
		cond "grep -q 'regenerated first from the kernel' $t/rpm-U.log && grep -qx 'source=$src (named in /etc/dmp/kernel-source)' /var/cache/dmp/rust-meta/$rel/stamp && [ -f /var/cache/dmp/rust-meta/$rel/build/rust/libkernel.rmeta ]"
	check "... DKMS installed dmp $version for $rel in extra/ (Fedora's place)" \
		cond "grep -q 'dmp $version is installed for kernel(s): $rel' $t/rpm-U.log && dkms status -m dmp -v $version -k $rel | grep -q ': installed' && { [ -f /lib/modules/$rel/extra/dmp.ko ] || [ -f /lib/modules/$rel/extra/dmp.ko.xz ]; }"
	ko=$(find /lib/modules/"$rel"/extra -name 'dmp.ko*' | head -n 1)
	check "... its vermagic is $rel" cond "modinfo -F vermagic $ko | grep -q '^$rel '"
	check "kernel-devel ($kd) is unchanged" test "$(snap "$kd")" = "$kd_before"
	check "the source tree is unchanged (not configured, nothing built in it)" test "$(snap "$src")" = "$src_before"
	mkdir -p "$t/out"
	[ -n "$ko" ] && cp "$ko" "$t/out/"

	# rpm -U to the next version (the same tree, version raised) and back
	# with --oldpackage, with a conffile edited and dmptab disabled by the
	# administrator (here, without systemd: its link removed).
	nrpm=$(ls "$t"/next/dmp-dkms-*.noarch.rpm 2>/dev/null | head -n 1)
	if [ -f "$nrpm" ]; then
		nver=$(rpm -qp --qf '%{VERSION}' "$nrpm" 2>/dev/null)
		echo "# an administrator's edit, kept across upgrades" >>/etc/modprobe.d/dmp.conf
		wants=/etc/systemd/system/sysinit.target.wants/dmptab.service
		check "rpm %post of the first install enabled dmptab (its link)" test -L "$wants"
		rm -f "$wants"
		for step in "upgrade:$nver:$nrpm:" "downgrade:$version:$rpmf:--oldpackage"; do
			IFS=: read -r what v f opt <<<"$step"
			s=$(date +%s)
			# shellcheck disable=SC2086 # opt is empty or one word
			rpm -U $opt --nodeps "$f" >"$t/rpm-$what.log" 2>&1
			rc=$?
			sed "s/^/  rpm -U $opt| /" "$t/rpm-$what.log"
			check "rpm -U $opt to $v, the $what (exit $rc, $(( $(date +%s) - s ))s)" \
				cond "[ $rc = 0 ] && [ \"\$(rpm -q --qf '%{VERSION}' dmp-dkms)\" = $v ]"
			check "... DKMS has only dmp $v, installed for $rel, and its dmp.ko says $v" \
				cond "dkms status dmp; [ \"\$(dkms status dmp | grep -c .)\" = 1 ] && dkms status -m dmp -v $v -k $rel | grep -q ': installed' && [ \"\$(modinfo -F version \$(find /lib/modules/$rel/extra -name 'dmp.ko*'))\" = $v ]"
			check "... the regenerated metadata was reused (not made again)" \
				cond "! grep -q 'regenerated first' $t/rpm-$what.log && [ -f /var/cache/dmp/rust-meta/$rel/build/rust/libkernel.rmeta ]"
			check "... the administrator's edit of /etc/modprobe.d/dmp.conf is kept" \
				grep -q "an administrator's edit" /etc/modprobe.d/dmp.conf
			check "... and dmptab stays disabled" test ! -e "$wants"
		done
	else
		fail "no next version's rpm in $t/next (scripts/package-next)"
	fi

	rpm -e dmp-dkms >"$t/rpm-e.log" 2>&1
	rc=$?
	sed 's/^/  rpm -e| /' "$t/rpm-e.log"
	check "rpm -e dmp-dkms (exit $rc)" test "$rc" = 0
	check "... leaves no dmp.ko, DKMS state, sources or regenerated metadata" \
		cond "for p in /usr/src/dmp-$version /var/lib/dkms/dmp /var/cache/dmp /usr/lib/dmp; do [ ! -e \$p ] || { echo left: \$p; exit 1; }; done; [ -z \"\$(find /lib/modules -name 'dmp.ko*')\" ] && [ -z \"\$(dkms status dmp 2>/dev/null)\" ]"
	check "kernel-devel is still unchanged" test "$(snap "$kd")" = "$kd_before"
	echo "$(grep -c '^PASS' "$results") passed, $(grep -c '^FAIL' "$results") failed"
	exit 0
fi

if [ "${1:-}" = --guest ]; then
	# ---- Part 2, in the test bed's guest; /dmp/fedora holds the dmp.ko.
	export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	export DM_DISABLE_UDEV=1
	state=/tmp/fedora-load results=/tmp/fedora-load/results out=/tmp/fedora-load/out
	mkdir -p "$state"
	# shellcheck source=tests/guest-pkg/lib.sh
	source /dmp/lib.sh
	ko=$(ls /dmp/fedora/dmp.ko*)
	kver=$(uname -r)
	S=/sys/module/dmp/stat
	check "the module built on Fedora's layout is for this kernel ($kver)" \
		cond "modinfo -F vermagic $ko | grep -q '^$kver '"
	check_not "the test bed's own dmp is not loaded" test -d /sys/module/dmp
	check "insmod it" insmod "$ko"
	check "dmsetup create with a dmp table" \
		cond "dmsetup create fz --table '0 20480 zero' && dmsetup create fd --table '0 20480 dmp /dev/mapper/fz'"
	d=$(dmsetup info -c --noheadings -o blkdevname fd)
	dd if=/dev/zero of=/dev/mapper/fd bs=4096 count=1 oflag=direct status=none
	dd if=/dev/mapper/fd of=/dev/null bs=4096 count=1 iflag=direct status=none
	dd if=/dev/zero of=/dev/mapper/fd bs=512 count=1 seek=8 oflag=direct status=none
	got="$(cat $S/$d/read_cnt) $(cat $S/$d/read_avr_bs) $(cat $S/$d/write_cnt) $(cat $S/$d/write_avr_bs)"
	check "it counts a 4 KiB write, a 4 KiB read, a 512-byte write exactly (read 1/4096, write 2/2304): $got" \
		test "$got" = "1 4096 2 2304"
	check "remove the devices and unload" cond "dmsetup remove fd fz && rmmod dmp && [ ! -d /sys/module/dmp ]"
	echo "$(grep -c '^PASS' "$results") passed, $(grep -c '^FAIL' "$results") failed"
	[ "$(grep -c '^FAIL' "$results")" = 0 ]
	exit $?
fi

# ---- On the host.
source "$(dirname "$0")/../../scripts/lib.sh"
[ $# -ge 1 ] && [ $# -le 3 ] || die "usage: tests/guest-pkg/fedora-layout.sh PACKAGE-DIR [VERSION [NEXT-PACKAGE-DIR]]"
pkgdir=$1 kv=${2:-7.3} nextdir=${3:-}
rpmf=$(ls "$pkgdir"/dmp-dkms-*.noarch.rpm 2>/dev/null | head -n 1)
[ -f "$rpmf" ] || die "fedora-layout: no dmp-dkms-*.noarch.rpm in $pkgdir (scripts/package makes it)"
dir=$("$DMP_TOP/scripts/build-fedora-layout" "$kv") || die "fedora-layout: scripts/build-fedora-layout $kv failed"
rel=$(cat "$dir/release")
work=$(mktemp -d "$DMP_CACHE/fedora-run.XXXXXX")
m=$work/merged
cleanup() {
	mountpoint -q "$m" && umount "$m"
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/upper" "$work/wd" "$m" "$work/guest/fedora"
mount -t overlay overlay -o "lowerdir=$dir/root,upperdir=$work/upper,workdir=$work/wd" "$m" ||
	die "fedora-layout: cannot mount an overlay over $dir/root"
mkdir -p "$m/tmp/dmp-test"
cp "$rpmf" "$DMP_TOP/tests/guest-pkg/lib.sh" "$0" "$m/tmp/dmp-test/"
if [ -n "$nextdir" ]; then
	mkdir -p "$m/tmp/dmp-test/next"
	cp "$nextdir"/dmp-dkms-*.noarch.rpm "$m/tmp/dmp-test/next/" || die "fedora-layout: no dmp-dkms rpm in $nextdir"
fi
log "fedora layout $rel: the .rpm installed with rpm (its scriptlets run DKMS natively)"
( in_root "$m" bash "/tmp/dmp-test/$(basename "$0")" --chroot "$rel" ) 2>&1 | tee "$work/chroot.log"
p1=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$work/chroot.log" | tail -n 1)
[ -n "$p1" ] || p1="0 1"
ko=$(ls "$m"/tmp/dmp-test/out/dmp.ko* 2>/dev/null | head -n 1)
p2="0 1"
if [ -n "$ko" ]; then
	cp "$ko" "$work/guest/fedora/"
	cp "$DMP_TOP/tests/guest-pkg/lib.sh" "$work/guest/lib.sh"
	log "fedora layout $rel: that dmp.ko in the guest"
	set +e
	"$DMP_TOP/scripts/vm-run" --kernel "$kv" --timeout 300 --payload "$work/guest" "$0" --guest 2>&1 | tee "$work/guest.log"
	rc=${PIPESTATUS[0]}
	set -e
	p2=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$work/guest.log" | tail -n 1)
	[ -n "$p2" ] || p2="0 1"
	[ "$rc" = 0 ] || [ "${p2#* }" != 0 ] || p2="${p2% *} 1"
else
	echo "FAIL no dmp.ko was built on Fedora's layout: nothing to load"
fi
read -r a1 b1 <<<"$p1"; read -r a2 b2 <<<"$p2"
echo "$((a1 + a2)) passed, $((b1 + b2)) failed"
[ $((b1 + b2)) = 0 ]
