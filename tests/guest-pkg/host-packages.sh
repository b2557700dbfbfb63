#!/bin/bash
# Host checks of the built packages (scripts/package): names and versions,
# Architecture all / noarch, the same module sources in the .deb and the .rpm
# (exactly module_files, dkms.conf with the version filled in), dependencies,
# conffiles, maintainer scripts and rpm scriptlets, inspected with dpkg-deb
# and rpm (Debian's rpm package). Ends with `N passed, N failed`.
#
#   tests/guest-pkg/host-packages.sh PACKAGE-DIR
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:?usage: host-packages.sh PACKAGE-DIR}
# shellcheck source=tests/guest-pkg/host-check.sh
source "$(dirname "$0")/host-check.sh"

version=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$top/Cargo.toml")
deb=$(ls "$dir"/dmp-dkms_"$version"-*_all.deb 2>/dev/null | head -n 1)
rpmf=$(ls "$dir"/dmp-dkms-"$version"-*.noarch.rpm 2>/dev/null | head -n 1)
sdeb=$(ls "$dir"/dmpstat_"$version"-*_amd64.deb 2>/dev/null | head -n 1)
srpm=$(ls "$dir"/dmpstat-"$version"-*.x86_64.rpm 2>/dev/null | head -n 1)
check "dmp-dkms_${version}-*_all.deb exists" test -f "$deb"
check "dmp-dkms-${version}-*.noarch.rpm exists" test -f "$rpmf"
check "dmpstat_${version}-*_amd64.deb exists" test -f "$sdeb"
check "dmpstat-${version}-*.x86_64.rpm exists" test -f "$srpm"
[ -f "$deb" ] && [ -f "$rpmf" ] || { echo "$passed passed, $failed failed"; exit 1; }

# The module sources: exactly module_files, in /usr/src/dmp-<version>/.
(cd "$top" && bash -c 'source scripts/lib.sh; module_files') | sed "s|^|/usr/src/dmp-$version/|" | sort >"$tmp/want"
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print substr($6, 2) }' | sort >"$tmp/deb-files"
rpm -qlp "$rpmf" 2>/dev/null | sort >"$tmp/rpm-files"
check "deb: /usr/src/dmp-$version holds exactly module_files" \
	cond "diff <(grep '^/usr/src/' $tmp/deb-files) $tmp/want"
check "rpm: /usr/src/dmp-$version holds exactly module_files" \
	cond "diff <(grep '^/usr/src/' $tmp/rpm-files) $tmp/want"
check "deb and rpm install the same files (but the deb's /usr/share/doc and lintian overrides)" \
	cond "diff <(grep -v '^/usr/share/\(doc\|lintian\)/' $tmp/deb-files | sed 's|^\(/usr/share/man/.*\)\.gz\$|\1|') $tmp/rpm-files"
for f in /usr/lib/udev/rules.d/60-dmp.rules /etc/modprobe.d/dmp.conf /usr/lib/modules-load.d/dmp.conf \
	/etc/dmptab /usr/sbin/dmptab /usr/lib/systemd/system/dmptab.service /usr/lib/dmp/dmp-dkms /usr/lib/dmp/dmp-stat-perms; do
	check "both ship $f" cond "grep -qxF $f $tmp/deb-files && grep -qxF $f $tmp/rpm-files"
done
dpkg-deb --fsys-tarfile "$deb" | tar -xOf - "./usr/src/dmp-$version/dkms.conf" >"$tmp/dkms.conf"
check "dkms.conf carries PACKAGE_VERSION=\"$version\"" grep -qx "PACKAGE_VERSION=\"$version\"" "$tmp/dkms.conf"
check "dkms.conf: AUTOINSTALL, BUILD_EXCLUSIVE_CONFIG, _KERNEL_MIN, _ARCH, the wrapper as MAKE" \
	cond "grep -qx 'AUTOINSTALL=\"yes\"' $tmp/dkms.conf && grep -qx 'BUILD_EXCLUSIVE_CONFIG=\"CONFIG_BLK_DEV_DM\"' $tmp/dkms.conf && grep -qx 'BUILD_EXCLUSIVE_KERNEL_MIN=\"6.12\"' $tmp/dkms.conf && grep -qx 'BUILD_EXCLUSIVE_ARCH=\"^x86_64\$\"' $tmp/dkms.conf && grep -q '^MAKE\[0\]=\"sh scripts/dkms/dkms-make \${kernelver} \${kernel_source_dir}\"' $tmp/dkms.conf"
