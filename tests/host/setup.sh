#!/usr/bin/env bash
# Host test of the project's host set-up (need_host_pkgs in scripts/lib.sh),
# in a chroot of this machine's own Debian suite, so that the host is not
# changed. It reproduces what a fresh machine of this kind looks like:
#
#   - a qemu-utils newer than the suite's (the image ships a backport) which
#     Breaks the suite's qemu-system-common, and no qemu-system-x86: a plain
#     `apt-get install qemu-system-x86` removes qemu-utils, and qemu-img with it;
#   - a package that dpkg lists as installed whose command is gone;
#   - a command that its package does not bring.
#
# The set-up must end with every command present, or name the missing one.
# Needs root, debootstrap and the machine's Debian mirror. The chroot (with
# the .debs it installs, downloaded once) is cached in $DMP_CACHE.
# Ends with `N passed, N failed`.
source "$(dirname "$0")/../../scripts/lib.sh"
set +e

passed=0 failed=0
ok() { echo "ok   $1"; passed=$((passed + 1)); }
bad() { echo "FAIL $1"; [ -z "${2:-}" ] || printf '%s\n' "$2" | tail -15 | sed 's/^/     /'; failed=$((failed + 1)); }

[ "$(id -u)" = 0 ] || die "tests/host/setup.sh needs root (chroot, dpkg)"
need_host_pkgs debootstrap:debootstrap dpkg-dev:dpkg-deb
suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
[ -n "$suite" ] || die "cannot read VERSION_CODENAME from /etc/os-release"
mirror=$(debian_mirror)

# The newer qemu-utils of the machine image, as far as apt can tell: same
# name, a backport's version, the same Breaks on the suite's qemu-system-common.
QEMU_FAKE_VERSION='1:10.0.2+ds-2+deb13u1~bpo12+1'
BASE_PKGS="qemu-system-x86 qemu-utils hello"

# (Keyed by what goes into it, not by this script: editing a case must not
# debootstrap again.)
key=$(cache_key base-v1 "$suite" "$mirror" "$BASE_PKGS")
base=$DMP_CACHE/hosttest-root-$key.tar
if [ ! -f "$base" ]; then
	log "host set-up test: debootstrap $suite (once; cached)"
	b=$(mktemp -d "$DMP_CACHE/hosttest-build.XXXXXX")
	debootstrap --variant=minbase "$suite" "$b" "$mirror" >"$b.log" 2>&1 ||
		{ tail -20 "$b.log"; remove_tree "$b"; die "debootstrap $suite failed"; }
	# Download (not install) what the cases install, so that later runs are
	# quick; the suite's qemu-utils too, which the fix reinstalls.
	in_root "$b" sh -ec "
		apt-get update -q
		apt-get install -y -q -d --no-install-recommends $BASE_PKGS
	" >"$b.log" 2>&1 || { tail -20 "$b.log"; remove_tree "$b"; die "preparing the test root failed"; }
	rm -f "$b.log"
	tar -C "$b" --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* --exclude=./cache \
		-cf "$base.tmp" . && mv "$base.tmp" "$base"
	remove_tree "$b"; rm -f "$b.lock" "$b.users"
	find "$DMP_CACHE" -maxdepth 1 -name 'hosttest-root-*.tar' ! -path "$base" -delete
fi

root=$(mktemp -d "$DMP_CACHE/hosttest.XXXXXX")
trap 'remove_tree "$root"; rm -f "$root.lock" "$root.users"' EXIT
tar -C "$root" -xf "$base" || die "cannot unpack $base"
mkdir -p "$root/dmp" "$root/cache"
cp "$DMP_TOP/scripts/lib.sh" "$root/dmp/lib.sh"
# The chroot's own state of apt: update once at its first set-up, as on a new machine.
rm -f "$root/var/lib/apt/periodic/dmp-updated"

