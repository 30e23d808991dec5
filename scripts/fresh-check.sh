#!/bin/bash
# The clean-room check: does a clone of this repository, with nothing
# beside it, build, demo and pass its tests on a new Debian 12 machine?
#
# Builds a minimal Debian 12 root with `mmdebstrap --variant=apt` (the
# tarball is cached as build/fresh/bookworm-apt.tar; delete it to start
# over; the root itself is unpacked under $TMPDIR or /var/tmp), puts a
# `git clone` of HEAD in it at /src/cnai, and runs `make demo`
# then `make test` there in a chroot. The chroot has proc, sysfs, a tmpfs
# /tmp and a private /dev made of device nodes (never the host's /dev), and
# the host's apt sources, so its package installs go where the host's go.
# Prints each command's wall time and the test summary line; exits non-zero
# when either command fails. Needs root.
#
#   scripts/fresh-check.sh                 # HEAD
#   KEEP=1 scripts/fresh-check.sh          # leave the root for a look
#   TESTS=tests/cli/t0005-self-contained.bats scripts/fresh-check.sh
#
# Each test file's TAP output is copied to build/fresh/tap/ for a look.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=$ROOT/build/fresh
TARBALL=$WORK/bookworm-apt.tar
LOG=$WORK/fresh-check.log

