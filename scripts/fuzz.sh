#!/bin/bash
# Runs the libFuzzer targets: each tests/fuzz/fuzz-NAME.c is linked with the
# library (libcnai.a) of a sanitizer build (the folder given, made by `make
# fuzz`) and run for FUZZ_SECONDS from its seeds in tests/fuzz/corpus/NAME
# plus the corpus it grew before (BUILD/corpus-fuzz-NAME). Stops at the
# first target that finds a crash, showing the end of its log.
#
#   scripts/fuzz.sh build-fuzz                 # every target
#   FUZZ_SECONDS=60 scripts/fuzz.sh build-fuzz csv-table serve-request
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/fuzz.sh <build-folder> [<name>...]}
shift
seconds=${FUZZ_SECONDS:-600}
[ -s "$build/cnai-objects" ] || {
	echo "fuzz: $build/cnai-objects is missing: run make fuzz" >&2
	exit 2
}
read -r -a objects <"$build/cnai-objects"
ldlibs=$(sed -n 's/^LDLIBS := //p' "$build/pkg.mk")

if [ $# -gt 0 ]; then
	sources=()
	for n in "$@"; do sources+=("tests/fuzz/fuzz-$n.c"); done
else
	sources=(tests/fuzz/fuzz-*.c)
fi
for f in "${sources[@]}"; do
	[ -f "$f" ] || { echo "fuzz: no target $f" >&2; exit 2; }
	n=$(basename "$f" .c)
	# shellcheck disable=SC2086
	clang -std=c11 -D_GNU_SOURCE -I. -I"$build/gen" -DCNAI_FUZZING -O1 -g \
		-fsanitize=fuzzer,address,undefined -o "$build/$n" "$f" \
		"${objects[@]}" $ldlibs
	seeds=tests/fuzz/corpus/${n#fuzz-}
	mkdir -p "$build/corpus-$n"
	echo "== $n for ${seconds}s"
	if ! "$build/$n" -max_total_time="$seconds" -max_len=65536 \
		-timeout=10 -rss_limit_mb=2048 "$build/corpus-$n" "$seeds" \
		2>"$build/$n.log"; then
		tail -40 "$build/$n.log"
		exit 1
	fi
	tail -1 "$build/$n.log"
done
