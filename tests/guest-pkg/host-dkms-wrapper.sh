#!/bin/bash
# Host test of scripts/dkms/dkms-make (the MAKE command of dkms.conf): every
# prerequisite failure against a fake kernel build tree gives its own exit
# status and a message naming the package of the distribution it runs on
# (fake os-release files: Ubuntu 24.04, Debian 13, Fedora 43, none); a
# versioned rustc-X.Y / bindgen-X.Y is picked when it is the one that built
# the kernel. Build trees without Rust metadata (Debian's and Fedora's
# layouts) get it regenerated from the matching kernel source (a fake `make`
# writes the rust/ files), once per release, into a private build tree; a
# dmp.ko that does not fit the kernel is refused.
# Needs nothing but sh, coreutils and tar. Ends with `N passed, N failed`.
# VERBOSE=1 shows the wrapper's output of the cases that pass too.
set -u
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
# The wrapper runs from a copy: it builds (and deletes) dmp.ko beside itself.
# (DMP_TEST_WRAPPER: another wrapper to test, e.g. one broken on purpose.)
mkdir -p "$tmp/src/scripts/dkms"
cp "${DMP_TEST_WRAPPER:-$here/../../scripts/dkms/dkms-make}" "$tmp/src/scripts/dkms/dkms-make"
wrapper=$tmp/src/scripts/dkms/dkms-make
cp "$here/../../scripts/dkms/kernel-print.sed" "$here/../../scripts/dkms/kernel-print-text.rs" "$tmp/src/scripts/dkms/"
mkdir -p "$tmp/src/src/kmod"
cp "$here/../../src/kmod/bindings_wrapper.h" "$here/../../src/kmod/helpers.h" "$tmp/src/src/kmod/"

KVER=6.17.0-5-generic
RUSTC_TEXT='rustc 1.82.0 (f6e511eec 2024-10-15) (built from a source tarball)'
BINDGEN_TEXT='bindgen 0.65.1'
DEB_REL=7.3.4+deb13-amd64 DEB_VER=7.3.4-1~bpo13+1
DEB_VER_RE='7\.3\.4-1~bpo13\+1' DEB_REL_RE='7\.3\.4\+deb13-amd64' # the same, in patterns
DEB_RUSTC='rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)'
FED_REL=6.17.1-300.fc43.x86_64

# A fake tool printing a fixed --version (and a sysroot that has rust-src).
tool() { # PATH-OF-TOOL VERSION-TEXT
	mkdir -p "$(dirname "$1")"
	# shellcheck disable=SC2016 # $1 belongs to the generated script
	printf '#!/bin/sh\n[ "$1" = --version ] && echo "%s"\n[ "$1 ${2:-}" = "--print sysroot" ] && echo "%s"\nexit 0\n' \
		"$2" "$tmp/sysroot" >"$1"
	chmod +x "$1"
}
mkdir -p "$tmp/sysroot/lib/rustlib/src/rust/library/core/src" "$tmp/inc/openssl"
touch "$tmp/sysroot/lib/rustlib/src/rust/library/core/src/lib.rs" "$tmp/inc/libelf.h" "$tmp/inc/openssl/opensslv.h"

# os-release files (OS=none: no file, an unknown distribution).
printf 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\n' >"$tmp/os-ubuntu"
printf 'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n' >"$tmp/os-debian"
printf 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=43\n' >"$tmp/os-fedora"

