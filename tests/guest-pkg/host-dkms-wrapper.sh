#!/bin/bash
# Host test of scripts/dkms/dkms-make (the MAKE command of dkms.conf): every
# prerequisite failure against a fake kernel build tree gives its own exit
# status and a message naming the Ubuntu and Fedora package; a versioned
# rustc-X.Y / bindgen-X.Y is picked when it is the one that built the kernel.
# Needs nothing but sh and coreutils. Ends with `N passed, N failed`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
wrapper=$here/../../scripts/dkms/dkms-make
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

KVER=6.17.0-5-generic
RUSTC_TEXT='rustc 1.82.0 (f6e511eec 2024-10-15) (built from a source tarball)'
BINDGEN_TEXT='bindgen 0.65.1'

# A fake tool printing a fixed --version.
tool() { # PATH-OF-TOOL VERSION-TEXT
	mkdir -p "$(dirname "$1")"
	# shellcheck disable=SC2016 # $1 belongs to the generated script
	printf '#!/bin/sh\n[ "$1" = --version ] && echo "%s"\n' "$2" >"$1"
	chmod +x "$1"
}

# A kernel build tree as Ubuntu's headers lay it out, with everything present.
tree() { # DIR
	local d=$1
	rm -rf "$d"; mkdir -p "$d/include/config" "$tmp/lib-rust/rust"
	echo '# fake kernel Makefile' >"$d/Makefile"
	echo "${REL:-$KVER}" >"$d/include/config/kernel.release"
	cat >"$d/include/config/auto.conf" <<EOF
CONFIG_CC_VERSION_TEXT="gcc (Ubuntu 14.2.0-4ubuntu2) 14.2.0"
CONFIG_CC_IS_GCC=y
CONFIG_GCC_VERSION=140200
CONFIG_RUSTC_VERSION_TEXT="$RUSTC_TEXT"
CONFIG_BINDGEN_VERSION_TEXT="$BINDGEN_TEXT"
CONFIG_RUST=y
CONFIG_BLK_DEV_DM=m
EOF
	cp "$d/include/config/auto.conf" "$d/.config"
	touch "$tmp/lib-rust/rust/libkernel.rmeta"
	ln -s "$tmp/lib-rust/rust" "$d/rust"
}

# Fresh tool directory: a fake make that records its arguments, the right
# gcc, and whatever the case adds.
bin=$tmp/bin
reset_bin() {
	rm -rf "$bin"; mkdir -p "$bin"
	printf '#!/bin/sh\necho "make $*" >"%s/make.args"\n' "$tmp" >"$bin/make"
	tool "$bin/gcc" "gcc (Ubuntu 14.2.0-4ubuntu2) 14.2.0"
	chmod +x "$bin/make"
	rm -f "$tmp/make.args"
}

