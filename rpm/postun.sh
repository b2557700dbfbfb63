# dmp-dkms %postun ($1: 0 erase, 1 upgrade). After an upgrade to another
# version this version's sources are gone: drop its DKMS registration (DKMS
# only removes a dmp.ko that this version installed). After an erase: no
# leftovers (DKMS state, the regenerated Rust metadata), reload systemd and
# udev.
ver="#MODULE_VERSION#" # filled in by scripts/package
# rpm does not own the directories of the sources (nor /usr/lib/dmp):
# drop them when empty.
if [ -d "/usr/src/dmp-$ver" ]; then find "/usr/src/dmp-$ver" -depth -type d -empty -delete; fi
if [ "$1" -ge 1 ]; then
	if [ ! -e "/usr/src/dmp-$ver/dkms.conf" ] &&
		dkms status -m dmp -v "$ver" 2>/dev/null | grep -q .; then
		dkms remove -m dmp -v "$ver" --all >/dev/null 2>&1 || :
		rm -rf "/var/lib/dkms/dmp/$ver"
	fi
else
	rm -rf "/var/lib/dkms/dmp/$ver" /var/cache/dmp/rust-meta
	rmdir /var/lib/dkms/dmp /usr/lib/dmp /var/cache/dmp 2>/dev/null || :
	rm -f /etc/systemd/system/sysinit.target.wants/dmptab.service
	if [ -d /run/systemd/system ]; then systemctl daemon-reload || :; fi
	if [ -S /run/udev/control ]; then udevadm control --reload || :; fi
fi
