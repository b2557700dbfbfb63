#!/usr/bin/env bash
# Host test of Kbuild's prerequisite checks that need no kernel tree: every
# architecture but x86-64 is refused with one message before anything is
# built (the bindings are generated and tested for x86-64 only). Kbuild is
# read by make as Kbuild reads it, with the kernel's variables given on the
# command line. Ends with `N passed, N failed`.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
# kbuild VAR=VALUE...: parse Kbuild with these kernel variables; prints make's output.
kbuild() {
	make --no-print-directory -f "$top/Kbuild" -f /dev/stdin src="$top" obj=. objtree=/nonexistent \
		KERNELRELEASE=9.9.9-test CONFIG_CC_VERSION_TEXT=gcc CONFIG_RUST=y CONFIG_BLK_DEV_DM=m "$@" \
		dmp-kbuild-parsed <<<'dmp-kbuild-parsed: ; @echo parsed' 2>&1
}
expect() { # NAME PATTERN VAR=VALUE...: make must fail with PATTERN
	local name=$1 pat=$2 out rc; shift 2
	out=$(kbuild "$@"); rc=$?
	if [ $rc != 0 ] && printf '%s\n' "$out" | grep -q -- "$pat"; then
		echo "ok   $name"; passed=$((passed + 1))
	else
		echo "FAIL $name (exit $rc)"; printf '%s\n' "$out" | sed 's/^/     | /'; failed=$((failed + 1))
	fi
}
arch_msg='dmp supports x86-64 only'
expect "arm64 is refused" "is for arm64; $arch_msg" SRCARCH=arm64 CONFIG_64BIT=y CONFIG_ARM64=y
expect "riscv is refused" "is for riscv; $arch_msg" SRCARCH=riscv CONFIG_64BIT=y
expect "32-bit x86 is refused" "is for x86 (32-bit); $arch_msg" SRCARCH=x86 CONFIG_X86_32=y
# x86-64 passes the architecture check and stops at the next one (no
# Rust metadata in this fake tree): the refusal above is specific.
out=$(kbuild SRCARCH=x86 CONFIG_64BIT=y CONFIG_X86_64=y)
if printf '%s\n' "$out" | grep -q 'libkernel.rmeta is missing' && ! printf '%s\n' "$out" | grep -q "$arch_msg"; then
	echo "ok   x86-64 passes the architecture check"; passed=$((passed + 1))
else
	echo "FAIL x86-64 passes the architecture check"; printf '%s\n' "$out" | sed 's/^/     | /'; failed=$((failed + 1))
fi
# make clean reads Kbuild with no configuration and no DMP_SELF_CONTAINED: the
# self-contained build's generated C file must still be named for removal.
out=$(make --no-print-directory -f "$top/Kbuild" -f /dev/stdin src="$top" obj=. dmp-kbuild-clean <<<'dmp-kbuild-clean: ; @echo "clean-files: $(clean-files)"' 2>&1)
if printf '%s\n' "$out" | grep -qw 'rust_helpers.c'; then
	echo "ok   make clean removes the generated rust_helpers.c"; passed=$((passed + 1))
else
	echo "FAIL make clean removes the generated rust_helpers.c"; printf '%s\n' "$out" | sed 's/^/     | /'; failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
