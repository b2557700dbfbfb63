# dmp-dkms %post ($1: 1 install, 2 upgrade): register the sources with DKMS,
# build and install dmp.ko for the running kernel and the installed kernels
# that qualify, load it, apply the udev rule (/usr/lib/dmp/dmp-dkms, shared
# with the .deb). A kernel that cannot build dmp is reported with the package
# that fixes it; that never fails the transaction.
ver="#MODULE_VERSION#" # filled in by scripts/package
# dmptab.service is enabled on the first installation only: an upgrade
# leaves the administrator's choice alone.
if [ "$1" = 1 ]; then
	/usr/lib/dmp/dmp-dkms install "$ver" --first || :
else
	/usr/lib/dmp/dmp-dkms install "$ver" || :
fi
