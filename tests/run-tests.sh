#!/bin/bash
# Runs every suite through prove: unit tests (cmocka, TAP output), CLI tests
# (bats) and interop tests (bats, against independent tools). Each file's
# TAP is also kept under $BUILD/tap/, and the run closes with one line
# "N passed, N failed, N skipped" counted from it. Given file names, runs
# only those (make stress does).
set -u
BUILD=${CNAI_BUILD:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 3
export CNAI_BIN="$ROOT/$BUILD/cnai"
export CNAI_ROOT="$ROOT"
export CMOCKA_MESSAGE_OUTPUT=TAP
export CNAI_TAP_DIR="$ROOT/$BUILD/tap"
export NO_COLOR=1
rm -rf "$CNAI_TAP_DIR"
mkdir -p "$CNAI_TAP_DIR"

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
	for f in "$BUILD"/tests/unit/*; do [ -x "$f" ] && files+=("$f"); done
	for f in tests/cli/*.bats tests/interop/*.bats; do
		[ -e "$f" ] && files+=("$f")
	done
fi
if [ ${#files[@]} -eq 0 ]; then
	echo "0 passed, 1 failed"
	echo "no test files found" >&2
	exit 1
fi

prove --jobs "${CNAI_TEST_JOBS:-2}" --exec "$ROOT/tests/tap-exec" \
	--timer "${files[@]}"
prove_rc=$?

passed=$(cat "$CNAI_TAP_DIR"/*.tap 2>/dev/null | grep -E '^ok ' | grep -vc '# skip')
skipped=$(cat "$CNAI_TAP_DIR"/*.tap 2>/dev/null | grep -E '^ok ' | grep -c '# skip')
failed=$(cat "$CNAI_TAP_DIR"/*.tap 2>/dev/null | grep -cE '^not ok ')
# A file that died without reporting a failure still failed.
if [ "$prove_rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
	failed=1
fi
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$prove_rc" -eq 0 ] && [ "$failed" -eq 0 ]
