#!/bin/sh
# Installs every Debian package that building and testing cnai need.
# Idempotent and quiet when everything is already there: make, make test and
# make demo call it first, so a fresh Debian 12 machine needs no other step.
set -eu

# Build: compilers and the libraries DESIGN.md lists (pkg-config names each).
BUILD_PKGS="build-essential pkg-config libsqlite3-dev libgit2-dev \
libjansson-dev libssl-dev libyaml-dev libarchive-dev libcurl4-openssl-dev libsodium-dev xxd libmicrohttpd-dev \
libzstd-dev zlib1g-dev \
libopenblas-dev libprotobuf-c-dev protobuf-c-compiler libonnx-dev"
# Tests: unit and CLI runners and the independent checkers.
TEST_PKGS="libcmocka-dev bats sqlite3 graphviz git python3 perl jq bc python3-nacl openssl xxd python3-yaml python3-jsonschema \
skopeo umoci docker-registry apache2-utils wrk zstd \
python3-onnx python3-sklearn python3-numpy nodejs \
python3-scipy python3-pandas prometheus chromium"
# npm: Debian's package, unless a Node.js that bundles npm is installed.
command -v npm >/dev/null 2>&1 || TEST_PKGS="$TEST_PKGS npm"

missing=""
for p in $BUILD_PKGS $TEST_PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
# onnxruntime-node (npm) for the ONNX interop tests, in a project-local
# folder. Its CPU build ships in the package; the install script only
# fetches CUDA extras from elsewhere, so it is not run.
ORT_VERSION=1.20.1
npm_deps() {
	dir="$(cd "$(dirname "$0")/.." && pwd)/build/npm"
	pj="$dir/node_modules/onnxruntime-node/package.json"
	if [ -f "$pj" ] && grep -q "\"version\": \"$ORT_VERSION\"" "$pj"; then
		return 0
	fi
	command -v npm >/dev/null 2>&1 || return 0
	echo "install-deps: npm install onnxruntime-node@$ORT_VERSION" >&2
	mkdir -p "$dir"
	ONNXRUNTIME_NODE_INSTALL_CUDA=skip npm install --prefix "$dir" \
		--no-audit --no-fund --ignore-scripts \
		"onnxruntime-node@$ORT_VERSION" >/dev/null 2>&1 ||
		echo "install-deps: npm install failed; ONNX runtime tests" \
			"will be skipped" >&2
}
if [ -z "$missing" ]; then
	npm_deps
	exit 0
fi

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
npm_deps
