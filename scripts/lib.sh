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

# Host tools, checked by command, installed when missing (Debian host, root).
#
#   need_host_pkgs PKG[:CMD[,CMD...]]...
#
# PKG is a Debian package, CMD the commands the scripts run from it (a PKG
# without commands is checked by its dpkg status only). What counts is the
# command on PATH, not the package's status: a command that is missing although
# dpkg says its package is installed is named and the package reinstalled.
# Everything missing is installed in one apt transaction. apt may remove a
# package to install another (bookworm's qemu-system-x86 removes a backported
# qemu-utils, and qemu-img with it): the transaction is simulated first, and
# every package it would remove that is asked for here is installed in the same
# transaction at the registry's version, so that it stays; removing anything
# else is refused. Afterwards every command is checked again; one still missing
# is a clear error naming it and its package, never a "command not found" later.
need_host_pkgs() {
	local spec pkg cmds c want=() all=() reinstall=0 missing_cmds=()
	for spec in "$@"; do
		pkg=${spec%%:*}; cmds=""
		[ "$spec" = "$pkg" ] || cmds=${spec#*:}
		all+=("$pkg")
		if [ -z "$cmds" ]; then
			_pkg_installed "$pkg" || want+=("$pkg")
			continue
		fi
		for c in ${cmds//,/ }; do
			command -v "$c" >/dev/null 2>&1 && continue
			missing_cmds+=("$c")
			if _pkg_installed "$pkg"; then
				log "host: '$c' is not on PATH although $pkg is installed: reinstalling $pkg"
				reinstall=1
			fi
			want+=("$pkg")
			break
		done
	done
	if [ ${#want[@]} -gt 0 ]; then
		[ "$(id -u)" = 0 ] || die "need root to install: ${want[*]} (missing: ${missing_cmds[*]:-packages})"
		_apt_updated
		local args=(--no-install-recommends) removed r extra=() other=()
		[ $reinstall = 1 ] && args+=(--reinstall)
		mapfile -t want < <(printf '%s\n' "${want[@]}" | awk '!seen[$0]++')
		removed=$(_apt_removals "${args[@]}" "${want[@]}")
		for r in $removed; do
			if printf '%s\n' "${all[@]}" | grep -qxF "$r"; then
				extra+=("$r=$(_apt_repo_version "$r")")
			else
				other+=("$r")
			fi
		done
		[ ${#other[@]} -eq 0 ] ||
			die "installing ${want[*]} would remove ${other[*]}: refusing (install ${want[*]} by hand, choosing what to keep)"
		if [ ${#extra[@]} -gt 0 ]; then
			log "host: apt would remove ${extra[*]%%=*} to install ${want[*]}: keeping them at the registry's version"
			args+=(--allow-downgrades)
			removed=$(_apt_removals "${args[@]}" "${want[@]}" "${extra[@]}")
			[ -z "$removed" ] || die "installing ${want[*]} ${extra[*]} would still remove: $removed"
		fi
		log "host: apt-get install ${want[*]} ${extra[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${args[@]}" "${want[@]}" "${extra[@]}" \
			>"${TMPDIR:-/tmp}/dmp-apt.log" 2>&1 ||
			{ tail -20 "${TMPDIR:-/tmp}/dmp-apt.log" >&2; die "apt-get install ${want[*]} ${extra[*]} failed"; }
	fi
	# Never trust a package seen before the install: check every command now.
	local bad=()
	for spec in "$@"; do
		pkg=${spec%%:*}
		[ "$spec" = "$pkg" ] && { _pkg_installed "$pkg" || bad+=("package $pkg (not installed)"); continue; }
		cmds=${spec#*:}
		for c in ${cmds//,/ }; do
			command -v "$c" >/dev/null 2>&1 ||
				bad+=("'$c' from $pkg ($(dpkg-query -W -f='${Status} ${Version}' "$pkg" 2>/dev/null || echo 'not installed'))")
		done
	done
	[ ${#bad[@]} -eq 0 ] || die "host set-up: still missing after apt-get install: ${bad[*]}"
}

# Every host tool the project's scripts run, as PKG:COMMANDS (need_host_pkgs).
# One list, so that a fresh machine gets all of them in one apt transaction.
HOST_TOOLS=(
	build-essential:gcc,make,g++ pkg-config:pkg-config groff-base:groff
	qemu-system-x86:qemu-system-x86_64 qemu-utils:qemu-img e2fsprogs:mke2fs,debugfs
	debootstrap:debootstrap rsync:rsync dpkg-dev:dpkg-architecture,dpkg-scanpackages
	rpm:rpm,rpmsign,rpmkeys rpm2cpio:rpm2cpio cpio:cpio python3:python3 xz-utils:xz
	util-linux:flock,mountpoint,setsid,ionice patch:patch lintian:lintian
	apt-utils:apt-ftparchive gpg:gpg createrepo-c:createrepo_c dnf:dnf dnf-plugins-core
)

# The whole host set-up: cheap when everything is there (commands checked only).
host_setup() {
	need_host_pkgs "${HOST_TOOLS[@]}"
	command -v cargo >/dev/null 2>&1 ||
		die "host set-up: 'cargo' is not on PATH: install the Rust toolchain (rustup) for this user"
}

_pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

# apt-get update once per machine (and whenever the lists are gone).
_apt_updated() {
	if [ ! -f /var/lib/apt/periodic/dmp-updated ] || [ -z "$(find /var/lib/apt/lists -name '*Packages*' -print -quit)" ]; then
		log "host: apt-get update"
		apt-get update -q >/dev/null || die "apt-get update failed"
		mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/dmp-updated
	fi
}

# The packages an `apt-get install ARGS` would remove (simulated).
_apt_removals() {
	local sim
	sim=$(apt-get install -s -q "$@" 2>&1) || { printf '%s\n' "$sim" | tail -20 >&2; die "apt-get cannot install $*"; }
	printf '%s\n' "$sim" | awk '$1 == "Remv" { sub(/:.*/, "", $2); print $2 }'
}

# The newest version of PKG that a configured repository has (not dpkg's own).
_apt_repo_version() {
	apt-cache madison "$1" | awk -F'|' 'NR == 1 { gsub(/ /, "", $2); print $2 }'
}

# Take the lock open on FD; if another build holds it, say so, then wait.
lock_wait() { # FD WHAT
	flock -n "$1" || { log "$2: waiting for the build already running"; flock "$1"; }
}

# Start COMMAND in the background at a low priority (nice NICE, lowest
# best-effort I/O), in a session of its own, so that `kill -- -$bg_last`
# stops all of it. A new session is also a new scheduler autogroup (on in
# Debian's kernels), and autogroups share the CPU equally whatever their
# tasks' nice: the job sets its group's nice too. Redirect the call's output.
bg_low() { # NICE COMMAND...; sets bg_last to its pid
	local n=$1; shift
	# shellcheck disable=SC2016 # $0 and $@ belong to the inner shell
	setsid sh -c 'if [ -w /proc/self/autogroup ]; then echo "$0" >/proc/self/autogroup; fi
		exec nice -n "$0" ionice -c 2 -n 7 "$@"' "$n" "$@" &
	bg_last=$!
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
# Deletes from a module build tree (a copy made from module_files) the source
# files that are no longer among module_files: a file removed or renamed in the
# checkout would otherwise stay and be compiled (`mod kapi;` finds a stale
# kapi.rs beside kapi/mod.rs). Build products are kept.
prune_stale_sources() {
	local tree=$1
	[ -d "$tree/src/kmod" ] || return 0
	(cd "$tree" && find src/kmod -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' -o -name '*.params' \) \
		! -name 'bindings_generated.rs' | sort) |
		comm -23 - <(module_files) |
		while read -r f; do rm -f -- "${tree:?}/$f"; done
}

# The workspace version (Cargo.toml), which the packages and dmp.ko carry.
workspace_version() {
	sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' "$DMP_TOP/Cargo.toml"
}
# Fills the version into a module tree's dkms.conf (copied from module_files),
# as the package does: Kbuild reads it for MODULE_VERSION.
fill_module_version() { # TREE
	sed -i "s/#MODULE_VERSION#/$(workspace_version)/g" "$1/dkms.conf"
}

module_files() {
	(cd "$DMP_TOP" && {
		printf '%s\n' Kbuild Makefile dkms.conf src/stats/src/stats.rs
		find src/kmod -type f \( -name '*.rs' -o -name '*.c' -o -name '*.h' -o -name '*.params' \) \
			! -name 'bindings_generated.rs'
		find scripts/dkms -type f 2>/dev/null
	} | while read -r f; do [ -f "$f" ] && echo "$f"; done | sort)
}
