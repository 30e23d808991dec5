#!/bin/bash
# make test-gpu: the CUDA ops against the CPU ones (tests/gpu/ops.c), then
# training on digits:
#   - cuda against cpu, the same seed: train and validation loss of every
#     epoch within 2% (+0.005), final accuracy within 1 point;
#   - cuda twice with one seed: the same weights bit for bit
#     (model.safetensors) and the same loss bits every epoch.
# Every figure is printed. Skipped (exit 0) only where this machine has no
# NVIDIA device (no /dev/nvidia0..., or nvidia-smi lists none); with one,
# a plug-in that does not open fails.
set -u
BUILD=${CNAI_BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 3
skip() {
	echo "1..0 # SKIP $1"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
}
ls /dev/nvidia[0-9]* >/dev/null 2>&1 || skip "no NVIDIA device (/dev/nvidia0...)"
if command -v nvidia-smi >/dev/null && ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
	skip "the NVIDIA driver lists no GPU (nvidia-smi -L)"
fi
[ -e "$BUILD/libcnai-cuda.so" ] ||
	{ echo "not ok - an NVIDIA device is here but $BUILD/libcnai-cuda.so is not built (nvcc?)"; exit 1; }
export CNAI_CUDA_PLUGIN="$ROOT/$BUILD/libcnai-cuda.so"
"$BUILD/tests/gpu/ops" | tee "$BUILD/gpu-ops.tap"
rc=${PIPESTATUS[0]}
if [ "$rc" -ne 0 ] || grep -q '^1\.\.0' "$BUILD/gpu-ops.tap"; then
	echo "not ok - the GPU ops differ from the CPU ones, or the plug-in did not open"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CNAI=$ROOT/$BUILD/cnai
(cd "$tmp" && "$CNAI" init >/dev/null) || exit 3
passed=$(grep -c '^ok' "$BUILD/gpu-ops.tap")
failed=0
verdict() { # <0 = ok> <text>
	if [ "$1" -eq 0 ]; then
		echo "ok - $2"
		passed=$((passed + 1))
	else
		echo "not ok - $2"
		failed=$((failed + 1))
	fi
}

# train <name> <device>: digits, MLP 256-128, 20 epochs, seed 1.
train() {
	(cd "$tmp" && "$CNAI" -q train --data "$ROOT/examples/data/digits.csv" \
		--target target --hidden 256,128 --epochs 20 --batch-size 64 \
		--lr 0.001 --seed 1 --device "$2" -o "$1" --json) >"$tmp/$1.json" ||
		{ echo "not ok - training on $2 failed"; exit 1; }
}
# metric <name> <key>: the key's values, one per epoch, in order.
metric() {
	(cd "$tmp" && "$CNAI" track metrics "$(jq -r .run "$tmp/$1.json")" --json) |
		jq -r --arg k "$2" '[.[] | select(.key == $k)] | sort_by(.step) | .[].value'
}

train cpu cpu
train cuda cuda
train cuda2 cuda
for run in cpu cuda; do
	echo "# $run: $(jq -r .device "$tmp/$run.json"), val_accuracy $(jq .metrics.val_accuracy "$tmp/$run.json"), $(metric "$run" samples_per_second | awk '{ s += $1 } END { printf "%.0f", s / NR }') rows/s per epoch, $(jq .seconds "$tmp/$run.json") s"
done
for key in train_loss val_loss; do
	paste <(metric cpu $key) <(metric cuda $key) >"$tmp/$key"
	echo "# $key per epoch: cpu cuda relative-difference"
	awk '{ d = $2 - $1; if (d < 0) d = -d; printf "#   %2d %.6f %.6f %.2e\n", NR, $1, $2, d / ($1 > 0 ? $1 : 1) }' "$tmp/$key"
	awk 'NF != 2 { bad = 1 }
	     { d = $2 - $1; if (d < 0) d = -d; a = $1 < 0 ? -$1 : $1;
	       if (!(d <= 0.02 * a + 0.005)) bad = 1 }
	     END { exit bad || NR != 20 }' "$tmp/$key"
	verdict $? "digits $key on cuda within 2% of cpu at every epoch"
done
acc_cpu=$(jq .metrics.val_accuracy "$tmp/cpu.json")
acc_cuda=$(jq .metrics.val_accuracy "$tmp/cuda.json")
[ "$(echo "$acc_cuda >= $acc_cpu - 0.01 && $acc_cuda <= $acc_cpu + 0.01" | bc -l)" -eq 1 ]
verdict $? "digits accuracy on cuda ($acc_cuda) within 1 point of cpu ($acc_cpu)"
cmp -s "$tmp/cuda/model.safetensors" "$tmp/cuda2/model.safetensors"
verdict $? "cuda twice with one seed: the same weights bit for bit"
for key in train_loss val_loss; do
	[ "$(metric cuda $key)" = "$(metric cuda2 $key)" ]
	verdict $? "cuda twice with one seed: the same $key bits every epoch"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