# A kernel build tree as Ubuntu's headers lay it out (LAYOUT=ubuntu, the
# default: rust/ links to linux-lib-rust's files), as Debian's (LAYOUT=debian:
# a Makefile setting KBUILD_OUTPUT and including the common tree's, scripts/
# linking to linux-kbuild's, no rust/), or as Fedora's kernel-devel
# (LAYOUT=fedora: a full tree, no rust/, no rustc_cfg). Its Module.symvers
# exports what the fake dmp.ko imports; the fake modinfo prints its vermagic.
tree() { # DIR
	local d=$1 r=${REL:-$KVER}
	rm -rf "$d" "$tmp/lib-rust" "$tmp/kbuild"; mkdir -p "$d/include/config" "$d/include/generated"
	echo "$r" >"$d/include/config/kernel.release"
	cat >"$d/include/config/auto.conf" <<EOF
CONFIG_CC_VERSION_TEXT="gcc (Ubuntu 14.2.0-4ubuntu2) 14.2.0"
CONFIG_CC_IS_GCC=y
CONFIG_GCC_VERSION=140200
CONFIG_RUSTC_VERSION_TEXT="${RTEXT:-$RUSTC_TEXT}"
CONFIG_BINDGEN_VERSION_TEXT="$BINDGEN_TEXT"
CONFIG_RUST=y
CONFIG_BLK_DEV_DM=m
EOF
	cp "$d/include/config/auto.conf" "$d/.config"
	printf '0x00000000\t%s\tvmlinux\tEXPORT_SYMBOL_GPL\t\n' dm_register_target \
		_RNvNtCs2lKf6AS60Zg_6kernel5print11call_printk >"$d/Module.symvers"
	printf '%s\n' dm_register_target _RNvNtCs2lKf6AS60Zg_6kernel5print11call_printk >"$tmp/imports"
	echo "$r SMP preempt mod_unload " >"$tmp/vermagic"
	case ${LAYOUT:-ubuntu} in
	ubuntu)
		echo '# fake kernel Makefile' >"$d/Makefile"
		mkdir -p "$tmp/lib-rust/rust"
		touch "$tmp/lib-rust/rust/libkernel.rmeta"
		ln -s "$tmp/lib-rust/rust" "$d/rust" ;;
	debian)
		printf 'KBUILD_OUTPUT=%s\ninclude %s/common/Makefile\n' "$d" "$tmp" >"$d/Makefile"
		mkdir -p "$tmp/kbuild/scripts"; echo '# kbuild' >"$tmp/kbuild/scripts/Makefile.build"
		ln -s "$tmp/kbuild/scripts" "$d/scripts"
		echo '--cfg=CONFIG_RUST' >"$d/include/generated/rustc_cfg" ;;
	fedora)
		printf '# fake top Makefile\nVERSION = 6\n' >"$d/Makefile"
		mkdir -p "$d/scripts"; echo '# kbuild' >"$d/scripts/Makefile.build" ;;
	esac
}
# A kernel source tree (a Makefile with its version) as a directory and, with
# a third argument, as a tarball of it like Debian's linux-source-X.Y.tar.xz.
ksource() { # DIR VERSION.PATCHLEVEL.SUBLEVEL [TARBALL]
	local v=$2
	rm -rf "$1"; mkdir -p "$1"
	printf 'VERSION = %s\nPATCHLEVEL = %s\nSUBLEVEL = %s\n' "${v%%.*}" "$(echo "$v" | cut -d. -f2)" "${v##*.}" >"$1/Makefile"
	# The lines of 6.12's rust/kernel/print.rs and kunit.rs that print %pA.
	mkdir -p "$1/rust/kernel" "$1/rust/bindings"
	cat >"$1/rust/kernel/print.rs" <<'RS'
// Called from `vsprintf` with format specifier `%pA`.
            b"%pA\0\0\0\0\0"
            b"%s: %pA\0"
            &args as *const _ as *const c_void,
            &args as *const _ as *const c_void,
RS
	printf '%s\n' '            c"\x013%pA".as_ptr() as _,' '            &args as *const _ as *const c_void,' \
		'            c"\x016%pA".as_ptr() as _,' '            &args as *const _ as *const c_void,' >"$1/rust/kernel/kunit.rs"
	echo '#include <linux/blk-mq.h>' >"$1/rust/bindings/bindings_helper.h"
	if [ $# -ge 3 ]; then
		mkdir -p "$(dirname "$3")"
		tar -cf "$3" -C "$(dirname "$1")" "$(basename "$1")"
	fi
}
# What the fake dpkg-query knows: the package owning the build tree and the
# installed versions.
dpkg_state() { # OWNER OWNER-VERSION [PACKAGE VERSION]...
	rm -rf "$tmp/dpkg"; mkdir -p "$tmp/dpkg"
	echo "$1" >"$tmp/dpkg/owner"; echo "$2" >"$tmp/dpkg/$1"; shift 2
	while [ $# -ge 2 ]; do echo "$2" >"$tmp/dpkg/$1"; shift 2; done
}

# Fresh tool directory: a fake make that records its arguments (an O= run,
# the metadata regeneration, writes the files `make prepare` would and counts
# itself; an M= run writes dmp.ko), fake nm, modinfo and dpkg-query reading
# the case's files, the right gcc, the tools `make prepare` needs, and
# whatever the case adds. Fresh metadata directory, no configuration file.
bin=$tmp/bin
reset_bin() {
	rm -rf "$bin" "$tmp/meta" "$tmp/kernel-source" "$tmp/dpkg" "$tmp/usrsrc"; mkdir -p "$bin"
	cat >"$bin/make" <<'EOF'
#!/bin/sh
echo "make $*" >"@T@/make.args"
M= O= KR=
for a; do case $a in M=*) M=${a#M=} ;; O=*) O=${a#O=} ;; KERNELRELEASE=*) KR=${a#KERNELRELEASE=} ;; esac; done
case $M in
*/probe-headers) echo "struct bio { size: 136 }" >"$M/probe.o"; echo "make $*" >"@T@/probe-headers.args"; exit 0 ;;
*/probe-private) echo "struct bio { size: 136 }" >"$M/probe.o"
	[ -f "@T@/layout-differs" ] && echo "struct bio { size: 144 }" >"$M/probe.o"
	echo "make $*" >"@T@/probe-private.args"; exit 0 ;;
esac
case " $* " in *" CONFIG_RUST=y "*" prepare "*) [ -n "$O" ] && { echo "make $*" >"@T@/crates.args"; [ -f "@T@/pA-left" ] && echo '%pA' >"$O/rust/kernel.o"; exit 0; } ;; esac
if [ -n "$O" ] && [ -z "$M" ]; then
	echo "make $*" >"@T@/regen.args"; echo run >>"@T@/regen.count"
	[ -f "@T@/fail-prepare" ] && { echo "error[E0463]: can't find crate for core"; exit 2; }
	mkdir -p "$O/rust/helpers" "$O/scripts" "$O/include/config" "$O/include/generated"
	for c in core kernel pin_init ffi bindings uapi; do echo "meta $c" >"$O/rust/lib$c.rmeta"; done
	touch "$O/rust/libmacros.so" "$O/rust/kernel.o" "$O/scripts/target.json" "$O/include/generated/rustc_cfg"
	echo "$KR" >"$O/include/config/kernel.release"
	[ -f "@T@/config-extra" ] && cat "@T@/config-extra" >>"$O/.config"
	touch "$O/rust/core.o" "$O/rust/bindings.o"; cp "$O/.config" "$O/include/config/auto.conf"
	exit 0
fi
if [ -n "$M" ]; then
	[ -f "@T@/modpost-says" ] && cat "@T@/modpost-says"
	echo elf >"$M/dmp.ko"
	[ -f "@T@/ko-extra" ] && cat "@T@/ko-extra" >>"$M/dmp.ko"
fi
exit 0
EOF
	cat >"$bin/dpkg-query" <<'EOF'
#!/bin/sh
case "$1" in
-S) [ -f "@T@/dpkg/owner" ] || exit 1; echo "$(cat "@T@/dpkg/owner"): $2" ;;
-W) [ -f "@T@/dpkg/$4" ] || exit 1
	st=installed; [ -f "@T@/dpkg/$4.status" ] && st=$(cat "@T@/dpkg/$4.status")
	case "$3" in *Status*) echo "$st $(cat "@T@/dpkg/$4")" ;; *) cat "@T@/dpkg/$4" ;; esac ;;
