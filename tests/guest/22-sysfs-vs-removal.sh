# Concurrency (issue 6, item 2, second half): sysfs against device and module
# removal.
#  A. Readers of every file of the tree (and a writer of the device reset
#     files) in a loop while dmp devices are created, used and removed: every
#     read either returns well-formed content or fails with ENOENT/ENODEV (the
#     file went away), nothing else; the aggregate loses no removed device's
#     reads.
#  B. Every file of a device held open across the removal of the device: a
#     read started before the removal finishes with the original text, every
#     later read or write fails with ENODEV, and closing is clean.
#  C. The top files held open across rmmod, read after rmmod and after the
#     module is loaded again: ENODEV, no crash (KASAN watches the debug run).
#  D. Readers again while the module is loaded and unloaded in a loop.
. "$(dirname "$0")/lib.sh"
T=$(basename "$0" .sh)
tally() { "$(dirname "$0")/hardening-summary" "$@"; }
tally begin "$T"

dev_cycles=12 mod_cycles=6
stop=/tmp/dmp-readers.stop
rm -f "$stop"

# The reader: walks /sys/module/dmp/stat until $stop exists; checks the format
# of everything it reads; with "write", also writes the device reset files.
cat >/tmp/dmp-reader.py <<'EOF'
import errno, os, re, sys
STAT = "/sys/module/dmp/stat"
stop, mode = sys.argv[1], sys.argv[2]
num = re.compile(rb"\d+\n")
fmt = {
    "summary": re.compile(rb"read:\n reqs: \d+\n avg size: \d+\nwrite:\n reqs: \d+\n avg size: \d+\n"
                          rb"total:\n reqs: \d+\n avg size: \d+\n"),
    "histogram": re.compile(rb"(?:(?:<512|512|\d+K|>=1M) \d+ \d+\n){13}"),
    "name": re.compile(rb"(?:cyc[ab]\d+|keep)\n"),
    "stat": re.compile(rb"(?:\d+ ){31}\d+\n"),
    "latency": re.compile(rb"(?:(?:<1us|\d+us|>=1s) \d+ \d+\n){22}"),
}
fmt["volumes"] = fmt["summary"]
gone = (errno.ENOENT, errno.ENODEV)
reads = writes = vanished = name_enxio = 0

def read(path, base):
    global reads, vanished, name_enxio
    try:
        with open(path, "rb", buffering=0) as f:
            data = f.read(65536)
    except OSError as e:
        if e.errno in gone:
            vanished += 1
            return
        # dm core forgets a device's name (dm_copy_name_and_uuid: ENXIO)
        # before its table, and so dmp's directory, goes away.
        if e.errno == errno.ENXIO and base == "name":
            name_enxio += 1
            return
        sys.exit(f"reading {path}: {e}")
    if not fmt.get(base, num).fullmatch(data):
        sys.exit(f"malformed {path}: {data!r}")
    reads += 1

def write_reset(path):
    global writes, vanished
    try:
        # O_WRONLY alone, as a sysfs writer should: with O_CREAT (open(..,
        # "wb"), or a shell's ">") a file that is not there yet or any more
        # is an attempt to create one in sysfs, EACCES instead of ENOENT.
        fd = os.open(path, os.O_WRONLY)
        with open(fd, "wb", buffering=0) as f:
            f.write(b"1\n")
        writes += 1
    except OSError as e:
        if e.errno not in gone:
            sys.exit(f"writing {path}: {e}")
        vanished += 1

while not os.path.exists(stop):
    try:
        top = os.listdir(STAT)
    except FileNotFoundError:   # module unloaded (part D)
        vanished += 1
        continue
    for e in top:
        p = f"{STAT}/{e}"
        if e == "volumes":
            read(p, e)
            continue
        if e == "reset":
            continue
        try:
            files = os.listdir(p)
        except OSError as err:
            if err.errno not in gone:
                sys.exit(f"listing {p}: {err}")
            vanished += 1
            continue
        for f in files:
            if f == "reset":
                if mode == "write" and e != "all_devs":
                    write_reset(f"{p}/{f}")
            else:
                read(f"{p}/{f}", f)
