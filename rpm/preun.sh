# dmp-dkms %preun ($1: 0 erase, 1 upgrade). On erase: stop dmptab.service,
# unload dmp unless a device still uses it (reported, never forced), remove
# this version from DKMS. On upgrade the new version's %post has already run
# (and may be this same version): %postun decides.
ver="#MODULE_VERSION#" # filled in by scripts/package
if [ "$1" = 0 ]; then
	/usr/lib/dmp/dmp-dkms remove "$ver" || :
fi
