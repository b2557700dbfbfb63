#!/bin/bash
# Host checks of the repositories scripts/repo writes: the apt repository read
# by this machine's apt and the dnf repository by Debian's dnf, each in a state
# of its own (nothing of the host's package configuration is used or changed):
# install-by-name metadata, the newest version as candidate, download by name,
# signatures checked, and a tampered or unsigned index refused. Ends with
# `N passed, N failed`.
#
#   tests/guest-pkg/host-repo.sh REPO-DIR VERSION NEXT-VERSION
#     REPO-DIR from `scripts/repo DIR-WITH-BOTH-VERSIONS REPO-DIR`
set -u
repo=${1:?usage: host-repo.sh REPO-DIR VERSION NEXT-VERSION}
v1=${2:?}; v2=${3:?}
# shellcheck source=tests/guest-pkg/host-check.sh
source "$(dirname "$0")/host-check.sh"

check "the apt repository: InRelease, Release.gpg, keyring, .sources" \
	cond "for f in dists/stable/InRelease dists/stable/Release.gpg dmp-archive-keyring.gpg dmp.sources; do [ -s $repo/apt/\$f ] || { echo missing \$f; exit 1; }; done"
check "the dnf repository: repomd.xml and its signature, the key, .repo" \
	cond "for f in repodata/repomd.xml repodata/repomd.xml.asc RPM-GPG-KEY-dmp dmp.repo; do [ -s $repo/rpm/\$f ] || { echo missing \$f; exit 1; }; done"
check "no private key in the repository" cond "! grep -rl 'PRIVATE KEY' $repo"

# --- apt, as a user's apt would read the .sources file (its Signed-By keyring
# moved to where this test keeps it, its URI the repository under test).
a=$tmp/apt
mkdir -p "$a/etc/sources.list.d" "$a/etc/preferences.d" "$a/lists/partial" "$a/cache/archives/partial" "$a/dl"
sed "s|^Signed-By: .*|Signed-By: $a/keyring.gpg|; s|^URIs: .*|URIs: file://$repo/apt|" "$repo/apt/dmp.sources" >"$a/etc/sources.list.d/dmp.sources"
cp "$repo/apt/dmp-archive-keyring.gpg" "$a/keyring.gpg"
apt_opts=(-o "Dir::Etc=$a/etc" -o "Dir::Etc::SourceList=/dev/null" -o "Dir::State::Lists=$a/lists"
	-o "Dir::Cache=$a/cache" -o "Dir::State::status=/dev/null" -o "APT::Sandbox::User=root")
check "apt update reads the signed repository (no warning)" \
	cond "apt-get ${apt_opts[*]} update >$tmp/u 2>&1; rc=\$?; cat $tmp/u; [ \$rc = 0 ] && ! grep -E '^(W|E):' $tmp/u"
check "apt: dmp-dkms and dmpstat by name, candidate $v2-1, $v1-1 still there for a downgrade" \
	cond "for p in dmp-dkms dmpstat; do apt-cache ${apt_opts[*]} policy \$p >$tmp/p; cat $tmp/p; grep -q 'Candidate: $v2-1' $tmp/p && grep -q ' $v1-1 ' $tmp/p || exit 1; done"
check "apt download dmp-dkms dmpstat (by name, the candidate)" \
	cond "cd $a/dl && apt-get ${apt_opts[*]} download dmp-dkms dmpstat && ls dmp-dkms_${v2}-1_all.deb dmpstat_${v2}-1_*.deb"
# The same repository with its Release altered after signing: refused.
cp -a "$repo/apt" "$tmp/bad-apt"
echo "X-Tampered: yes" >>"$tmp/bad-apt/dists/stable/InRelease"
sed -i 's/^Description: .*/Description: tampered/' "$tmp/bad-apt/dists/stable/InRelease"
sed -i "s|^URIs: .*|URIs: file://$tmp/bad-apt|" "$a/etc/sources.list.d/dmp.sources"
rm -rf "$a/lists"; mkdir -p "$a/lists/partial"
check "apt refuses the repository once InRelease is altered after signing" \
	cond "apt-get ${apt_opts[*]} update >$tmp/u 2>&1; cat $tmp/u; grep -qE 'NOSPLIT|BADSIG|not signed|signature' $tmp/u && ! apt-cache ${apt_opts[*]} policy dmp-dkms | grep -q Candidate:.[0-9]"

# --- dnf (Debian's), in an empty install root, as a user's dnf would read the
# .repo file (its URLs the repository under test): gpgcheck and repo_gpgcheck on.
d=$tmp/dnf
mkdir -p "$d/repos" "$d/root" "$d/dl"
sed "s|^baseurl=.*|baseurl=file://$repo/rpm|; s|^gpgkey=.*|gpgkey=file://$repo/rpm/RPM-GPG-KEY-dmp|" "$repo/rpm/dmp.repo" >"$d/repos/dmp.repo"
dnf_opts=(--installroot="$d/root" --setopt=reposdir="$d/repos" --setopt=cachedir="$d/cache" --releasever=1 -y
	--setopt=skip_if_unavailable=False --disableplugin=local)
check "dnf: the .repo has gpgcheck=1 and repo_gpgcheck=1" \
	cond "grep -qx gpgcheck=1 $d/repos/dmp.repo && grep -qx repo_gpgcheck=1 $d/repos/dmp.repo"
check "dnf repoquery by name: dmp-dkms and dmpstat $v2 (and $v1)" \
	cond "dnf ${dnf_opts[*]} -q repoquery --qf '%{name}-%{version}' dmp-dkms dmpstat >$tmp/q 2>&1; cat $tmp/q; for x in dmp-dkms-$v2 dmpstat-$v2 dmp-dkms-$v1 dmpstat-$v1; do grep -qx \$x $tmp/q || exit 1; done"
check "dnf download dmp-dkms dmpstat (by name, the newest)" \
	cond "dnf ${dnf_opts[*]} -q download --destdir $d/dl dmp-dkms dmpstat && ls $d/dl/dmp-dkms-$v2-1.noarch.rpm $d/dl/dmpstat-$v2-1.*.rpm"
mkdir -p "$d/keys"
check "the downloaded rpms carry the repository key's signature (rpmkeys -K)" \
	cond "rpmkeys --root $d/keys --import $repo/rpm/RPM-GPG-KEY-dmp && rpmkeys --root $d/keys -K $d/dl/*.rpm | tee /dev/stderr | grep -c 'digests signatures OK' | grep -qx 2"
check "... and an rpm without it is reported (rpmkeys -K)" \
	cond "cp $d/dl/dmpstat-$v2-1.*.rpm $tmp/unsigned.rpm && rpmsign --delsign $tmp/unsigned.rpm >/dev/null && ! rpmkeys --root $d/keys -K $tmp/unsigned.rpm | grep -q 'signatures OK'"
# repomd.xml altered after signing: dnf refuses the repository.
cp -a "$repo/rpm" "$tmp/bad-rpm"
sed -i 's|</repomd>|<!-- tampered --></repomd>|' "$tmp/bad-rpm/repodata/repomd.xml"
sed -i "s|^baseurl=.*|baseurl=file://$tmp/bad-rpm|" "$d/repos/dmp.repo"
rm -rf "$d/cache"
check "dnf refuses the repository once repomd.xml is altered after signing" \
	cond "! dnf ${dnf_opts[*]} repoquery dmp-dkms >$tmp/q 2>&1; cat $tmp/q; grep -q 'repomd.xml GPG signature verification error' $tmp/q && ! grep -q '^dmp-dkms-' $tmp/q"

summary