check "dkms.conf parses as shell" bash -n "$tmp/dkms.conf"

# Control data of the .deb.
field() { dpkg-deb -f "$1" "$2"; }
check "deb: Package dmp-dkms, Version $version-*, Architecture all" \
	cond "[ \"$(field "$deb" Package)\" = dmp-dkms ] && [[ \"$(field "$deb" Version)\" == $version-* ]] && [ \"$(field "$deb" Architecture)\" = all ]"
depends=$(field "$deb" Depends)
for d in 'dkms (>= 3.0.11)' make gcc rustc bindgen rust-src flex bison bc libelf-dev libssl-dev xz-utils 'pahole | dwarves'; do
	check "deb Depends: $d" cond "echo '$depends' | tr ',' '\n' | sed 's/^ *//' | grep -qxF '$d'"
done
# No headers metapackage: linux-headers-amd64 pulled trixie's 6.12 kernel
# (no Rust) into a system that had only the backports kernel's headers.
check "deb Depends names no kernel headers" cond "! echo '$depends' | grep -q linux-headers"
dpkg-deb --ctrl-tarfile "$deb" | tar -xf - -C "$tmp" ./conffiles ./postinst ./prerm ./postrm ./triggers
check "deb triggers: interest-noawait /usr/src, handled by postinst triggered" \
	cond "grep -qx 'interest-noawait /usr/src' $tmp/triggers && grep -q 'dmp-dkms triggered' $tmp/postinst"
check "deb conffiles: /etc/dmptab, /etc/modprobe.d/dmp.conf" \
	cond "[ \"\$(sort $tmp/conffiles | tr '\n' ' ')\" = '/etc/dmptab /etc/modprobe.d/dmp.conf ' ]"
for s in postinst prerm postrm; do
	check "deb $s: version filled in, valid sh" \
		cond "grep -q 'ver=\"$version\"' $tmp/$s && ! grep -q MODULE_VERSION $tmp/$s && sh -n $tmp/$s"
done
check "deb postinst runs dmp-dkms install on configure" grep -q '/usr/lib/dmp/dmp-dkms install "$ver"' "$tmp/postinst"
check "deb prerm: remove, and --upgrade on upgrade" \
	cond "grep -q 'dmp-dkms remove \"\$ver\"\$' $tmp/prerm && grep -q 'dmp-dkms remove \"\$ver\" --upgrade' $tmp/prerm"
check "dmpstat deb: Architecture amd64, /usr/bin/dmpstat and its man page" \
	cond "[ \"$(field "$sdeb" Architecture)\" = amd64 ] && dpkg-deb -c $sdeb | grep -q './usr/bin/dmpstat\$' && dpkg-deb -c $sdeb | grep -q 'man1/dmpstat.1'"

# The rpm, with rpm's own tools.
check "rpm: name dmp-dkms, version $version, noarch" \
	cond "[ \"\$(rpm -qp --qf '%{NAME} %{VERSION} %{ARCH}' $rpmf 2>/dev/null)\" = 'dmp-dkms $version noarch' ]"
rpm -qp --requires "$rpmf" 2>/dev/null >"$tmp/requires"
for r in 'dkms >= 3.0.11' make gcc kernel-devel rust rust-src bindgen-cli clang flex bison elfutils-libelf-devel openssl-devel; do
	check "rpm Requires: $r" grep -qxF "$r" "$tmp/requires"
done
check "rpm config files (noreplace): /etc/dmptab, /etc/modprobe.d/dmp.conf" \
	cond "[ \"\$(rpm -qp --configfiles $rpmf 2>/dev/null | sort | tr '\n' ' ')\" = '/etc/dmptab /etc/modprobe.d/dmp.conf ' ] && rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' $rpmf 2>/dev/null | grep -q '^cn /etc/dmptab'"
rpm -qp --scripts "$rpmf" >"$tmp/scripts" 2>/dev/null
check "rpm has %post, %preun and %postun" \
	cond "grep -q '^postinstall scriptlet' $tmp/scripts && grep -q '^preuninstall scriptlet' $tmp/scripts && grep -q '^postuninstall scriptlet' $tmp/scripts"
