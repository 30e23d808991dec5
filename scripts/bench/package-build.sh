#!/bin/bash
# package-build: packaging a large model (random + compressible parts) with
# `cnai package --format modelcar` against the shell pipelines a user would
# write, `tar -c | gzip | sha256sum` and `tar -c | pigz | sha256sum`, on
# the same files in the same run; then a rebuild of the unchanged model.
# Goal: faster than the pigz pipeline on 2 cores; rebuild <= 5% of first.
# SIZE_MB (default 1024) sets the model size. Inputs are read once before
# timing (warm page cache).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CNAI=${CNAI:-$ROOT/build/cnai}
SIZE_MB=${SIZE_MB:-1024}
[ -x "$CNAI" ] || make -C "$ROOT" >/dev/null
command -v pigz >/dev/null || "$ROOT/scripts/install-deps.sh" bench
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cnai-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); nproc $(nproc); model ${SIZE_MB} MiB"

mkdir model
half=$((SIZE_MB / 2))
head -c $((half * 1048576)) /dev/urandom >model/weights.bin
# compressible half: float-like text repeated with variation
awk -v n=$((half * 1048576 / 16)) 'BEGIN { srand(1); for (i = 0; i < n; i++) printf "%.10f\n", (i % 977) / 977 }' |
	head -c $((half * 1048576)) >model/embeddings.txt
echo '{"features":[]}' >model/cnai-model.json
cat model/* >/dev/null

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }

"$CNAI" -q init >/dev/null
"$CNAI" model register big model >/dev/null
t0=$(now); tar -C model -cf - . | gzip -6 | sha256sum >/dev/null; t1=$(now)
gzip_s=$(secs "$t0" "$t1")
t0=$(now); tar -C model -cf - . | pigz -6 | sha256sum >/dev/null; t1=$(now)
pigz_s=$(secs "$t0" "$t1")
# cnai writes the layer into the store and fsyncs it; the same for pigz:
t0=$(now); tar -C model -cf - . | pigz -6 | tee layer.tgz | sha256sum >/dev/null; sync layer.tgz; t1=$(now)
pigz_file_s=$(secs "$t0" "$t1")
rm -f layer.tgz
t0=$(now); SOURCE_DATE_EPOCH=0 "$CNAI" package big --format modelcar >/dev/null; t1=$(now)
cnai_s=$(secs "$t0" "$t1")
t0=$(now); SOURCE_DATE_EPOCH=0 "$CNAI" package big --format modelcar >/dev/null; t1=$(now)
again_s=$(secs "$t0" "$t1")

printf 'tar | gzip -6 | sha256sum : %8.2f s\n' "$gzip_s"
printf 'tar | pigz -6 | sha256sum : %8.2f s\n' "$pigz_s"
printf 'tar | pigz -6 | tee file | sha256sum; sync file : %8.2f s\n' "$pigz_file_s"
printf 'cnai package (gzip -1, parallel blocks, digest+diff_id in one pass): %8.2f s\n' "$cnai_s"
printf 'cnai package again (unchanged): %8.3f s = %.1f%% of the first\n' "$again_s" \
	"$(echo "100 * $again_s / $cnai_s" | bc -l)"
ratio=$(echo "$pigz_s / $cnai_s" | bc -l)
printf 'cnai is %.2fx the pigz pipeline (%.2fx when pigz also writes and syncs its output), %.2fx the gzip pipeline\n' "$ratio" \
	"$(echo "$pigz_file_s / $cnai_s" | bc -l)" "$(echo "$gzip_s / $cnai_s" | bc -l)"
ok=FAIL
if [ "$(echo "$cnai_s < $pigz_s && $again_s <= 0.05 * $cnai_s" | bc)" = 1 ]; then ok=PASS; fi
echo "package-build: cnai ${cnai_s}s vs pigz ${pigz_s}s (ratio $(printf %.2f "$ratio")), rebuild ${again_s}s: $ok"