esac
EOF
	sed -i "s|@T@|$tmp|g" "$bin/make" "$bin/dpkg-query"
	printf '#!/bin/sh\nsed "s/^/                 U /" "%s/imports"\n' "$tmp" >"$bin/nm"
	printf '#!/bin/sh\ncase "$3" in *dm-mod*) cat "%s/vermagic-kernel" ;; *) cat "%s/vermagic" ;; esac\n' "$tmp" "$tmp" >"$bin/modinfo"
	printf '#!/bin/sh\ncat "%s/sections"\n' "$tmp" >"$bin/readelf"
	printf '#!/bin/sh\ncat "$3"\n' >"$bin/pahole"
	printf '  [ 5] __versions        PROGBITS\n  [ 6] .modinfo          PROGBITS\n' >"$tmp/sections"
	for t in flex bison bc perl xz; do printf '#!/bin/sh\nexit 0\n' >"$bin/$t"; done
	tool "$bin/gcc" "gcc (Ubuntu 14.2.0-4ubuntu2) 14.2.0"
	chmod +x "$bin"/*
	rm -f "$tmp/make.args" "$tmp/regen.args" "$tmp/regen.count" "$tmp/fail-prepare" "$tmp/config-extra" \
		"$tmp/modpost-says" "$tmp/src/dmp.ko" "$tmp/crates.args" "$tmp/probe-headers.args" "$tmp/probe-private.args" \
		"$tmp/layout-differs" "$tmp/pA-left" "$tmp/ko-extra" "$tmp/vermagic-kernel"
	rm -rf "$tmp/mods"
}

# run_case NAME EXPECTED-STATUS PATTERN... : the wrapper's output must match
# every extended-regex PATTERN, and none written as !PATTERN. OS (ubuntu,
# debian, fedora, none) picks the os-release file: Ubuntu's by default.
run_case() {
	local name=$1 want=$2 rc out p ok=1; shift 2
	# shellcheck disable=SC2086 # EXTRA_ENV and MODE are empty or one word
	out=$(cd "$tmp" && env -i PATH="$bin:/usr/bin:/bin" HOME="$tmp" DMP_OS_RELEASE="$tmp/os-${OS:-ubuntu}" \
		DMP_RUST_META_DIR="$tmp/meta" DMP_KERNEL_SOURCE_CONF="$tmp/kernel-source" DMP_USR_SRC="$tmp/usrsrc" \
		DMP_SYSINCLUDE="$tmp/inc" ${EXTRA_ENV:-} \
		sh "$wrapper" ${MODE:-} "${K:-$KVER}" "$tmp/k" LLVM=0 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then ok=0; echo "  exit status $rc, expected $want"; fi
	for p in "$@"; do
		case "$p" in
		!*) if printf '%s\n' "$out" | grep -Eq -- "${p#!}"; then ok=0; echo "  output has /${p#!}/"; fi ;;
		*) printf '%s\n' "$out" | grep -Eq -- "$p" || { ok=0; echo "  output lacks /$p/"; } ;;
		esac
	done
	if [ $ok = 1 ]; then
		echo "PASS $name"; passed=$((passed + 1))
		[ -z "${VERBOSE:-}" ] || printf '%s\n' "$out" | sed 's/^/  | /'
	else
		echo "FAIL $name"; printf '%s\n' "$out" | sed 's/^/  | /'; failed=$((failed + 1))
	fi
}
# check NAME COMMAND... : one more assertion, on files the last case left.
check() {
	local name=$1; shift
	if "$@" >/dev/null 2>&1; then
		echo "PASS $name"; passed=$((passed + 1))
	else
		echo "FAIL $name"; failed=$((failed + 1))
	fi
}

# No rustc or bindgen on the host's /usr/bin may leak into the cases.
for t in rustc bindgen; do
	if command -v "/usr/bin/$t" >/dev/null 2>&1; then
		echo "note: /usr/bin/$t exists on this host; cases assume it does not match $RUSTC_TEXT / $BINDGEN_TEXT"
	fi
done

# 1. No build tree at all.
reset_bin; rm -rf "$tmp/k"
OS=none run_case "no headers: names linux-headers and kernel-devel" 2 \
	"no kernel build tree" "apt install linux-headers-$KVER" "dnf install kernel-devel-$KVER"
OS=fedora run_case "no headers on Fedora: names kernel-devel only" 2 "fix: dnf install kernel-devel-$KVER" "!apt install"

# 2. Kernel without Rust that the self-contained build cannot serve (the fake
# trees are not x86-64 unless a case says so), or with that build switched off.
reset_bin; tree "$tmp/k"; sed -i '/^CONFIG_RUST=/d' "$tmp/k/include/config/auto.conf"
run_case "CONFIG_RUST off, not x86-64: refused by the self-contained build" 13 \
	"without Rust support \(CONFIG_RUST is not set\)" "refuses this kernel" "  - the kernel is not x86-64" \
	"CONFIG_RUST=y|built with Rust"
reset_bin; LAYOUT=debian REL=6.12.117+deb13-cloud-amd64 tree "$tmp/k"; sed -i '/^CONFIG_RUST=/d' "$tmp/k/include/config/auto.conf"
EXTRA_ENV=DMP_SELF_CONTAINED=0 K=6.12.117+deb13-cloud-amd64 OS=debian run_case "self-contained build switched off: exit 3, names the backports kernel" 3 \
	"Debian's trixie kernel \(6.12\) is built without Rust" "switched off \(DMP_SELF_CONTAINED=0\)" \
	"apt install -t trixie-backports linux-image-cloud-amd64 linux-headers-cloud-amd64" \
	"!linux-lib-rust" "!Ubuntu" "!dnf"

# 3. Kernel too old (the build tree's kernel.release counts).
reset_bin; REL=6.8.0-31-generic tree "$tmp/k"
run_case "Ubuntu 24.04's 6.8: names the HWE kernel" 4 "needs Linux 6.12 or newer" \
	"Ubuntu 24.04's GA kernel \(6.8\) is too old" "apt install linux-generic-hwe-24.04" "!6.8 and later" "!dnf"
OS=fedora run_case "kernel older than 6.12 on Fedora" 4 "needs Linux 6.12 or newer" "dnf upgrade kernel" "!apt"
# ... and 6.12 itself is accepted.
reset_bin; REL=6.12.0-1-generic tree "$tmp/k"; tool "$bin/rustc-1.82" "$RUSTC_TEXT"; tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
MODE=--check run_case "6.12 is new enough" 0 "can build dmp"

# 4. No device-mapper.
reset_bin; tree "$tmp/k"; sed -i '/^CONFIG_BLK_DEV_DM=/d' "$tmp/k/include/config/auto.conf"
run_case "no device-mapper" 5 "CONFIG_BLK_DEV_DM is not set"

# 5. Ubuntu without linux-lib-rust: the rust symlink dangles.
reset_bin; tree "$tmp/k"; rm -rf "$tmp/lib-rust"
tool "$bin/rustc-1.82" "$RUSTC_TEXT"; tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
run_case "Ubuntu: Rust metadata missing (dangling rust/ link)" 6 \
	"no Rust metadata" "which is not installed" "fix: apt install linux-lib-rust-$KVER" "!dnf" "!linux-source"
# Headers in Ubuntu's layout installed on Debian (what the test bed's package
# end to end does): the dangling link says where the metadata comes from.
OS=debian run_case "Ubuntu's headers layout on Debian: names linux-lib-rust" 6 \
	"which is not installed" "fix: apt install linux-lib-rust-$KVER" "!linux-source"
reset_bin; tree "$tmp/k"; rm -f "$tmp/k/rust"
tool "$bin/rustc-1.82" "$RUSTC_TEXT"; tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
run_case "Ubuntu: Rust metadata missing (no rust/)" 6 "rust/libkernel.rmeta is missing" "linux-lib-rust-$KVER"
check "... and nothing was regenerated" test ! -e "$tmp/regen.count"

# 6. Only a rustc of another version.
reset_bin; tree "$tmp/k"
tool "$bin/rustc" "rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)"
tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
OS=none run_case "rustc mismatch names rustc-1.82" 7 \
	"built with 'rustc 1.82.0" "found: $bin/rustc \(rustc 1.85.1" "apt install rustc-1.82" "dnf install rust-1.82.0"

# 7. Ubuntu with linux-lib-rust: the versioned rustc-1.82 beside a plain rustc
# of another version is picked; the build tree is used as it is.
reset_bin; tree "$tmp/k"
tool "$bin/rustc" "rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)"
tool "$bin/rustc-1.82" "$RUSTC_TEXT"
tool "$bin/bindgen" "bindgen 0.71.1"
tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
run_case "Ubuntu with linux-lib-rust: picks rustc-1.82 and bindgen-0.65" 0 "dmp.ko fits kernel $KVER" "!regenerat"
if grep -q "RUSTC=$bin/rustc-1.82 BINDGEN=$bin/bindgen-0.65 LLVM=0" "$tmp/make.args" 2>/dev/null &&
	grep -q -- "-C $tmp/k M=" "$tmp/make.args"; then
	echo "PASS make gets RUSTC=rustc-1.82 BINDGEN=bindgen-0.65, the build tree and DKMS's arguments"; passed=$((passed + 1))
else
	echo "FAIL make arguments: $(cat "$tmp/make.args" 2>/dev/null || echo 'make not run')"; failed=$((failed + 1))
fi
check "... dmp.ko is left for DKMS" test -f "$tmp/src/dmp.ko"

# 8. RUSTC= in the environment is tried first.
reset_bin; tree "$tmp/k"
tool "$tmp/opt/rustc" "$RUSTC_TEXT"; tool "$bin/bindgen" "$BINDGEN_TEXT"
EXTRA_ENV="RUSTC=$tmp/opt/rustc" MODE=--check run_case "RUSTC= from the environment" 0 "RUSTC=$tmp/opt/rustc BINDGEN=$bin/bindgen"

# 9. bindgen of another version only.
reset_bin; tree "$tmp/k"
tool "$bin/rustc" "$RUSTC_TEXT"; tool "$bin/bindgen" "bindgen 0.71.1"
OS=none run_case "bindgen mismatch names bindgen-0.65" 8 \
	"built with 'bindgen 0.65.1'" "apt install bindgen-0.65" "dnf install bindgen-cli"

# 10. No rustc at all.
reset_bin; tree "$tmp/k"; tool "$bin/bindgen" "$BINDGEN_TEXT"
run_case "no rustc at all" 7 "found: none\\)" "apt install rustc-1.82"

# 11. No C compiler.
reset_bin; tree "$tmp/k"; rm -f "$bin/gcc"; tool "$bin/rustc" "$RUSTC_TEXT"; tool "$bin/bindgen" "$BINDGEN_TEXT"
EXTRA_ENV="CC=gcc-none" OS=none run_case "no C compiler" 9 "apt install gcc" "gcc-14" "dnf install gcc"

# 12. Every failure ends with how to rebuild.
reset_bin; rm -rf "$tmp/k"
run_case "message says how to rebuild" 2 "dkms autoinstall -k $KVER"

# 13. Never downloads: the wrapper names no network tool.
if grep -Eq '\b(curl|wget|rustup|cargo install|apt-get|dnf install -y)\b' "$wrapper"; then
	echo "FAIL the wrapper must not fetch anything"; failed=$((failed + 1))
else
	echo "PASS the wrapper fetches nothing"; passed=$((passed + 1))
fi

# --- Debian's layout: CONFIG_RUST=y, no Rust metadata in the headers. ---
# deb_case: the headers of $DEB_REL from linux-headers-$DEB_REL $DEB_VER,
# trixie's rustc and bindgen.
deb_case() {
	reset_bin; LAYOUT=debian REL=$DEB_REL RTEXT=$DEB_RUSTC tree "$tmp/k"
	tool "$bin/rustc" "$DEB_RUSTC"; tool "$bin/bindgen" "$BINDGEN_TEXT"
}
deb_run() { K=$DEB_REL OS=debian run_case "$@"; }

# 14. No linux-source: one message naming the package and its version.
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER"
deb_run "Debian without linux-source: names linux-source-7.3 of the headers' version" 10 \
	"linux-headers-$DEB_REL_RE $DEB_VER_RE\) have no Rust metadata" "linux-source-7.3 is not installed" \
	"fix: apt install linux-source-7.3=$DEB_VER_RE \(the same version as the headers\)" "!linux-lib-rust" "!dnf"
MODE=--check deb_run "... --check says the same" 10 "apt install linux-source-7.3=$DEB_VER_RE"

# 15. linux-source of another version: both versions named; nothing unpacked.
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER" linux-source-7.3 7.3.3-1~bpo13+1
ksource "$tmp/s/linux-source-7.3" 7.3.3 "$tmp/usrsrc/linux-source-7.3.tar.xz"
deb_run "Debian with linux-source of another version: names both" 10 \
	"linux-source-7.3 is version 7.3.3-1~bpo13\+1, not $DEB_VER_RE" "apt install linux-source-7.3=$DEB_VER_RE" "!linux-lib-rust"
check "... and nothing was regenerated" test ! -e "$tmp/regen.count"

# 15b. The matching linux-source unpacked in the same apt run, not yet
# configured: its tarball is complete, it is used; half-installed is not.
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER" linux-source-7.3 "$DEB_VER"
echo unpacked >"$tmp/dpkg/linux-source-7.3.status"
ksource "$tmp/s/linux-source-7.3" 7.3.4 "$tmp/usrsrc/linux-source-7.3.tar.xz"
MODE=--check deb_run "Debian with linux-source unpacked, not configured: --check accepts it" 0 \
	"can build dmp" "regenerated from linux-source-7.3 $DEB_VER_RE"
echo half-installed >"$tmp/dpkg/linux-source-7.3.status"
MODE=--check deb_run "Debian with linux-source half-installed: refused as not installed" 10 \
	"linux-source-7.3 is not installed"

# 15c. Not enough free space for the regeneration: said before anything is
# unpacked, by --check too (the package's postinst: a DKMS skip).
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER" linux-source-7.3 "$DEB_VER"
ksource "$tmp/s/linux-source-7.3" 7.3.4 "$tmp/usrsrc/linux-source-7.3.tar.xz"
EXTRA_ENV="DMP_REGEN_SPACE_KB=999999999999" MODE=--check deb_run "too little free space: --check says how much is needed and where" 11 \
	"needs about [0-9]+ MB free in /[^ ]*, and there are [0-9]+ MB" "fix: free space on the file system of"
EXTRA_ENV="DMP_REGEN_SPACE_KB=999999999999" deb_run "... and the build stops before unpacking" 11 "needs about [0-9]+ MB free"
check "... nothing was unpacked or regenerated" test ! -e "$tmp/regen.count" -a ! -e "$tmp/meta/$DEB_REL.work"

# 16. The matching linux-source: regenerated into a private build tree.
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER" linux-source-7.3 "$DEB_VER"
ksource "$tmp/s/linux-source-7.3" 7.3.4 "$tmp/usrsrc/linux-source-7.3.tar.xz"
before=$(cd "$tmp/k" && find . -printf '%p %s %l\n' | sort | cksum)
MODE=--check deb_run "Debian with linux-source: --check accepts it and says it will regenerate" 0 \
	"can build dmp" "regenerated from linux-source-7.3 $DEB_VER_RE"
meta=$tmp/meta/$DEB_REL meta_re=${tmp//./\\.}/meta/$DEB_REL_RE
deb_run "Debian with linux-source: regenerates, builds, checks the symbols" 0 \
	"regenerating the Rust metadata of kernel $DEB_REL_RE from linux-source-7.3 $DEB_VER_RE" \
	"regenerated in [0-9]+ s: $meta_re" "dmp.ko fits kernel $DEB_REL_RE: its 2 imported symbols"
check "... make prepare ran once, with the kernel's release and tools" \
	grep -q "O=$meta.work/out .*KERNELRELEASE=$DEB_REL RUSTC=$bin/rustc HOSTRUSTC=$bin/rustc BINDGEN=$bin/bindgen CC=gcc olddefconfig prepare" "$tmp/regen.args"
check "... dmp was built against the private tree" grep -q -- "-C $meta/build M=$tmp/src " "$tmp/make.args"
check "... which has the regenerated rust/ files" test -f "$meta/build/rust/libkernel.rmeta" -a -f "$meta/build/rust/libmacros.so" -a ! -e "$meta/build/rust/kernel.o"
check "... and scripts/target.json beside links to linux-kbuild's scripts" \
	test -f "$meta/build/scripts/target.json" -a -L "$meta/build/scripts/Makefile.build"
check "... links to the headers' include/ (with their rustc_cfg), .config and Module.symvers" \
	test -L "$meta/build/include" -a -L "$meta/build/.config" -a -L "$meta/build/Module.symvers"
check "... its Makefile points KBUILD_OUTPUT at the private tree" grep -qx "KBUILD_OUTPUT := $meta/build" "$meta/build/Makefile"
check "... the headers are untouched" test "$(cd "$tmp/k" && find . -printf '%p %s %l\n' | sort | cksum)" = "$before"
check "... the unpacked source is gone" test ! -e "$meta.work"
deb_run "Debian: a second build reuses the metadata" 0 "dmp.ko fits kernel $DEB_REL_RE" "!regenerating"
check "... make prepare did not run again" test "$(wc -l <"$tmp/regen.count")" = 1
MODE=--check deb_run "... --check says it was regenerated earlier" 0 "Rust metadata regenerated earlier: $meta_re"
# Other headers (a new .config) under the same release: regenerated.
echo "CONFIG_NEW=y" >>"$tmp/k/.config"; echo "CONFIG_NEW=y" >>"$tmp/k/include/config/auto.conf"
deb_run "Debian: changed headers of the same release are regenerated" 0 "regenerating"
check "... make prepare ran a second time" test "$(wc -l <"$tmp/regen.count")" = 2

# 17. The headers are removed: the metadata goes with them.
rm -rf "$tmp/k"
out=$(env -i PATH="$bin:/usr/bin:/bin" DMP_RUST_META_DIR="$tmp/meta" sh "$wrapper" --prune 2>&1)
check "--prune removes the metadata of removed headers" test ! -e "$meta"
check "... and says so" sh -c "echo '$out' | grep -q 'removed the regenerated Rust metadata of kernel $DEB_REL'"
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER" linux-source-7.3 "$DEB_VER"
ksource "$tmp/s/linux-source-7.3" 7.3.4 "$tmp/usrsrc/linux-source-7.3.tar.xz"
mkdir -p "$tmp/meta/6.1.0-gone"; echo "headers=$tmp/gone" >"$tmp/meta/6.1.0-gone/stamp"
deb_run "every build prunes the metadata of removed headers" 0 "removed the regenerated Rust metadata of kernel 6.1.0-gone"

# 18. The source does not match the headers after olddefconfig.
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER" linux-source-7.3 "$DEB_VER"
ksource "$tmp/s/linux-source-7.3" 7.3.4 "$tmp/usrsrc/linux-source-7.3.tar.xz"
echo "CONFIG_SOMETHING_ELSE=y" >"$tmp/config-extra"
deb_run "a source whose configuration differs is refused" 10 "does not match its headers" "CONFIG_SOMETHING_ELSE"
check "... nothing is kept" test ! -e "$tmp/meta/$DEB_REL" -a ! -e "$tmp/meta/$DEB_REL.work"
# ... or that is another kernel version although the package versions agree.
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER" linux-source-7.3 "$DEB_VER"
ksource "$tmp/s/linux-source-7.3" 7.3.5 "$tmp/usrsrc/linux-source-7.3.tar.xz"
deb_run "a source of another kernel version is refused" 10 "is Linux 7.3.5, not the version of $DEB_REL_RE"

# 19. make prepare fails; a tool make prepare needs is missing.
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER" linux-source-7.3 "$DEB_VER"
ksource "$tmp/s/linux-source-7.3" 7.3.4 "$tmp/usrsrc/linux-source-7.3.tar.xz"
touch "$tmp/fail-prepare"
deb_run "regeneration failure: exit 11 with the end of the log" 11 \
	"regenerating the Rust metadata of kernel $DEB_REL_RE failed" "can't find crate for core"
check "... nothing is kept" test ! -e "$tmp/meta/$DEB_REL/stamp" -a ! -e "$tmp/meta/$DEB_REL.work"
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER" linux-source-7.3 "$DEB_VER"
ksource "$tmp/s/linux-source-7.3" 7.3.4 "$tmp/usrsrc/linux-source-7.3.tar.xz"
rm -f "$bin/flex"; rm -rf "$tmp/inc/openssl"
deb_run "regeneration needs flex and libssl-dev: named" 11 "missing: flex openssl" "fix: apt install flex libssl-dev"
MODE=--check deb_run "... and --check (the package's postinst) says so too" 11 "missing: flex openssl"
mkdir -p "$tmp/inc/openssl"; touch "$tmp/inc/openssl/opensslv.h"

# 20. The module does not fit: refused, deleted, DKMS installs nothing.
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER" linux-source-7.3 "$DEB_VER"
ksource "$tmp/s/linux-source-7.3" 7.3.4 "$tmp/usrsrc/linux-source-7.3.tar.xz"
echo "_RNvNtCsXXXXXXXXXXX_6kernel5print11call_printk" >>"$tmp/imports"
deb_run "a symbol missing from Module.symvers: refused" 12 \
	"imports 1 symbol\(s\) that kernel $DEB_REL_RE does not export" "_RNvNtCsXXXXXXXXXXX_6kernel5print11call_printk" \
	"DKMS installs nothing" "it was removed"
check "... dmp.ko is deleted" test ! -e "$tmp/src/dmp.ko"
check "... the regenerated metadata that made it is removed" test ! -e "$tmp/meta/$DEB_REL"
deb_case; dpkg_state "linux-headers-$DEB_REL" "$DEB_VER" linux-source-7.3 "$DEB_VER"
ksource "$tmp/s/linux-source-7.3" 7.3.4 "$tmp/usrsrc/linux-source-7.3.tar.xz"
echo 'WARNING: modpost: "dm_get_device" [dmp.ko] undefined!' >"$tmp/modpost-says"
deb_run "modpost reporting an undefined symbol: refused" 12 "modpost reported symbols" "dm_get_device"
reset_bin; tree "$tmp/k"; tool "$bin/rustc-1.82" "$RUSTC_TEXT"; tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
echo "6.17.0-4-generic SMP preempt mod_unload " >"$tmp/vermagic"
run_case "a vermagic of another release: refused" 12 "vermagic is '6.17.0-4-generic', not the kernel's release '$KVER'"
reset_bin; tree "$tmp/k"; tool "$bin/rustc-1.82" "$RUSTC_TEXT"; tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
echo "dm_put_device" >>"$tmp/imports"
run_case "Ubuntu too: a symbol the kernel does not export is refused" 12 "dm_put_device"

# --- Fedora's layout: /usr/src/kernels/<release>, no rust/ at all. ---
fed_case() {
	reset_bin; LAYOUT=fedora REL=$FED_REL tree "$tmp/k"
	tool "$bin/rustc-1.82" "$RUSTC_TEXT"; tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
}
# 21. No source named: how to get and prepare the source rpm.
fed_case
K=$FED_REL OS=fedora run_case "Fedora without a source: says how to get and prepare the source rpm" 10 \
	"Fedora's kernel-devel ships none" "dnf download --source kernel-6.17.1-300.fc43" "rpmbuild -bp" \
	"$FED_REL .*>>$tmp/kernel-source" "DMP_KERNEL_SOURCE" "!apt install" "!linux-lib-rust"
# 22. A source directory named in the configuration file.
fed_case; ksource "$tmp/fsrc/linux-$FED_REL" 6.17.1
printf '# release  source\n6.16.* /nowhere\n%s %s\n' "6.17.1-*.fc43.x86_64" "$tmp/fsrc/linux-$FED_REL" >"$tmp/kernel-source"
K=$FED_REL OS=fedora run_case "Fedora with a named source directory: regenerates and builds" 0 \
	"from $tmp/fsrc/linux-$FED_REL \(named in $tmp/kernel-source\)" "dmp.ko fits kernel $FED_REL"
meta=$tmp/meta/$FED_REL meta_re=$tmp/meta/$FED_REL
check "... make prepare ran in that directory" grep -q -- "-C $tmp/fsrc/linux-$FED_REL O=$meta.work/out" "$tmp/regen.args"
check "... the private tree links the full tree's Makefile and adds rustc_cfg" \
	test -L "$meta/build/Makefile" -a -f "$meta/build/include/generated/rustc_cfg" -a -L "$meta/build/include/config"
check "... the named source is left as it was" test "$(ls -A "$tmp/fsrc/linux-$FED_REL" | tr '\n' ' ')" = "Makefile rust "
check "... the log of the regeneration is kept, the work directory is gone" test -f "$meta.log" -a ! -e "$meta.work"
# A named tree that was configured in: not ours to clean, make O= refuses it.
fed_case; ksource "$tmp/fsrc/linux-$FED_REL" 6.17.1; touch "$tmp/fsrc/linux-$FED_REL/.config"
echo "* $tmp/fsrc/linux-$FED_REL" >"$tmp/kernel-source"
K=$FED_REL OS=fedora run_case "a named source tree that is not clean: says make mrproper" 10 \
	"has been configured or built in" "fix: make -C $tmp/fsrc/linux-$FED_REL mrproper"
# 23. DMP_KERNEL_SOURCE in the environment, but a directory that is not there.
fed_case
EXTRA_ENV="DMP_KERNEL_SOURCE=$tmp/none" K=$FED_REL OS=fedora run_case "a named source that does not exist" 10 \
	"$tmp/none \(DMP_KERNEL_SOURCE\) does not exist"
# 24. Ubuntu with a source named: regenerates instead of naming linux-lib-rust.
reset_bin; tree "$tmp/k"; rm -f "$tmp/k/rust"
tool "$bin/rustc-1.82" "$RUSTC_TEXT"; tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
ksource "$tmp/usrc/linux-6.17.0" 6.17.0
EXTRA_ENV="DMP_KERNEL_SOURCE=$tmp/usrc/linux-6.17.0" run_case "Ubuntu without linux-lib-rust but a named source: regenerates" 0 \
	"regenerating" "dmp.ko fits" "!linux-lib-rust"

# --- Self-contained mode: Debian trixie's 6.12, no CONFIG_RUST, MODVERSIONS. ---
SC_REL=6.12.117+deb13-amd64 SC_VER=6.12.117-1 SC_REL_RE='6\.12\.117\+deb13-amd64'
# sc_case [OPTION=VALUE...]: the headers of Debian's 6.12 (x86-64, gcc,
# MODVERSIONS, no Rust) with extra options, trixie's rustc and bindgen, and
# linux-source-6.12 of the same version; Debian's dm-mod.ko for the vermagic.
sc_case() {
	reset_bin; LAYOUT=debian REL=$SC_REL tree "$tmp/k"
	sed -i '/^CONFIG_RUST=/d; /^CONFIG_RUSTC_VERSION_TEXT=/d; /^CONFIG_BINDGEN_VERSION_TEXT=/d' "$tmp/k/include/config/auto.conf"
	printf '%s\n' CONFIG_X86_64=y CONFIG_MODVERSIONS=y CONFIG_DEBUG_INFO_BTF=y CONFIG_PAHOLE_HAS_LANG_EXCLUDE=y "$@" \
		>>"$tmp/k/include/config/auto.conf"
	cp "$tmp/k/include/config/auto.conf" "$tmp/k/.config"
	tool "$bin/rustc" "$DEB_RUSTC"; tool "$bin/bindgen" "bindgen 0.71.1"
	dpkg_state "linux-headers-$SC_REL" "$SC_VER" linux-source-6.12 "$SC_VER"
	ksource "$tmp/s/linux-source-6.12" 6.12.117 "$tmp/usrsrc/linux-source-6.12.tar.xz"
	echo "$SC_REL SMP preempt mod_unload modversions " >"$tmp/vermagic"
	cp "$tmp/vermagic" "$tmp/vermagic-kernel"
	echo dm_register_target >"$tmp/imports"
	mkdir -p "$tmp/mods/$SC_REL/kernel/drivers/md"; touch "$tmp/mods/$SC_REL/kernel/drivers/md/dm-mod.ko"
}
sc_run() { K=$SC_REL OS=debian EXTRA_ENV="DMP_MODULES_DIR=$tmp/mods ${EXTRA_ENV:-}" run_case "$@"; }
sc_meta=$tmp/meta/$SC_REL

# 25. Configurations the mode refuses, each by name (exit 13), before anything is built.
sc_case CONFIG_RANDSTRUCT_FULL=y
sc_run "self-contained: RANDSTRUCT is refused by name" 13 \
	"refuses this kernel" "CONFIG_RANDSTRUCT_FULL is set: structure layouts are randomized" \
	"apt install -t trixie-backports linux-image-amd64" "!building its Rust crates"
check "... nothing was built" test ! -e "$tmp/regen.count" -a ! -e "$sc_meta"
sc_case CONFIG_CC_IS_CLANG=y CONFIG_KASAN=y
sc_run "self-contained: a clang KASAN kernel names both" 13 "CONFIG_CC_IS_CLANG is set: the kernel was built with clang" \
	"CONFIG_KASAN is set"
sc_case; sed -i '/^CONFIG_X86_64=/d' "$tmp/k/include/config/auto.conf"
sc_run "self-contained: another architecture is refused" 13 "the kernel is not x86-64"
sc_case; sed -i '/^CONFIG_PAHOLE_HAS_LANG_EXCLUDE=/d' "$tmp/k/include/config/auto.conf"
sc_run "self-contained: BTF without --lang_exclude is refused" 13 "CONFIG_DEBUG_INFO_BTF is set and the kernel's pahole had no --lang_exclude"

# 26. No linux-source, or another version of it (trixie vs trixie-security).
sc_case; dpkg_state "linux-headers-$SC_REL" "$SC_VER"
sc_run "self-contained without linux-source: names linux-source-6.12 of the headers' version" 10 \
	"linux-source-6.12 is not installed" "fix: apt install linux-source-6.12=6\.12\.117-1"
sc_case; dpkg_state "linux-headers-$SC_REL" "$SC_VER" linux-source-6.12 6.12.118-1
sc_run "self-contained with linux-source 6.12.118-1: refused, both named" 10 \
	"linux-source-6.12 is version 6.12.118-1, not 6\.12\.117-1" "apt install linux-source-6.12=6\.12\.117-1"
sc_case; rm -f "$bin/pahole"
sc_run "self-contained without pahole: named" 11 "missing: pahole" "fix: apt install pahole"

# 27. The build: the kernel's configuration unchanged, crates with CONFIG_RUST=y
# on the command line only, layouts compared, dmp linked with the crates.
sc_case
MODE=--check sc_run "self-contained: --check says what will be built" 0 "can build dmp" \
	"self-contained: the kernel's Rust crates will be built from linux-source-6.12 6\.12\.117-1"
sc_run "self-contained: builds the crates, then dmp.ko, and checks it" 0 \
	"kernel $SC_REL_RE has no Rust: building its Rust crates from linux-source-6.12 6\.12\.117-1" \
	"Rust crates of kernel $SC_REL_RE built in [0-9]+ s" "dmp.ko fits kernel $SC_REL_RE"
check "... olddefconfig prepare modules_prepare in the private tree, with the kernel's gcc" \
	grep -q -- "-C $sc_meta/src O=$sc_meta/build .*KERNELRELEASE=$SC_REL RUSTC=$bin/rustc HOSTRUSTC=$bin/rustc BINDGEN=$bin/bindgen CC=gcc olddefconfig prepare modules_prepare" "$tmp/regen.args"
check "... the private tree got the headers' .config" cmp "$tmp/k/.config" "$sc_meta/build/.config"
check "... the crates with CONFIG_RUST=y and without MODVERSIONS on the command line" \
	grep -q "CONFIG_RUST=y CONFIG_RUST_OVERFLOW_CHECKS=y CONFIG_MODVERSIONS= RUSTFLAGS_KERNEL=--cfg CONFIG_RUST --cfg CONFIG_RUST_OVERFLOW_CHECKS prepare" "$tmp/crates.args"
check "... the layout probe compiled in the headers' tree and in the private tree" \
	sh -c "grep -q -- '-C $tmp/k M=$sc_meta.work/probe-headers .*probe.o' '$tmp/probe-headers.args' && grep -q -- 'O=$sc_meta/build .*M=$sc_meta.work/probe-private probe.o' '$tmp/probe-private.args'"
check "... dmp built in the private tree with DMP_SELF_CONTAINED=1" \
	grep -q -- "-C $sc_meta/build M=$tmp/src RUSTC=$bin/rustc BINDGEN=$bin/bindgen CC=gcc CONFIG_RUST=y CONFIG_RUST_OVERFLOW_CHECKS=y DMP_SELF_CONTAINED=1 LLVM=0" "$tmp/make.args"
check "... the kernel crate prints with %s: no %pA left outside comments" \
	sh -c "! grep -v '^ *//' '$sc_meta/src/rust/kernel/print.rs' '$sc_meta/src/rust/kernel/kunit.rs' | grep -q '%pA' && grep -q 'pub struct DmpText' '$sc_meta/src/rust/kernel/print.rs'"
