#!/bin/bash
# Module signatures enforced (issue 11, point 9): Debian's own kernel booted
# with module.sig_enforce=1, as under Secure Boot, in the root where DKMS built
# and signed dmp.ko with its own MOK key (scripts/build-debian-root). That key
# is not enrolled: the kernel must refuse the module, and the package must say
# so and name `mokutil --import` with the key's path. Run by run-host:
#
#   scripts/vm-run --kernel debian:RELEASE --append module.sig_enforce=1 \
#       --payload DIR tests/guest-pkg/debian-secureboot.sh
#
# DIR holds lib.sh. Ends with `N passed, N failed`.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
state=/var/lib/dmp-pkg-test
mkdir -p "$state"
results=$state/results
out=$state/out
kver=$(uname -r)
# shellcheck source=tests/guest-pkg/lib.sh
source /dmp/lib.sh
ko=$(modinfo -n dmp 2>/dev/null)
cert=/var/lib/dkms/mok.pub

check "the kernel enforces module signatures" grep -qx Y /sys/module/module/parameters/sig_enforce
check "dmp.ko is the DKMS build ($ko)" cond "case '$ko' in */updates/dkms/dmp.ko*) true ;; *) false ;; esac"
check "DKMS signed it with its own key" \
	cond "[ \"\$(modinfo -F signer dmp)\" = 'DKMS module signing key' ] && [ -f $cert ]"
check "Debian's own modules still load (dm-mod, signed by Debian)" modprobe dm-mod
modprobe dmp >"$state/modprobe.log" 2>&1
rc=$?
sed 's/^/  modprobe| /' "$state/modprobe.log"
check "modprobe dmp is refused (exit $rc)" cond "[ $rc != 0 ] && [ ! -d /sys/module/dmp ]"
check "... because the key was rejected" grep -q 'Key was rejected by service' "$state/modprobe.log"
# What the package's postinst (configure) runs: it finds dmp built for this
# kernel and loads it. (Called directly: dpkg-reconfigure and apt --reinstall
# also run prerm, which makes DKMS rebuild dmp first, minutes under TCG.)
version=$(dpkg-query -W -f='${Version}' dmp-dkms); version=${version%-*}
/usr/lib/dmp/dmp-dkms install "$version" >"$state/reconfigure.log" 2>&1
rc=$?
grep -E 'dmp-dkms:' "$state/reconfigure.log" | sed 's/^/  postinst| /'
check "the package's install step still exits 0 ($rc)" test "$rc" = 0
check "... and finds dmp already built (no rebuild)" cond "! grep -q 'building dmp' $state/reconfigure.log"
check "it says the kernel refused dmp.ko's signature" \
	grep -q "the kernel refused dmp.ko's signature" "$state/reconfigure.log"
check "it names mokutil --import $cert" grep -q "sudo mokutil --import $cert " "$state/reconfigure.log"
check_not "dmp is not loaded" test -d /sys/module/dmp
modprobe -r dm-mod 2>/dev/null
finish
