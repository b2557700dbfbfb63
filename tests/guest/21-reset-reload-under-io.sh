# Concurrency (issue 6, item 2, first half): resets and table swaps while fio
# runs.
#  A. Global reset, device reset and `dmsetup message reset` in a tight loop
#     under randrw: every `summary`/`volumes` snapshot read meanwhile is
#     self-consistent (total = read + write, averages agree), no counter wraps,
#     and at the end each counter equals the dm core's accounting since its
#     last reset, within the requests in flight at that reset.
#  B. `dmsetup reload` + resume and suspend/resume in a loop under fio with
#     crc32c verification: no write is lost or misplaced, fio sees no error, the
#     statistics survive every swap and equal /sys/block/dm-N/stat exactly.
. "$(dirname "$0")/lib.sh"
T=$(basename "$0" .sh)
tally() { "$(dirname "$0")/hardening-summary" "$@"; }
tally begin "$T"

jobs=4 maxbs=65536
# Requests that may be between dmp's map and the dm core's accounting when a
# reset happens (psync: one per job), with a margin.
slack=$((2 * jobs))
big=$((1 << 62))

modprobe dmp
loop=$(loop_dev 128)
majmin=$(lsblk -dno MAJ:MIN "$loop" | tr -d ' ')
size=$(blockdev --getsz "$loop")