check "... the private tree has the headers' Module.symvers" cmp "$tmp/k/Module.symvers" "$sc_meta/build/Module.symvers"
check "... the headers are untouched" test ! -e "$tmp/k/rust"
sc_run "self-contained: a second build reuses the crates" 0 "dmp.ko fits" "!building its Rust crates"
check "... the private tree was not made again" test "$(wc -l <"$tmp/regen.count")" = 1
echo "CONFIG_NEW=y" >>"$tmp/k/.config"; echo "CONFIG_NEW=y" >>"$tmp/k/include/config/auto.conf"
sc_run "self-contained: changed headers of the same release: built again" 0 "building its Rust crates"

# 28. The private configuration differs from the kernel's: refused (14).
sc_case; echo "CONFIG_SOMETHING_ELSE=y" >"$tmp/config-extra"
sc_run "self-contained: a configuration that differs after olddefconfig is refused" 14 \
	"the private configuration made from its headers' .config differs" "CONFIG_SOMETHING_ELSE" "could corrupt memory|would see other structure layouts"
check "... nothing is kept, the crates were not built" test ! -e "$sc_meta" -a ! -e "$sc_meta.work" -a ! -e "$tmp/crates.args"
sc_case; printf 'CONFIG_RUSTC_VERSION=108501\nCONFIG_RUSTC_LLVM_VERSION=190107\nCONFIG_RUST_IS_AVAILABLE=y\n' >"$tmp/config-extra"
sc_run "self-contained: the rustc probes alone may differ" 0 "dmp.ko fits"