die() { echo "fresh-check: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "needs root (chroot, mounts)"
command -v mmdebstrap >/dev/null || {
	echo "fresh-check: installing mmdebstrap" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends mmdebstrap >/dev/null
}
mkdir -p "$WORK"

# The host's apt sources and apt options (a mirror, a proxy, a snapshot's
# validity settings): the chroot installs from where the host does.
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources; do
	[ -s "$f" ] && sources+=("$f")
done
[ ${#sources[@]} -gt 0 ] || die "the host has no apt sources"

if [ ! -s "$TARBALL" ]; then
	echo "fresh-check: building a Debian 12 root ($TARBALL)" >&2
	mmdebstrap --quiet --variant=apt bookworm "$WORK/partial.tar" \
		"${sources[@]}" && mv "$WORK/partial.tar" "$TARBALL"
fi

# The root lives outside the repository, so that nothing walking the tree
# (grep -r, make clean, an editor) reaches into its mounted /proc or /dev.
CHROOT=$(mktemp -d "${TMPDIR:-/var/tmp}/cnai-fresh.XXXXXX")
mounted=()
cleanup() {
	local i
	# Unmount in reverse order before removing anything: a failed
	# unmount must never let rm reach into a mounted /proc or /dev.
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
		umount "${mounted[i]}" 2>/dev/null ||
			umount -l "${mounted[i]}" 2>/dev/null || true
	done
	if [ -n "${KEEP:-}" ]; then
		echo "fresh-check: root kept in $CHROOT" >&2
		return
	fi
	if grep -q " $CHROOT/" /proc/mounts; then
		echo "fresh-check: $CHROOT still has mounts; not removed" >&2
		return
	fi
	rm -rf "$CHROOT"
}
trap cleanup EXIT
tar -xf "$TARBALL" -C "$CHROOT"

mount_in() { # mount_in TYPE DIR OPTIONS
	mkdir -p "$CHROOT$2"
	mount -t "$1" -o "$3" "$1" "$CHROOT$2"
	mounted+=("$CHROOT$2")
}
mount_in proc /proc nosuid,nodev,noexec
mount_in sysfs /sys ro,nosuid,nodev,noexec
mount_in tmpfs /tmp mode=1777,nosuid,nodev
# A private /dev: a tmpfs with the usual nodes, its own devpts (tests use
# terminals through script(1)) and a /dev/shm.
mount_in tmpfs /dev mode=0755,nosuid
dev=$CHROOT/dev
mknod -m 666 "$dev/null" c 1 3
mknod -m 666 "$dev/zero" c 1 5
mknod -m 666 "$dev/full" c 1 7
mknod -m 666 "$dev/random" c 1 8
mknod -m 666 "$dev/urandom" c 1 9
mknod -m 666 "$dev/tty" c 5 0
ln -s /proc/self/fd "$dev/fd"
ln -s /proc/self/fd/0 "$dev/stdin"
ln -s /proc/self/fd/1 "$dev/stdout"
ln -s /proc/self/fd/2 "$dev/stderr"
mount_in devpts /dev/pts newinstance,ptmxmode=0666,mode=0620,nosuid,noexec
ln -s pts/ptmx "$dev/ptmx"
mount_in tmpfs /dev/shm mode=1777,nosuid,nodev

# The clone: HEAD only, nothing beside it (no build/, no sibling folders).
git clone --quiet --no-local "$ROOT" "$CHROOT/src/cnai"
git -C "$CHROOT/src/cnai" log --oneline -1

# The host's network as a new machine of its kind has it: the resolver,
# apt's options, the certificate authorities it adds (a proxy's, which
# update-ca-certificates keeps when the ca-certificates package arrives)
# and npm's settings.
cp -L /etc/resolv.conf "$CHROOT/etc/resolv.conf" 2>/dev/null || true
for f in /etc/apt/apt.conf.d/*; do
	[ -f "$f" ] && cp "$f" "$CHROOT/etc/apt/apt.conf.d/"
done
if [ -d /usr/local/share/ca-certificates ]; then
	mkdir -p "$CHROOT/usr/local/share/ca-certificates"
	cp -r /usr/local/share/ca-certificates/. \
		"$CHROOT/usr/local/share/ca-certificates/"
fi
if [ -s /etc/ssl/certs/ca-certificates.crt ]; then
	mkdir -p "$CHROOT/etc/ssl/certs"
	cp /etc/ssl/certs/ca-certificates.crt "$CHROOT/etc/ssl/certs/"
fi
for f in /etc/npmrc /usr/etc/npmrc; do
	[ -f "$f" ] && mkdir -p "$CHROOT${f%/*}" && cp "$f" "$CHROOT$f"
done

in_root() {
	chroot "$CHROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		${OPENBLAS_CORETYPE:+OPENBLAS_CORETYPE=$OPENBLAS_CORETYPE} \
		${OPENBLAS_L2_SIZE:+OPENBLAS_L2_SIZE=$OPENBLAS_L2_SIZE} \
		/bin/sh -c "cd /src/cnai && $1"
}
# make is the one tool the two commands need before they can install the
# rest; a Debian "apt" root has no make.
in_root 'apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends make >/dev/null'

: >"$LOG"
rc=0
timed() { # timed NAME COMMAND: runs it in the root, prints its wall time
	local t0 t1 status=0
	t0=$(date +%s)
	in_root "$2" >>"$LOG" 2>&1 || status=$?
	t1=$(date +%s)
	printf 'fresh-check: %-10s %s after %dm%02ds\n' "$1" \
		"$([ $status -eq 0 ] && echo ok || echo "FAILED ($status)")" \
		$(((t1 - t0) / 60)) $(((t1 - t0) % 60))
	return $status
}
timed "make demo" "make demo" || rc=1
timed "make test" "make test${TESTS:+ TESTS='$TESTS'}" || rc=1
rm -rf "$WORK/tap"
cp -r "$CHROOT/src/cnai/build/tap" "$WORK/tap" 2>/dev/null || true
# The suites alone (after the packages were installed by the run above).
summary=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOG" | tail -1 || true)
echo "fresh-check: ${summary:-no test summary line}"
echo "fresh-check: wall time of the suites: $(grep -E '^Files=' "$LOG" | tail -1 || echo '?')"
if [ $rc -ne 0 ]; then
	echo "fresh-check: the end of $LOG:" >&2
	tail -40 "$LOG" >&2
fi
exit $rc