for tag in POSTIN PREUN POSTUN; do
	rpm -qp --qf "%{$tag}" "$rpmf" 2>/dev/null >"$tmp/$tag"
	check "rpm %$tag: version filled in, valid sh" \
		cond "grep -q 'ver=\"$version\"' $tmp/$tag && ! grep -q MODULE_VERSION $tmp/$tag && sh -n $tmp/$tag"
done
check "rpm %preun acts on erase only" grep -q 'if \[ "$1" = 0 \]' "$tmp/PREUN"
check "dmpstat rpm: x86_64, /usr/bin/dmpstat" \
	cond "[ \"\$(rpm -qp --qf '%{ARCH}' $srpm 2>/dev/null)\" = x86_64 ] && rpm -qlp $srpm 2>/dev/null | grep -qx /usr/bin/dmpstat"
if command -v rpmlint >/dev/null 2>&1; then
	rpmlint "$rpmf" >"$tmp/rpmlint" 2>&1
	echo "  (rpmlint, for information: $(tail -n 1 "$tmp/rpmlint"))"
fi

# Debian policy, as lintian reads it: no error, no warning; an override
# must say why (a comment line right above it).
for d in "$deb" "$sdeb"; do
	p=$(dpkg-deb -f "$d" Package)
	lintian --tag-display-limit 0 "$d" >"$tmp/lintian-$p" 2>&1
	check "lintian $p: no error, no warning" cond "! grep -E '^[EW]: ' $tmp/lintian-$p && ! grep -q 'internal error' $tmp/lintian-$p"
	dpkg-deb --fsys-tarfile "$d" | tar -xOf - "./usr/share/lintian/overrides/$p" >"$tmp/ovr-$p" 2>/dev/null
	check "lintian $p: every override has a comment saying why" \
		cond "awk '/^#/ { c = 1; next } /^[a-z]/ { if (!c) { print \"no reason: \" \$0; bad = 1 } c = 0 } END { exit bad }' $tmp/ovr-$p"
done
check "deb: a Debian changelog whose newest entry is $version-1, maintainer a mail address" \
	cond "dpkg-deb --fsys-tarfile $deb | tar -xOf - ./usr/share/doc/dmp-dkms/changelog.Debian.gz | gzip -dc | head -n 1 | grep -q '^dmp ($version-1)' && dpkg-deb -f $deb Maintainer | grep -Eq '^[^<]+ <[^@ ]+@[^@ ]+\\.[a-z]+>\$'"
check "deb: a DEP-5 copyright file with a copyright notice and the GPL-2.0-only text reference" \
	cond "dpkg-deb --fsys-tarfile $deb | tar -xOf - ./usr/share/doc/dmp-dkms/copyright >$tmp/copyright && grep -q '^Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/' $tmp/copyright && grep -q '^Copyright: ' $tmp/copyright && grep -q '/usr/share/common-licenses/GPL-2' $tmp/copyright"
check "deb: the synopsis is one line under 80 characters" \
	cond "[ \$(dpkg-deb -f $deb Description | head -n 1 | wc -c) -le 80 ] && dpkg-deb -f $deb Description | sed -n 2p | grep -q '^ dmp is'"
# dmptab(8) names every command dmptab accepts (its usage line).
cmds=$(sed -n 's/.*usage: dmptab \[-f FILE\] \([a-z|]*\).*/\1/p' "$top/src/dkms/files/dmptab" | tr '|' ' ')
check "dmptab.8 is shipped (both) and documents every command of dmptab's usage: $cmds" \
	cond "grep -qxF /usr/share/man/man8/dmptab.8.gz $tmp/deb-files && grep -qxF /usr/share/man/man8/dmptab.8 $tmp/rpm-files && [ -n '$cmds' ] && for c in $cmds; do grep -q \"^\\\\.B \$c\\\$\" $top/src/dkms/files/dmptab.8 || { echo \"dmptab.8 lacks .B \$c\"; exit 1; }; done && man -l $top/src/dkms/files/dmptab.8 2>&1 >/dev/null | { ! grep .; }"

summary
