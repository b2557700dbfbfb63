#!/usr/bin/env bash
# Host test of scripts/boot-panic-verdict, which tells scripts/vm-run whether a
# guest kernel panic may be retried: only before the payload started and with
# no dmp module loaded. Ends with `N passed, N failed`.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0
expect() { # NAME WANT: the verdict on standard input must be WANT
	local got
	got=$("$top/scripts/boot-panic-verdict")
	if [ "$got" = "$2" ]; then echo "ok   $1"; passed=$((passed + 1))
	else echo "FAIL $1: expected '$2', got '$got'"; failed=$((failed + 1)); fi
}
# The panic of issue 31: Debian's -rt kernel at 1.65 s, nothing loaded.
int3() {
	cat <<'LOG'
[    1.648213] Oops: int3: 0000 [#1] SMP NOPTI
[    1.648213] CPU: 1 UID: 0 PID: 1 Comm: swapper/0 Not tainted 7.3.4+deb13-rt-amd64 #1 PREEMPT_RT  Debian 7.3.4-1~bpo13+1
[    1.648213] RIP: 0010:sched_clock_cpu+0x9/0x1f0
[    1.648213] Call Trace:
[    1.648213]  update_rq_clock+0x3c/0x140
[    1.648213]  try_to_wake_up+0x1f2/0x6a0
[    1.648213]  devtmpfs_create_node+0x9c/0xd0
[    1.648213]  misc_register+0x111/0x1d0
[    1.648213]  cpu_latency_qos_init+0x2c/0x50
[    1.648213]  do_one_initcall+0x5b/0x300
[    1.648213]  kernel_init_freeable+0x2a6/0x300
[    1.648213] Modules linked in:
[    1.650101] Kernel panic - not syncing: Fatal exception in interrupt
LOG
}
expect "the int3 Oops at boot, nothing loaded: retried" retry < <(int3)
expect "a bad init= before the payload: retried" retry \
	< <(printf '[    0.9] Kernel panic - not syncing: Requested init /x failed (error -2).\n')
expect "dmp loaded (systemd's modules-load.d) before the payload: failed" "with the dmp module loaded" \
	< <(int3 | sed 's/Modules linked in:$/Modules linked in: dmp(OE) dm_mod/')
expect "dmp last in the module list: failed" "with the dmp module loaded" \
	< <(int3 | sed 's/Modules linked in:$/Modules linked in: dm_zero dmp/')
expect "another module whose name starts with dmp: retried" retry \
	< <(int3 | sed 's/Modules linked in:$/Modules linked in: dmpx dm_mod/')
expect "after the payload started: failed" "after the payload started" \
	< <(echo "=== dmp-guest: boot 1, kernel 7.3.4-dmp, 2 CPUs"; int3)
expect "after dmp printed to the kernel log: failed" "after dmp printed to the kernel log" \
	< <(echo "[    1.2] device-mapper: table: 253:1: dmp: Device lookup failed"; int3)
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
