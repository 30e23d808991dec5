#!/bin/sh
# Installs every Debian package that building and testing cnai need.
# Idempotent and quiet when everything is already there: make, make test and
# make demo call it first, so a fresh Debian 12 machine needs no other step.
set -eu

# Build: compilers and the libraries DESIGN.md lists (pkg-config names each).
BUILD_PKGS="build-essential pkg-config libsqlite3-dev libgit2-dev \
libjansson-dev libssl-dev libyaml-dev libarchive-dev libcurl4-openssl-dev \
libzstd-dev zlib1g-dev"
# Tests: unit and CLI runners and the independent checkers.
TEST_PKGS="libcmocka-dev bats sqlite3 graphviz git python3 perl jq bc \
skopeo umoci docker-registry apache2-utils"

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