print(f"{mode}: {reads} reads, {writes} writes, {vanished} vanished, {name_enxio} name ENXIO")
EOF

start_readers() {
	rm -f "$stop"
	# Niced: they take whatever CPU time the device and module cycles leave.
	nice -n 10 python3 /tmp/dmp-reader.py "$stop" read >/tmp/dmp-reader1.out 2>&1 &
	r1=$!
	nice -n 10 python3 /tmp/dmp-reader.py "$stop" write >/tmp/dmp-reader2.out 2>&1 &
	r2=$!
}
stop_readers() {
	touch "$stop"
	wait "$r1" || fail "reader failed: $(cat /tmp/dmp-reader1.out)"
	wait "$r2" || fail "reader/writer failed: $(cat /tmp/dmp-reader2.out)"
	note "$(cat /tmp/dmp-reader1.out)"
	note "$(cat /tmp/dmp-reader2.out)"
	# Each did what it is there for: the reader read and wrote nothing; the
	# writer read too and, while a device outlives the whole part (A's
	# keep), reset it at least once. In D every device is short-lived, so
	# the writer may find none to reset: its writes are not required there.
	grep -Eq '^read: [1-9][0-9]* reads, 0 writes,' /tmp/dmp-reader1.out ||
		fail "the reader read nothing (or wrote): $(cat /tmp/dmp-reader1.out)"
	grep -Eq '^write: [1-9][0-9]* reads, ' /tmp/dmp-reader2.out ||
		fail "the writer read nothing: $(cat /tmp/dmp-reader2.out)"
	if [ "${1:-}" = writes ]; then
		grep -Eq '^write: [0-9]+ reads, [1-9][0-9]* writes,' /tmp/dmp-reader2.out ||
			fail "the writer reset no device: $(cat /tmp/dmp-reader2.out)"
	fi
}

modprobe dmp
zero_dev zero1 65536
t0=$SECONDS

# --- A: readers while devices come and go -----------------------------------
dmp_dev keep /dev/mapper/zero1
start_readers
for i in $(seq 1 $dev_cycles); do
	dmsetup create "cyca$i" --table "0 65536 dmp /dev/mapper/zero1"
	dmsetup create "cycb$i" --table "0 32768 dmp /dev/mapper/zero1"
	dd if="/dev/mapper/cyca$i" of=/dev/null bs=4k count=2 iflag=direct status=none
	dd if="/dev/mapper/cycb$i" of=/dev/null bs=4k count=1 iflag=direct status=none
	dmsetup remove "cyca$i"
	dmsetup remove "cycb$i"
done
stop_readers writes
dmsetup remove keep
assert_eq "$(ls -d "$STAT"/dm-* 2>/dev/null | wc -l)" 0 "device directories left"
assert_eq "$(stat_of all_devs read_cnt)" $((3 * dev_cycles)) "aggregate reads of the removed devices"

note "part A: $((SECONDS - t0)) s"
# --- B: a device's files held open across its removal -----------------------
dmp_dev held /dev/mapper/zero1
d=$(kname held)
dd if=/dev/mapper/held of=/dev/null bs=4k count=3 iflag=direct status=none
python3 - "$STAT/$d" <<'EOF' || fail "held-open files of a removed device"
import errno, os, subprocess, sys
d = sys.argv[1]
files = sorted(os.listdir(d))
assert len(files) == 17, files
fds = {f: os.open(f"{d}/{f}", os.O_WRONLY if f == "reset" else os.O_RDONLY) for f in files}
whole = open(f"{d}/summary", "rb").read()
assert b" reqs: 3\n" in whole, whole
part = os.read(fds["summary"], 5)           # a read in progress
subprocess.run(["dmsetup", "remove", "held"], check=True)
assert not os.path.exists(d), "directory still there"