# run_case NAME EXPECTED-STATUS PATTERN... : the wrapper's output must match
# every extended-regex PATTERN.
run_case() {
	local name=$1 want=$2 rc out p ok=1; shift 2
	# shellcheck disable=SC2086 # EXTRA_ENV and MODE are empty or one word
	out=$(cd "$tmp" && env -i PATH="$bin:/usr/bin:/bin" HOME="$tmp" ${EXTRA_ENV:-} \
		sh "$wrapper" ${MODE:-} "$KVER" "$tmp/k" LLVM=0 2>&1)
	rc=$?
	if [ "$rc" != "$want" ]; then ok=0; echo "  exit status $rc, expected $want"; fi
	for p in "$@"; do
		printf '%s\n' "$out" | grep -Eq -- "$p" || { ok=0; echo "  output lacks /$p/"; }
	done
	if [ $ok = 1 ]; then
		echo "PASS $name"; passed=$((passed + 1))
	else
		echo "FAIL $name"; printf '%s\n' "$out" | sed 's/^/  | /'; failed=$((failed + 1))
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
run_case "no headers: names linux-headers and kernel-devel" 2 \
	"no kernel build tree" "apt install linux-headers-$KVER" "dnf install kernel-devel-$KVER"

# 2. Kernel without Rust.
reset_bin; tree "$tmp/k"; sed -i '/^CONFIG_RUST=/d' "$tmp/k/include/config/auto.conf"
run_case "CONFIG_RUST off" 3 "without Rust support \(CONFIG_RUST is not set\)" "CONFIG_RUST=y"

# 3. Kernel too old (the build tree's kernel.release counts).
reset_bin; REL=6.8.0-31-generic tree "$tmp/k"
run_case "kernel older than 6.12" 4 "needs Linux 6.12 or newer" "Fedora: dnf upgrade kernel"
# ... and 6.12 itself is accepted.
reset_bin; REL=6.12.0-1-generic tree "$tmp/k"; tool "$bin/rustc-1.82" "$RUSTC_TEXT"; tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
MODE=--check run_case "6.12 is new enough" 0 "can build dmp"

# 4. No device-mapper.
reset_bin; tree "$tmp/k"; sed -i '/^CONFIG_BLK_DEV_DM=/d' "$tmp/k/include/config/auto.conf"
run_case "no device-mapper" 5 "CONFIG_BLK_DEV_DM is not set"

# 5. Rust metadata package not installed: Ubuntu's rust symlink dangles.
reset_bin; tree "$tmp/k"; rm -rf "$tmp/lib-rust"
run_case "Rust metadata missing (dangling rust/ link)" 6 \
	"no Rust metadata" "which is not installed" "apt install linux-lib-rust-$KVER" "Fedora: dnf install kernel-devel-$KVER"
reset_bin; tree "$tmp/k"; rm -f "$tmp/k/rust"
run_case "Rust metadata missing (no rust/)" 6 "rust/libkernel.rmeta is missing" "linux-lib-rust-$KVER"

# 6. Only a rustc of another version.
reset_bin; tree "$tmp/k"
tool "$bin/rustc" "rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)"
tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
run_case "rustc mismatch names rustc-1.82" 7 \
	"built with 'rustc 1.82.0" "found: $bin/rustc \(rustc 1.85.1" "apt install rustc-1.82" "dnf install rust-1.82.0"

# 7. The versioned rustc-1.82 beside a plain rustc of another version: picked.
reset_bin; tree "$tmp/k"
tool "$bin/rustc" "rustc 1.85.1 (4eb161250 2025-03-15) (built from a source tarball)"
tool "$bin/rustc-1.82" "$RUSTC_TEXT"
tool "$bin/bindgen" "bindgen 0.71.1"
tool "$bin/bindgen-0.65" "$BINDGEN_TEXT"
run_case "picks rustc-1.82 and bindgen-0.65" 0
if grep -q "RUSTC=$bin/rustc-1.82 BINDGEN=$bin/bindgen-0.65 LLVM=0" "$tmp/make.args" 2>/dev/null &&
	grep -q -- "-C $tmp/k M=" "$tmp/make.args"; then
	echo "PASS make gets RUSTC=rustc-1.82 BINDGEN=bindgen-0.65, the build tree and DKMS's arguments"; passed=$((passed + 1))
else
	echo "FAIL make arguments: $(cat "$tmp/make.args" 2>/dev/null || echo 'make not run')"; failed=$((failed + 1))
fi

# 8. RUSTC= in the environment is tried first.
reset_bin; tree "$tmp/k"
tool "$tmp/opt/rustc" "$RUSTC_TEXT"; tool "$bin/bindgen" "$BINDGEN_TEXT"
EXTRA_ENV="RUSTC=$tmp/opt/rustc" MODE=--check run_case "RUSTC= from the environment" 0 "RUSTC=$tmp/opt/rustc BINDGEN=$bin/bindgen"

# 9. bindgen of another version only.
reset_bin; tree "$tmp/k"
tool "$bin/rustc" "$RUSTC_TEXT"; tool "$bin/bindgen" "bindgen 0.71.1"
run_case "bindgen mismatch names bindgen-0.65" 8 \
	"built with 'bindgen 0.65.1'" "apt install bindgen-0.65" "dnf install bindgen-cli"

# 10. No rustc at all.
reset_bin; tree "$tmp/k"; tool "$bin/bindgen" "$BINDGEN_TEXT"
run_case "no rustc at all" 7 "found: none\\)" "apt install rustc-1.82"

# 11. No C compiler.
reset_bin; tree "$tmp/k"; rm -f "$bin/gcc"; tool "$bin/rustc" "$RUSTC_TEXT"; tool "$bin/bindgen" "$BINDGEN_TEXT"
EXTRA_ENV="CC=gcc-none" run_case "no C compiler" 9 "apt install gcc" "gcc-14" "dnf install gcc"

# 12. Every failure ends with how to rebuild.
reset_bin; rm -rf "$tmp/k"
run_case "message says how to rebuild" 2 "dkms autoinstall -k $KVER"

# 13. Never downloads: the wrapper names no network tool.
if grep -Eq '\b(curl|wget|rustup|cargo install|apt-get|dnf install -y)\b' "$wrapper"; then
	echo "FAIL the wrapper must not fetch anything"; failed=$((failed + 1))
else
	echo "PASS the wrapper fetches nothing"; passed=$((passed + 1))
fi

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
