# Counters past 32 bits: more than 2^32 bytes through one device and through
# the aggregate, and every figure exact: bytes, request counts (against the dm
# core's own accounting), average sizes (bytes / requests, rounded down), the
# stat file's sector fields, dmsetup status. dm-zero makes it cheap: writes
# are dropped, reads are zero-filled; fio writes one buffer over and over.
. "$(dirname "$0")/lib.sh"

MiB=1048576
two32=$((1 << 32))
modprobe dmp
zero_dev zero1 $((8192 * MiB / 512))
zero_dev zero2 $((8192 * MiB / 512))
dmp_dev dmp1 /dev/mapper/zero1
dmp_dev dmp2 /dev/mapper/zero2
d1=$(kname dmp1) d2=$(kname dmp2)
echo 1 >"$STAT/reset"

# big DEV RW MiB: sequential direct I/O of MiB mebibytes in 4 MiB requests.
big() {
	fio --name=big --filename="/dev/mapper/$1" --rw="$2" --bs=4m --size="$3m" --direct=1 \
		--ioengine=libaio --iodepth=4 --output-format=terse >/dev/null
}
# dmp1 alone moves more than 2^32 bytes each way; dmp2's 4 GiB of writes put
# the aggregate's writes past 2^33.
big dmp1 write 4400
big dmp1 read 4200
big dmp2 write 4096
big dmp2 read 8
declare -A rb=([$d1]=$((4200 * MiB)) [$d2]=$((8 * MiB))) wb=([$d1]=$((4400 * MiB)) [$d2]=$((4096 * MiB)))
[ "${rb[$d1]}" -gt "$two32" ] && [ "${wb[$d1]}" -gt "$two32" ] || fail "the test moves too little"

# exact NAME READ-BYTES WRITE-BYTES READS WRITES: one directory's figures.
exact() {
	local n=$1 r=$2 w=$3 rc=$4 wc=$5 f
	assert_eq "$(stat_of "$n" read_bytes) $(stat_of "$n" write_bytes)" "$r $w" "$n bytes"
	assert_eq "$(stat_of "$n" read_cnt) $(stat_of "$n" write_cnt) $(stat_of "$n" total_cnt)" \
		"$rc $wc $((rc + wc))" "$n requests"
	assert_eq "$(stat_of "$n" read_avr_bs) $(stat_of "$n" write_avr_bs) $(stat_of "$n" total_avr_bs)" \
		"$(avg "$r" "$rc") $(avg "$w" "$wc") $(avg $((r + w)) $((rc + wc)))" "$n average sizes"
	read -r -a f <"$STAT/$n/stat"
	assert_eq "${f[0]} ${f[2]} ${f[4]} ${f[6]}" "$rc $((r / 512)) $wc $((w / 512))" "$n stat file: requests and sectors"
}
tr=0 tw=0 trc=0 twc=0
for d in "$d1" "$d2"; do
	check_exact "$d"
	rc=$(diskstat "$d" 1) wc=$(diskstat "$d" 5)
	exact "$d" "${rb[$d]}" "${wb[$d]}" "$rc" "$wc"
	tr=$((tr + rb[$d])) tw=$((tw + wb[$d])) trc=$((trc + rc)) twc=$((twc + wc))
done
exact all_devs "$tr" "$tw" "$trc" "$twc"
[ "$tw" -gt $((2 * two32)) ] || fail "the aggregate's writes are not past 2^33: $tw"
assert_eq "$(dmsetup status dmp1 | cut -d' ' -f4-7)" "$(stat_of "$d1" read_cnt) ${rb[$d1]} $(stat_of "$d1" write_cnt) ${wb[$d1]}" \
	"dmsetup status dmp1"
assert_eq "$(cat "$STAT/volumes")" "$(summary_text "$trc" "$tr" "$twc" "$tw")" "volumes"
note "dmp1: $(stat_of "$d1" read_bytes) bytes read in $(stat_of "$d1" read_cnt) requests, $(stat_of "$d1" write_bytes) written in $(stat_of "$d1" write_cnt); all_devs: $tw bytes written"
cleanup_all