def enodev(what, op):
    try:
        r = op()
    except OSError as e:
        if e.errno != errno.ENODEV:
            sys.exit(f"{what}: {e} (expected ENODEV)")
        return
    sys.exit(f"{what}: returned {r!r} after the removal (expected ENODEV)")

# The read in progress finishes from its buffer, then the file is gone.
rest = os.read(fds["summary"], 65536)
assert part + rest == whole, (part, rest, whole)
enodev("summary, next read", lambda: os.read(fds["summary"], 65536))
enodev("summary, lseek to 0", lambda: os.lseek(fds["summary"], 0, os.SEEK_SET))
enodev("summary, read after lseek", lambda: os.read(fds["summary"], 65536))
for f, fd in fds.items():
    if f == "reset":
        enodev("reset, write", lambda: os.write(fd, b"1\n"))
    elif f != "summary":
        enodev(f"{f}, read", lambda: os.read(fd, 65536))
    os.fstat(fd)
    os.close(fd)
print(f"  {len(files)} held-open files: ENODEV after the removal")
EOF

# --- C: the top files held open across rmmod and a new load -----------------
dmsetup remove zero1
python3 - <<'EOF' || fail "held-open files across rmmod"
import errno, os, subprocess, sys
S = "/sys/module/dmp/stat"
paths = {"volumes": os.O_RDONLY, "all_devs/summary": os.O_RDONLY,
         "all_devs/read_cnt": os.O_RDONLY, "reset": os.O_WRONLY}
fds = {p: os.open(f"{S}/{p}", m) for p, m in paths.items()}
dirfd = os.open(f"{S}/all_devs", os.O_RDONLY | os.O_DIRECTORY)
whole = open(f"{S}/all_devs/read_cnt", "rb").read()
assert os.read(fds["all_devs/read_cnt"], 1) == whole[:1]  # a read in progress
# Open files do not pin the module.
subprocess.run(["rmmod", "dmp"], check=True)
assert not os.path.exists(S)
# The read in progress ends with what it had; then the file is gone.
assert os.read(fds["all_devs/read_cnt"], 100) == whole[1:]

def check(when):
    for p, fd in fds.items():
        try:
            if p == "reset":
                os.write(fd, b"1\n")
            else:
                os.read(fd, 65536)
        except OSError as e:
            if e.errno == errno.ENODEV:
                continue
            sys.exit(f"{p} {when}: {e} (expected ENODEV)")
        sys.exit(f"{p} {when}: succeeded (expected ENODEV)")
    assert os.listdir(dirfd) == [], f"listing a removed directory {when}"

check("after rmmod")
subprocess.run(["modprobe", "dmp"], check=True)
check("after a new modprobe")
assert open(f"{S}/all_devs/read_cnt").read() == "0\n"
for fd in list(fds.values()) + [dirfd]:
    os.close(fd)
subprocess.run(["rmmod", "dmp"], check=True)
print(f"  {len(fds)} held-open top files: ENODEV after rmmod and after a new load")
EOF
[ ! -e /sys/module/dmp ] || fail "module still loaded"

note "parts B and C: $((SECONDS - t0)) s"
# --- D: readers while the module comes and goes -----------------------------
modprobe dmp
start_readers
for i in $(seq 1 $mod_cycles); do
	zero_dev zero1 65536
	dmp_dev "cyca$i" /dev/mapper/zero1
	dd if="/dev/mapper/cyca$i" of=/dev/null bs=4k count=1 iflag=direct status=none
	assert_eq "$(stat_of all_devs read_cnt)" 1 "aggregate in module cycle $i"
	dmsetup remove "cyca$i"
	dmsetup remove zero1
	rmmod dmp
	modprobe dmp
done
stop_readers
note "part D: $((SECONDS - t0)) s"
rm -f /tmp/dmp-reader.py /tmp/dmp-reader[12].out "$stop"
tally add "$T" cycles $((dev_cycles + mod_cycles))
cleanup_all
tally end "$T"