# 29. A structure layout differs between the headers and the private tree (14).
sc_case; touch "$tmp/layout-differs"
sc_run "self-contained: a differing structure layout is refused" 14 "structure layouts differ" "bio" "could corrupt memory"
check "... nothing is kept" test ! -e "$sc_meta" -a ! -e "$tmp/src/dmp.ko"

# 30. The kernel crate's printing cannot be adapted, or %pA survives.
sc_case; sed -i '/&args/d' "$tmp/s/linux-source-6.12/rust/kernel/print.rs"
tar -cf "$tmp/usrsrc/linux-source-6.12.tar.xz" -C "$tmp/s" linux-source-6.12
sc_run "self-contained: a kernel crate whose %pA printing is unknown is refused" 11 "prints with %pA in a way dmp's adaptation"
sc_case; touch "$tmp/pA-left"
sc_run "self-contained: %pA left in the built kernel crate is refused" 11 "still prints with %pA"

# 31. The gate on the built dmp.ko (12): deleted, nothing installed.
sc_case; echo 'xx %pA xx' >"$tmp/ko-extra"
sc_run "self-contained gate: a %pA in dmp.ko" 12 "contains a %pA format" "DKMS installs nothing"
check "... dmp.ko is deleted, the crates too" test ! -e "$tmp/src/dmp.ko" -a ! -e "$sc_meta"
sc_case; printf '  [ 5] __ksymtab_gpl     PROGBITS\n  [ 6] __versions PROGBITS\n' >"$tmp/sections"
sc_run "self-contained gate: an export (__ksymtab)" 12 "it exports symbols"
sc_case; printf '  [ 6] .modinfo PROGBITS\n' >"$tmp/sections"
sc_run "self-contained gate: no __versions under MODVERSIONS" 12 "no __versions section"
sc_case; echo rust_helper_BUG >>"$tmp/imports"; printf '0x0\trust_helper_BUG\tvmlinux\tEXPORT_SYMBOL\t\n' >>"$tmp/k/Module.symvers"
sc_run "self-contained gate: a Rust import" 12 "imports Rust symbols.*rust_helper_BUG"
sc_case; echo "$SC_REL SMP preempt mod_unload " >"$tmp/vermagic"
sc_run "self-contained gate: a vermagic without modversions" 12 "its vermagic '$SC_REL_RE SMP preempt mod_unload ' is not that of the kernel's own modules"

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
