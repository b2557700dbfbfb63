# fio randrw with several jobs: dmp's counters equal the dm core's own
# accounting in /sys/block/dm-N/stat exactly (no count lost under concurrency).
. "$(dirname "$0")/lib.sh"

modprobe dmp
# A loop device over memory: unlike dm-zero it has a write cache, so fsync
# sends flushes through dmp too.
loop=$(loop_dev 256)
dmp_dev dmp1 "$loop"
d=$(kname dmp1)
# A fixed amount of I/O (24 MiB per job, about 190 reads each), not a fixed
# time: the debug kernel under load did only 243 reads in 8 s.
fio --name=randrw --filename=/dev/mapper/dmp1 --rw=randrw --bsrange=512-128k --direct=1 \
	--ioengine=psync --numjobs=8 --size=64m --io_size=24m --thread \
	--group_reporting --output-format=terse >/dev/null
# Each fsync(2) of a block device sends exactly one empty flush
# (blkdev_fsync -> blkdev_issue_flush), and nothing else here sends any:
# dmp's flush count is fio's count of fsyncs.
fio --name=buffered --filename=/dev/mapper/dmp1 --rw=randwrite --bs=4k --ioengine=psync \
	--numjobs=4 --size=16m --fsync=7 --thread --group_reporting --output-format=json >/tmp/fio-04.json
fsyncs=$(python3 -c 'import json, sys
t = open(sys.argv[1]).read()
print(json.loads(t[t.index("{"):])["jobs"][0]["sync"]["total_ios"])' /tmp/fio-04.json)
rm -f /tmp/fio-04.json
cat "$STAT/$d/summary"
note "diskstats: $(cat "/sys/block/$d/stat")"
[ "$(stat_of "$d" read_cnt)" -gt 1000 ] || fail "too few reads counted: $(stat_of "$d" read_cnt)"
[ "$fsyncs" -gt 0 ] || fail "fio did no fsync"
assert_eq "$(stat_of "$d" flush_cnt)" "$fsyncs" "flushes counted vs fio's fsyncs"
check_exact "$d"

# Small requests from every CPU at once, as fast as the guest issues them
# (dm-zero below: nothing waits on a device): a count lost to a race between
# CPUs (a shared counter updated without atomics) shows as a difference from
# the dm core's own accounting. The psync runs above are too slow for that:
# a read-modify-write is a few instructions, and two CPUs rarely meet in it.
zero_dev zero1 $((1 << 21))
dmp_dev dmpz /dev/mapper/zero1
dz=$(kname dmpz)
ncpu=$(nproc)
fio --name=race --filename=/dev/mapper/dmpz --rw=randread --bs=4k --direct=1 --ioengine=libaio \
	--iodepth=32 --numjobs="$ncpu" --cpus_allowed="0-$((ncpu - 1))" --cpus_allowed_policy=split \
	--time_based --runtime=8 --thread --group_reporting --output-format=terse >/dev/null
note "every CPU at once: $(stat_of "$dz" read_cnt) reads counted, $(diskstat "$dz" 1) by the dm core"
assert_eq "$(stat_of "$dz" read_cnt) $(stat_of "$dz" read_bytes)" \
	"$(diskstat "$dz" 1) $(( $(diskstat "$dz" 3) * 512 ))" "reads and bytes from every CPU at once vs diskstats"
check_exact "$dz"
cleanup_all
