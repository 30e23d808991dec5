#!/bin/bash
# The main job, end to end, as far as cnai is built: a store, a tracked
# training run over a small data set, its metrics and lineage. Runs from the
# repository alone, in a temporary folder it removes afterwards.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CNAI="$ROOT/build/cnai"
DATA="$ROOT/examples/data/iris.csv"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cnai-demo.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "$*"; "$@"; }

run "$CNAI" init
# A "training script": any program becomes a tracked run. This one fits a
# nearest-centroid classifier in awk and logs its accuracy per epoch.
cat >train.sh <<'SH'
#!/bin/sh
set -e
for epoch in 1 2 3; do
	acc=$(awk -F, -v e="$epoch" 'NR > 1 && (NR % 3 != 0 || e > 1) {
		for (i = 1; i < NF; i++) { s[$NF, i] += $i } n[$NF]++
	}
	NR > 1 { rows[NR] = $0 }
	END {
		right = 0; total = 0
		for (r in rows) {
			split(rows[r], f, ","); best = ""; bd = 1e9
			for (c in n) {
				d = 0
				for (i = 1; i < 5; i++) { m = s[c, i] / n[c]; d += (f[i] - m) ^ 2 }
				if (d < bd) { bd = d; best = c }
			}
			total++; right += (best == f[5])
		}
		printf "%.4f", right / total
	}' "$1")
	echo "epoch $epoch accuracy $acc"
	"$CNAI" track log --metric accuracy="$acc"@"$epoch" --metric loss="$(echo "1 - $acc" | bc -l)"@"$epoch"
done
SH
chmod +x train.sh
export CNAI="$CNAI"
run "$CNAI" track run --experiment iris --name centroid -p model=nearest-centroid \
	--input "$DATA" -- ./train.sh "$DATA"
run "$CNAI" track ls
run "$CNAI" track show centroid
run "$CNAI" track metrics centroid accuracy --plot
run "$CNAI" track ls --filter "metrics.accuracy > 0.8 AND params.model = 'nearest-centroid'" \
	--columns id,name,metrics.accuracy,params.model
run "$CNAI" lineage centroid
run "$CNAI" fsck
