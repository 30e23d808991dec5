#!/bin/bash
# make test-gpu: the CUDA ops against the CPU ones, then a training run on
# digits on each device: accuracies within 1 point, with per-epoch speed.
# Skipped (exit 0) where no GPU answers.
set -u
BUILD=${CNAI_BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 3
[ -e "$BUILD/libcnai-cuda.so" ] && export CNAI_CUDA_PLUGIN="$ROOT/$BUILD/libcnai-cuda.so"
"$BUILD/tests/gpu/ops" | tee "$BUILD/gpu-ops.tap"
rc=${PIPESTATUS[0]}
if grep -q '^1\.\.0 # SKIP' "$BUILD/gpu-ops.tap"; then
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
[ "$rc" -eq 0 ] || { echo "GPU ops differ from the CPU"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CNAI=$ROOT/$BUILD/cnai
(cd "$tmp" && "$CNAI" init >/dev/null) || exit 3
for dev in cpu cuda; do
	(cd "$tmp" && "$CNAI" -q train --data "$ROOT/examples/data/digits.csv" \
		--target target --hidden 256,128 --epochs 20 --batch-size 64 \
		--lr 0.001 --seed 1 --device $dev -o "m-$dev" --json) >"$tmp/$dev.json" || exit 1
	acc=$(jq .metrics.val_accuracy "$tmp/$dev.json")
	sps=$(cd "$tmp" && "$CNAI" track metrics "$(jq -r .run "$tmp/$dev.json")" --json |
		jq '[.. | objects | select(.key? == "samples_per_second") | .value] | add / length')
	echo "# $dev: val_accuracy $acc, $sps rows/s per epoch ($(jq -r .device "$tmp/$dev.json"))"
	eval "acc_$dev=$acc"
done
if [ "$(echo "$acc_cuda >= $acc_cpu - 0.01 && $acc_cuda <= $acc_cpu + 0.01" | bc -l)" -eq 1 ]; then
	echo "ok - digits accuracy on cuda within 1 point of cpu"
	echo "$(grep -c '^ok' "$BUILD/gpu-ops.tap") passed, 0 failed"
else
	echo "not ok - digits accuracy cuda $acc_cuda vs cpu $acc_cpu"
	exit 1
fi
