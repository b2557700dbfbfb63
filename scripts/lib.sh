# shellcheck shell=bash
# Common helpers for the dmp test bed. Sourced by the scripts in this directory.

set -euo pipefail

DMP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DMP_CACHE=${DMP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/dmp}
DMP_SUITE=trixie
export DMP_TOP DMP_CACHE

_t0=${_t0:-$(date +%s)}
export _t0

log() { printf '[%5ss] %s\n' "$(( $(date +%s) - _t0 ))" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The Debian mirror this machine already uses, read from its own apt sources
# (deb822 .sources files first, then one-line sources.list entries).
debian_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk 'tolower($1)=="uris:" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }' "$f")
		[ -n "$uri" ] && { echo "${uri%/}"; return 0; }
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(awk '$1=="deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\/.*\/debian\/?$/) { print $i; exit } }' "$f")
		[ -n "$uri" ] && { echo "${uri%/}"; return 0; }
	done
	die "no Debian mirror found in /etc/apt/sources.list{,.d}: add one (deb822 URIs ending in /debian)"
}

# Short content hash of files and strings: the cache key of a build step.
cache_key() {
	{
		for a in "$@"; do
			if [ -f "$a" ]; then sha256sum <"$a"; else printf '%s\n' "$a"; fi
		done
	} | sha256sum | cut -c1-16
}

# Install host packages that are missing (Debian host, root).
need_host_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "need root to install: ${missing[*]}"
	log "apt-get install ${missing[*]}"
	if [ ! -f /var/lib/apt/periodic/dmp-updated ] || [ -z "$(find /var/lib/apt/lists -name '*Packages*' -print -quit)" ]; then
		apt-get update -q >/dev/null
		mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/dmp-updated
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}

# Run a command inside the build root with /proc, /sys, /dev and the cache
# directory (at /cache) mounted. Several commands may run at once (a kernel
# build and a module build): the mounts are shared and counted, set up by the
# first user and removed by the last, whatever happens to the command.
in_root() {
	local root=$1; shift
	local rc=0
	_root_users "$root" +1
	# shellcheck disable=SC2064
	trap "_root_users '$root' -1" EXIT
	env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 TERM=dumb \
		chroot "$root" "$@" || rc=$?
	_root_users "$root" -1
	trap - EXIT
	return $rc
}

# Adjust the count of commands using the root's mounts (under its lock);
# mount on the first, unmount after the last.
_root_users() {
	local root=$1 delta=$2 n fd
	exec {fd}>"$root.lock"
	flock "$fd"
	n=$(cat "$root.users" 2>/dev/null || echo 0)
	# A count left by a killed command, or mounts gone: start again.
	mountpoint -q "$root/proc" || n=0
	if [ "$delta" = +1 ] && [ "$n" = 0 ]; then
		_root_umount "$root"
		mkdir -p "$root/cache"
		mount -t proc proc "$root/proc"
		mount --rbind /sys "$root/sys"; mount --make-rslave "$root/sys"
		mount --rbind /dev "$root/dev"; mount --make-rslave "$root/dev"
		mount --bind "$DMP_CACHE" "$root/cache"
	fi
	n=$((n + delta))
	[ "$n" -lt 0 ] && n=0
	echo "$n" >"$root.users"
	[ "$n" = 0 ] && _root_umount "$root"
	exec {fd}>&-
}

_root_umount() {
	local m
	for m in cache dev sys proc; do
		if mountpoint -q "$1/$m"; then
			umount -R "$1/$m" 2>/dev/null || umount -lR "$1/$m"
		fi
	done
}

# Remove a tree that may have been a chroot: unmount first, never cross into
# another file system (a stale /dev bind mount must not be emptied).
remove_tree() {
	[ -e "$1" ] || return 0
	_root_umount "$1"
	rm -rf --one-file-system "$1"
}

# The files of the kernel module's source tree: what DKMS builds from.
module_files() {
	(cd "$DMP_TOP" && {
		printf '%s\n' Kbuild Makefile dkms.conf src/stats/src/stats.rs
		find src/kmod -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' -o -name '*.params' \) \
			! -name 'bindings_generated.rs'
		find scripts/dkms -type f 2>/dev/null
	} | while read -r f; do [ -f "$f" ] && echo "$f"; done | sort)
}
