# The checks of the host-side package tests (host-packages.sh, host-repo.sh):
# sourced. Sets passed, failed and tmp (removed on exit); check WHAT COMMAND...
# prints PASS or FAIL with the end of the command's output; summary ends the
# test with `N passed, N failed` and its status.
passed=0 failed=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

check() { # WHAT COMMAND...
	local what=$1; shift
	if "$@" >"$tmp/out" 2>&1; then echo "PASS $what"; passed=$((passed + 1))
	else echo "FAIL $what"; sed 's/^/  | /' "$tmp/out" | tail -n 20; failed=$((failed + 1)); fi
}
cond() { bash -c "$1"; }
summary() {
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}