# The fake backport, installed with dpkg as the image has it.
pkg=$root/tmp/qemu-utils-fake
mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin"
cat >"$pkg/DEBIAN/control" <<EOF
Package: qemu-utils
Version: $QEMU_FAKE_VERSION
Architecture: $(dpkg --print-architecture)
Maintainer: dmp tests <dmp@localhost>
Breaks: qemu-system-common (<< 1:8.0+dfsg-5~)
Replaces: qemu-system-common (<< 1:8.0+dfsg-5~)
Description: stand-in for the machine image's backported qemu-utils
EOF
printf '#!/bin/sh\necho "qemu-img version 10.0.2 (fake backport)"\n' >"$pkg/usr/bin/qemu-img"
chmod +x "$pkg/usr/bin/qemu-img"
dpkg-deb -b "$pkg" "$root/tmp/qemu-utils-fake.deb" >/dev/null || die "dpkg-deb failed"
(in_root "$root" dpkg -i /tmp/qemu-utils-fake.deb >/dev/null) || die "dpkg -i of the fake qemu-utils failed"

# Run need_host_pkgs ARGS in the chroot; output in $out, status in $rc.
setup() {
	out=$(in_root "$root" bash -c 'source /dmp/lib.sh && need_host_pkgs "$@"' setup "$@" 2>&1)
	rc=$?
}
# (in_root replaces the EXIT trap while it runs: always in a subshell here.)
has() { (in_root "$root" sh -c "command -v $1") >/dev/null 2>&1; }

# 1. The trap is real here: the plain install removes qemu-utils.
sim=$(in_root "$root" apt-get install -s -q --no-install-recommends qemu-system-x86 2>&1)
if printf '%s\n' "$sim" | grep -q '^Remv qemu-utils '; then
	ok "control: a plain 'apt-get install qemu-system-x86' would remove the newer qemu-utils"
else
	bad "control: the scenario does not reproduce (no 'Remv qemu-utils' in the simulation)" "$sim"
fi

# 2. The set-up keeps qemu-img while installing qemu-system-x86.
setup qemu-system-x86:qemu-system-x86_64 qemu-utils:qemu-img
if [ $rc = 0 ] && has qemu-system-x86_64 && has qemu-img; then
	ok "qemu-system-x86 installed and qemu-img still there (one transaction)"
else
	bad "set-up with a newer qemu-utils (exit $rc; qemu-img: $(has qemu-img && echo present || echo missing))" "$out"
fi
if v=$(in_root "$root" qemu-img --version 2>&1) && printf '%s\n' "$v" | grep -q '^qemu-img version' &&
	(in_root "$root" qemu-system-x86_64 --version) >/dev/null 2>&1; then
	ok "qemu-img and qemu-system-x86_64 run ($(printf '%s\n' "$v" | head -n 1))"
else
	bad "qemu-img or qemu-system-x86_64 does not run" "$v"
fi
if printf '%s\n' "$out" | grep -q 'would remove qemu-utils'; then
	ok "the set-up says which package apt would have removed"
else
	bad "no word of the removal apt planned" "$out"
fi

# 3. A package that dpkg lists as installed, its command gone.
rm -f "$root/usr/bin/qemu-img"
setup qemu-system-x86:qemu-system-x86_64 qemu-utils:qemu-img
if printf '%s\n' "$out" | grep -q "'qemu-img' is not on PATH although qemu-utils is installed"; then
	ok "a command missing from an installed package is named at once"
else
	bad "the missing qemu-img was not named" "$out"
fi
if [ $rc = 0 ] && has qemu-img; then
	ok "and its package reinstalled: qemu-img is back"
else
	bad "qemu-img not restored (exit $rc)" "$out"
fi

# 4. A command its package does not bring: a clear error naming both.
setup hello:hello hello:dmp-no-such-command
if [ $rc != 0 ] && printf '%s\n' "$out" | grep -q "still missing after apt-get install: 'dmp-no-such-command' from hello"; then
	ok "a command still missing after the install is an error naming it and its package"
else
	bad "missing command not reported as an error (exit $rc)" "$out"
fi

# 5. Everything present: nothing is installed, nothing asked of apt.
setup qemu-system-x86:qemu-system-x86_64 qemu-utils:qemu-img hello:hello
if [ $rc = 0 ] && ! printf '%s\n' "$out" | grep -q 'apt-get'; then
	ok "with every command present the set-up does nothing"
else
	bad "set-up with everything present (exit $rc)" "$out"
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
