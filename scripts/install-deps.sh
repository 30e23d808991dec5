#!/bin/sh
# Installs the Debian packages (and the one npm package) that a make target
# needs, by purpose:
#
#   build  compilers and the libraries DESIGN.md lists: what `make` needs
#   demo   what scripts/demo.sh runs besides cnai (the manifest validator,
#          curl against the live server)
#   test   the unit and CLI test runners and the independent checkers that
#          `make test` compares cnai with (skopeo, umoci, onnxruntime, ...)
#   bench  the peers of scripts/bench/ (pigz, wrk, Fashion-MNIST, ...)
#   fuzz   clang and its libFuzzer runtime, for `make fuzz`
#
#   scripts/install-deps.sh build test
#
# Idempotent and quiet when everything is already there (one dpkg-query per
# group), so the Makefile can call it freely; it runs apt-get only for what
# is missing. Without an argument it installs the build group.
set -eu

pkgs_build="build-essential pkg-config libsqlite3-dev libgit2-dev \
libjansson-dev libssl-dev libyaml-dev libarchive-dev libcurl4-openssl-dev \
libsodium-dev xxd libmicrohttpd-dev libzstd-dev zlib1g-dev \
libopenblas-dev libprotobuf-c-dev protobuf-c-compiler libonnx-dev"
pkgs_demo="python3 python3-yaml python3-jsonschema curl"
# chromium renders the drift report in t7006; prometheus brings promtool;
# man-db (and groff-base) render the man pages in t0010; npm fetches
# onnxruntime-node over https (ca-certificates).
pkgs_test="libcmocka-dev bats sqlite3 graphviz git python3 perl jq bc curl \
man-db groff-base ca-certificates \
python3-nacl openssl xxd python3-yaml python3-jsonschema \
skopeo umoci docker-registry apache2-utils wrk zstd \
python3-onnx python3-sklearn python3-numpy nodejs \
python3-scipy python3-pandas prometheus chromium"
pkgs_bench="pigz wrk python3-sklearn python3-numpy python3-scipy \
python3-pandas dataset-fashion-mnist sqlite3 skopeo docker-registry curl jq bc"
pkgs_fuzz="clang libclang-rt-14-dev"

root=$(cd "$(dirname "$0")/.." && pwd)
[ $# -gt 0 ] || set -- build

wanted=""
want_npm=""
for group in "$@"; do
	case "$group" in
	build) wanted="$wanted $pkgs_build" ;;
	demo) wanted="$wanted $pkgs_demo" ;;
	test) wanted="$wanted $pkgs_test"; want_npm=1 ;;
	bench) wanted="$wanted $pkgs_bench" ;;
	fuzz) wanted="$wanted $pkgs_fuzz" ;;
	*)
		echo "install-deps: unknown group '$group'" \
			"(build, demo, test, bench, fuzz)" >&2
		exit 2
		;;
	esac
done
# npm: Debian's package, unless a Node.js that bundles npm is installed.
if [ -n "$want_npm" ] && ! command -v npm >/dev/null 2>&1; then
	wanted="$wanted npm"
fi

# One dpkg-query for the whole list: a package it does not know at all is
# reported on stderr and has no status line, so both count as missing.
# shellcheck disable=SC2086
installed=$(dpkg-query -W -f='${Package} ${Status}\n' $wanted 2>/dev/null |
	awk '/ install ok installed$/ { print $1 }')
missing=""
for p in $wanted; do
	case " $missing " in *" $p "*) continue ;; esac
	if ! printf '%s\n' "$installed" | grep -qx "$p"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
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
fi

# onnxruntime-node (npm) for the ONNX interop tests, in a project-local
# folder. Its CPU build ships in the package; the install script only
# fetches CUDA extras from elsewhere, so it is not run.
ORT_VERSION=1.20.1
if [ -n "$want_npm" ]; then
	dir="$root/build/npm"
	pj="$dir/node_modules/onnxruntime-node/package.json"
	if ! { [ -f "$pj" ] && grep -q "\"version\": \"$ORT_VERSION\"" "$pj"; }
	then
		echo "install-deps: npm install onnxruntime-node@$ORT_VERSION" >&2
		mkdir -p "$dir"
		ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --prefix "$dir" \
			--no-audit --no-fund --ignore-scripts \
			"onnxruntime-node@$ORT_VERSION" >/dev/null 2>&1 ||
			echo "install-deps: npm install failed; ONNX runtime" \
				"tests will be skipped" >&2
	fi
fi