# summary_ok FILE: one snapshot in the volumes/summary format is consistent.
summary_ok() {
	local -a l
	mapfile -t l <"$1"
	[ ${#l[@]} = 9 ] && [ "${l[0]}" = read: ] && [ "${l[3]}" = write: ] && [ "${l[6]}" = total: ] ||
		fail "$1: malformed: ${l[*]}"
	local r=${l[1]#' reqs: '} ra=${l[2]#' avg size: '} w=${l[4]#' reqs: '} wa=${l[5]#' avg size: '}
	local t=${l[7]#' reqs: '} ta=${l[8]#' avg size: '} v
	for v in "$r" "$ra" "$w" "$wa" "$t" "$ta"; do
		case $v in '' | *[!0-9]*) fail "$1: not a number: '$v' in ${l[*]}" ;; esac
		[ ${#v} -lt 19 ] && [ "$v" -lt $big ] || fail "$1: counter wrapped: $v"
	done
	[ "$t" = $((r + w)) ] || fail "$1: total $t != read $r + write $w (torn snapshot)"
	[ "$t" = 0 ] && { [ "$ta" = 0 ] || fail "$1: average $ta without requests"; return 0; }
	# The byte totals behind the averages lie in [lo, hi]; the total average
	# must come from the same snapshot.
	local lo=$((r * ra + w * wa)) hi=$((r * ra + w * wa))
	[ "$r" -gt 0 ] && hi=$((hi + r - 1))
	[ "$w" -gt 0 ] && hi=$((hi + w - 1))
	[ "$ta" -ge $((lo / t)) ] && [ "$ta" -le $((hi / t)) ] ||
		fail "$1: total average $ta outside [$((lo / t)), $((hi / t))] (torn snapshot): ${l[*]}"
}

# --- A: resets under I/O ----------------------------------------------------
dmp_dev dmp1 "$loop"
d=$(kname dmp1)
fio --name=resets --filename=/dev/mapper/dmp1 --rw=randrw --bsrange=512-64k --direct=1 \
	--ioengine=psync --numjobs=$jobs --thread --time_based --runtime=10 --size=128m \
	--output=/tmp/fio-resets.out --eta=never &
fio_pid=$!
until [ "$(stat_of "$d" total_cnt)" -gt 0 ]; do sleep 0.1; done
resets=0 globals=0
while kill -0 "$fio_pid" 2>/dev/null; do
	resets=$((resets + 1))
	read -r -a before <"/sys/block/$d/stat"
	case $((resets % 3)) in
	0) echo 1 >"$STAT/reset"; kind=global ;;
	1) echo 1 >"$STAT/$d/reset"; kind=device ;;
	2) dmsetup message dmp1 0 reset; kind=message ;;
	esac
	read -r -a after <"/sys/block/$d/stat"
	# Fields 1 3 5 7: read I/Os, read sectors, write I/Os, write sectors.
	dev_before=("${before[@]:0:8}") dev_after=("${after[@]:0:8}")
	if [ $kind = global ]; then
		globals=$((globals + 1))
		glob_before=("${before[@]:0:8}") glob_after=("${after[@]:0:8}")
	fi
	summary_ok "$STAT/$d/summary"
	summary_ok "$STAT/volumes"
	summary_ok "$STAT/all_devs/summary"
done
wait "$fio_pid" || fail "fio failed during resets: $(cat /tmp/fio-resets.out)"
note "$resets resets ($globals global) under fio"
[ "$globals" -ge 3 ] || fail "only $resets resets ran during fio"

# Idle now. Counter C after reset R: the I/O the dm core accounted after R,
# give or take the requests in flight while R ran.
read -r -a end <"/sys/block/$d/stat"
# within DIR FILE FIELD UNIT BEFORE-ARRAY AFTER-ARRAY
within() {
	local dir=$1 file=$2 i=$(($3 - 1)) unit=$4 b=$5 a=$6 v lo hi s=$slack
	local -n bs=$b as=$a
	[ "$unit" = 1 ] || s=$((slack * maxbs))
	v=$(stat_of "$dir" "$file")
	lo=$(((end[i] - as[i]) * unit - s)) hi=$(((end[i] - bs[i]) * unit + s))
	[ "$v" -ge "$lo" ] && [ "$v" -le "$hi" ] ||
		fail "$dir/$file = $v after reset, expected within [$lo, $hi]"
}
for spec in "read_cnt 1 1" "read_bytes 3 512" "write_cnt 5 1" "write_bytes 7 512"; do
	set -- $spec
	within "$d" "$1" "$2" "$3" dev_before dev_after
	within all_devs "$1" "$2" "$3" glob_before glob_after
	[ "$(stat_of "$d" "$1")" -le "$(stat_of all_devs "$1")" ] ||
		fail "device $1 $(stat_of "$d" "$1") exceeds the aggregate $(stat_of all_devs "$1") (device resets came last)"
done
# After all these resets, counting from zero is still exact.
echo 1 >"$STAT/reset"
dd if=/dev/mapper/dmp1 of=/dev/null bs=4k count=7 iflag=direct status=none
dd if=/dev/zero of=/dev/mapper/dmp1 bs=8k count=3 oflag=direct status=none
for dir in "$d" all_devs; do
	assert_eq "$(stat_of "$dir" read_cnt)" 7 "$dir reads after the last reset"
	assert_eq "$(stat_of "$dir" write_bytes)" $((3 * 8192)) "$dir write bytes after the last reset"
	assert_eq "$(stat_of "$dir" summary | tr '\n' ' ')" \
		"read:  reqs: 7  avg size: 4096 write:  reqs: 3  avg size: 8192 total:  reqs: 10  avg size: 5324 " \
		"$dir summary after the last reset"
done
dmsetup remove dmp1

# --- B: reload + resume and suspend/resume under verified I/O ---------------
# A fixed number of table swaps in the background; meanwhile fio runs one
# verified randwrite pass after the other (each pass reads back and checks
# what it wrote) until the swaps are done.
dmp_dev dmp2 "$loop"
d=$(kname dmp2)
reloads=10
(
	prev=0
	for i in $(seq 1 $reloads); do
		# The same device, named by path and by MAJ:MIN in turn.
		if [ $((i % 2)) = 0 ]; then dev=$loop; else dev=$majmin; fi
		dmsetup reload dmp2 --table "0 $size dmp $dev"
		dmsetup resume dmp2
		dmsetup suspend dmp2
		[ "$(dmsetup info -c --noheadings -o attr dmp2 | cut -c3)" = s ] || fail "dmp2 not suspended"
		dmsetup resume dmp2
		[ -d "$STAT/$d" ] || fail "statistics directory gone after reload $i"
		now=$(stat_of "$d" total_cnt)
		[ "$now" -ge "$prev" ] || fail "counters went back after reload $i: $prev -> $now"
		prev=$now
	done
) >/tmp/reloader.out 2>&1 &
reloader=$!
passes=0
while [ $passes = 0 ] || kill -0 "$reloader" 2>/dev/null; do
	passes=$((passes + 1))
	fio --name=reloads --filename=/dev/mapper/dmp2 --rw=randwrite --bs=4k --direct=1 \
		--ioengine=libaio --iodepth=8 --numjobs=$jobs --size=8m --offset_increment=32m \
		--randseed=$passes --verify=crc32c --verify_fatal=1 --verify_state_save=0 \
		--output=/tmp/fio-reloads.out --eta=never ||
		fail "fio pass $passes failed during reloads: $(cat /tmp/fio-reloads.out)"
	# One "err= 0" per job (no group reporting), and no job with another.
	[ "$(grep -c 'err= 0:' /tmp/fio-reloads.out)" = $jobs ] && ! grep -Eq 'err= *[1-9]' /tmp/fio-reloads.out ||
		fail "fio pass $passes: not all $jobs jobs without errors: $(cat /tmp/fio-reloads.out)"
done
wait "$reloader" || fail "table swaps failed: $(cat /tmp/reloader.out)"
note "$reloads reload+resume and suspend+resume cycles under $passes verified fio passes"
assert_eq "$(dmsetup table dmp2)" "0 $size dmp $majmin" "table after the reloads"
[ "$(stat_of "$d" write_cnt)" -gt 1000 ] || fail "too few writes counted: $(stat_of "$d" write_cnt)"
check_exact "$d"
rm -f /tmp/fio-resets.out /tmp/fio-reloads.out /tmp/reloader.out
tally add "$T" cycles $((resets + reloads))
cleanup_all
tally end "$T"
