#!/usr/bin/env bash
# train-csv-read: how fast cnai train reads numeric CSV into its float
# matrix (the CSV reader plus the exact float parser, core/data/number.h),
# on the 200,000 x 64 file of train-mlp.sh (made by it when missing), best
# of REPEAT runs, from the page cache; against numpy.loadtxt on the same
# file in the same run. Goal: >= 200 MB/s.
#
#   scripts/bench/train-csv-read.sh
set -euo pipefail

REPEAT=${REPEAT:-3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cnai=${CNAI:-$root/build/cnai}
work=${WORK:-$root/build/bench}
file=$work/synth-200000-train.csv
[ -s "$file" ] || EPOCHS=1 "$root/scripts/bench/train-mlp.sh" >/dev/null
cd "$work"
cat "$file" >/dev/null
size=$(stat -c %s "$file")
rm -rf rstore && mkdir rstore && (cd rstore && "$cnai" init >/dev/null)
best=
for _ in $(seq "$REPEAT"); do
	s=$("$cnai" --store rstore -q train --data "$file" --target label \
		--model linear --epochs 1 --valid-split 0 --device cpu \
		-o rmodel --json | jq .read_seconds)
	if [ -z "$best" ] || [ "$(echo "$s < $best" | bc -l)" -eq 1 ]; then
		best=$s
	fi
done
np=$(/usr/bin/python3 -c '
import sys, time, numpy as np
t = time.time(); np.loadtxt(sys.argv[1], delimiter=",", skiprows=1, dtype=np.float32)
print("%.3f" % (time.time() - t))' "$file")
printf 'train-csv-read: %d bytes of numeric CSV (load average %s)\n' "$size" "$(cut -d' ' -f1 /proc/loadavg)"
printf '  cnai           %6.2f s  %6.0f MB/s (goal 200)\n' "$best" "$(echo "$size / $best / 1000000" | bc -l)"
printf '  numpy.loadtxt  %6.2f s  %6.0f MB/s\n' "$np" "$(echo "$size / $np / 1000000" | bc -l)"
