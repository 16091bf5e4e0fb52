#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# install.sh: install Interlock on a plain Linux VM with systemd — the
# binary in /usr/local/bin, interlock-node.service and
# interlock-control.service, the user interlock, /var/lib/interlock, and
# example configuration in /etc/interlock (policy.yaml, node.env,
# control.env; existing files are never overwritten). Running it again
# updates the binary and the units and changes nothing else.
#
#   sudo ./install.sh [--bin PATH] [--enable node,control]
#   sudo ./install.sh --uninstall [--purge]
#
# --bin       the interlock binary to install (default: ./interlock beside
#             this script, else bin/interlock of the repository)
# --enable    enable and (re)start these units: node, control or both
# --uninstall stop and remove the units and the binary, and the node's
#             pinned interception (workloads are no longer intercepted);
#             keeps /var/lib/interlock and /etc/interlock unless --purge
#
# It checks first, and changes nothing when a check fails: root, systemd
# running, Linux 5.15 or later, cgroup v2. With DESTDIR set it stages the
# files under DESTDIR (for a package or an image) and skips the checks and
# every systemctl call.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
DESTDIR=${DESTDIR:-}
bin=""
enable=""
uninstall=0
purge=0

die() { echo "install.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
	case $1 in
	--bin) [ $# -ge 2 ] || die "--bin needs a path"; bin=$2; shift 2 ;;
	--bin=*) bin=${1#--bin=}; shift ;;
	--enable) [ $# -ge 2 ] || die "--enable needs node, control or node,control"; enable=$2; shift 2 ;;
	--enable=*) enable=${1#--enable=}; shift ;;
	--uninstall) uninstall=1; shift ;;
	--purge) purge=1; shift ;;
	-h|--help) sed -n '4,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument $1 (see --help)" ;;
	esac
done
[ "$purge" = 0 ] || [ "$uninstall" = 1 ] || die "--purge goes with --uninstall"
for u in $(echo "$enable" | tr ',' ' '); do
	case $u in node|control) ;; *) die "--enable $u: want node, control or node,control" ;; esac
done

# version_ge A B: is kernel release A at least B (major.minor)?
version_ge() {
	a_major=${1%%.*}; a_rest=${1#*.}; a_minor=${a_rest%%[!0-9]*}
	b_major=${2%%.*}; b_minor=${2#*.}
	[ "$a_major" -gt "$b_major" ] || { [ "$a_major" -eq "$b_major" ] && [ "$a_minor" -ge "$b_minor" ]; }
}

check() {
	[ "$(id -u)" = 0 ] || die "run as root (sudo $0)"
	[ -d /run/systemd/system ] || die "systemd is not running here (no /run/systemd/system): the units need it; run 'interlock node' and 'interlock control' under your own supervisor instead"
	release=$(uname -r)
	version_ge "$release" 5.15 || die "Linux $release is too old: interception needs 5.15 or later (BPF sock_ops with netns cookies); 'interlock node --mode=proxy' works on older kernels"
	grep -q '^[^ ]* [^ ]* cgroup2 ' /proc/mounts || die "no cgroup v2 hierarchy is mounted: boot with systemd.unified_cgroup_hierarchy=1 (or mount cgroup2), or use 'interlock node --mode=proxy'"
	if [ "$uninstall" = 0 ]; then
		grep -q '^[^ ]* /sys/fs/bpf bpf ' /proc/mounts || die "/sys/fs/bpf is not a bpffs: systemd mounts it at boot on kernels with BPF; mount it with 'mount -t bpf bpf /sys/fs/bpf'"
	fi
}

systemctl_() { [ -n "$DESTDIR" ] || systemctl "$@"; }

do_uninstall() {
	for u in interlock-node interlock-control; do
		systemctl_ disable --now "$u.service" 2>/dev/null || true
		rm -f "$DESTDIR/etc/systemd/system/$u.service"
	done
	# With the agent stopped, removing the pins releases the links: the
	# workloads' connections are no longer intercepted.
	rm -rf "$DESTDIR/sys/fs/bpf/interlock"
	rm -f "$DESTDIR/usr/local/bin/interlock"
	systemctl_ daemon-reload
	if [ "$purge" = 1 ]; then
		rm -rf "$DESTDIR/var/lib/interlock" "$DESTDIR/var/lib/interlock-node" "$DESTDIR/etc/interlock"
		if [ -z "$DESTDIR" ] && id interlock >/dev/null 2>&1; then userdel interlock; fi
		echo "Interlock removed, with its data and configuration."
	else
		echo "Interlock removed. Kept: /var/lib/interlock (store, CA, recordings) and /etc/interlock (--purge removes them)."
	fi
}

# install_new SRC DST MODE: copy SRC to DST unless DST exists.
install_new() {
	if [ -e "$2" ]; then
		echo "kept $2"
	else
		install -m "$3" "$1" "$2"
		echo "wrote $2"
	fi
}

do_install() {
	if [ -z "$bin" ]; then
		for b in "$here/interlock" "$here/../../bin/interlock"; do
			if [ -x "$b" ]; then bin=$b; break; fi
		done
	fi
	[ -n "$bin" ] && [ -x "$bin" ] || die "no interlock binary: build it with 'make build' or pass --bin PATH"
	"$bin" version >/dev/null 2>&1 || die "$bin does not run here"

	install -d -m 0755 "$DESTDIR/usr/local/bin" "$DESTDIR/etc/systemd/system"
	install -d -m 0755 "$DESTDIR/etc/interlock"
	tmp="$DESTDIR/usr/local/bin/.interlock.new"
	install -m 0755 "$bin" "$tmp"
	mv -f "$tmp" "$DESTDIR/usr/local/bin/interlock" # atomic: a running agent keeps its old inode
	for u in interlock-node interlock-control; do
		install -m 0644 "$here/$u.service" "$DESTDIR/etc/systemd/system/$u.service"
	done
	install_new "$here/policy.yaml" "$DESTDIR/etc/interlock/policy.yaml" 0644
	install_new "$here/node.env" "$DESTDIR/etc/interlock/node.env" 0644
	install_new "$here/control.env" "$DESTDIR/etc/interlock/control.env" 0644

	if [ -z "$DESTDIR" ] && ! id interlock >/dev/null 2>&1; then
		useradd --system --user-group --home-dir /var/lib/interlock --no-create-home --shell /usr/sbin/nologin interlock
	fi
	install -d -m 0700 "$DESTDIR/var/lib/interlock"
	if id interlock >/dev/null 2>&1; then chown interlock:interlock "$DESTDIR/var/lib/interlock"; fi

	systemctl_ daemon-reload
	for u in $(echo "$enable" | tr ',' ' '); do
		systemctl_ enable "interlock-$u.service"
		systemctl_ restart "interlock-$u.service"
	done
	echo "Interlock installed: $("$DESTDIR/usr/local/bin/interlock" version)"
	echo "Next: edit /etc/interlock/node.env (the workloads to intercept) and /etc/interlock/policy.yaml,"
	echo "      then: systemctl enable --now interlock-control interlock-node"
}

[ -n "$DESTDIR" ] || check
if [ "$uninstall" = 1 ]; then do_uninstall; else do_install; fi
