#!/bin/bash
# gpu-check: everything a machine with an NVIDIA GPU should run on cnai's
# CUDA plug-in, in one go and in under 5 minutes, printing every figure:
#
#   1. the machine: GPU, driver, nvcc;
#   2. the build: cnai, libcnai-cuda.so (nvcc) and tests/gpu/ops, and the
#      GPU code the plug-in carries;
#   3. make test-gpu's checks (tests/gpu/run.sh): every op against the
#      CPU, training on cuda against cpu, cuda twice bit for bit;
#   4. a training benchmark, --device cuda against --device cpu: digits
#      (examples/data), and Fashion-MNIST's 60,000 x 784 when the Debian
#      package dataset-fashion-mnist is installed.
#
#   scripts/gpu-check.sh            # from the repository root or anywhere
#   EPOCHS=3 scripts/gpu-check.sh   # Fashion-MNIST epochs (default 5)
#
# It builds the targets directly rather than through `make all`, whose
# first step installs Debian packages (scripts/install-deps.sh): a GPU
# machine is often offline. Exit status 0 when the build and every check
# passed, 1 otherwise; the benchmark's figures are reported, not judged.
set -u
EPOCHS=${EPOCHS:-5}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 3
BUILD=${BUILD:-build}
cnai=$root/$BUILD/cnai
work=$root/$BUILD/gpu-check
fails=0
t_start=$(date +%s.%N)
since() { echo "$(date +%s.%N) - $1" | bc -l | xargs printf '%.1f'; }
step() { printf '\n== %s\n' "$*"; }

step "machine"
if command -v nvidia-smi >/dev/null; then
	nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,multiprocessor_count \
		--format=csv 2>/dev/null ||
		nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
else
	echo "no nvidia-smi"
fi
ls /dev/nvidia* 2>/dev/null | paste -sd' '
[ -r /proc/driver/nvidia/version ] && head -1 /proc/driver/nvidia/version
NVCC=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
"$NVCC" --version 2>/dev/null | tail -2 || echo "no nvcc"
echo "CPU: $(nproc) threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-)"

step "build"
mkdir -p "$BUILD"
t=$(date +%s.%N)
if make -j"$(nproc)" BUILD="$BUILD" "$BUILD/cnai" "$BUILD/libcnai-cuda.so" \
	"$BUILD/tests/gpu/ops" >"$BUILD/gpu-check-build.log" 2>&1; then
	echo "built in $(since "$t") s"
else
	tail -30 "$BUILD/gpu-check-build.log"
	echo "not ok - the build failed (log: $BUILD/gpu-check-build.log)"
	exit 1
fi
echo "plug-in GPU code: $(tests/gpu/fatbin-archs.sh "$BUILD/libcnai-cuda.so")"
export CNAI_CUDA_PLUGIN=$root/$BUILD/libcnai-cuda.so

step "make test-gpu (tests/gpu/run.sh)"
t=$(date +%s.%N)
CNAI_BUILD=$BUILD tests/gpu/run.sh || fails=$((fails + 1))
echo "checks took $(since "$t") s"

# bench <label> <store> <device> <args...>: one training run, its figures.
bench() {
	local label=$1 store=$2 dev=$3 out
	shift 3
	out=$work/$label-$dev
	rm -rf "$out"
	if ! "$cnai" --store "$store" -q train --device "$dev" -o "$out" \
		--json "$@" >"$out.json" 2>"$out.err"; then
		echo "  $label on $dev: FAILED: $(cat "$out.err")"
		fails=$((fails + 1))
		return
	fi
	"$cnai" --store "$store" track metrics "$(jq -r .run "$out.json")" \
		--json >"$out.metrics"
	printf '  %-8s %-5s %7.2f s  %9.0f rows/s per epoch  last train_loss %.5f  val_accuracy %s  (%s)\n' \
		"$label" "$dev" "$(jq .seconds "$out.json")" \
		"$(jq '[.[] | select(.key == "samples_per_second") | .value] | add / length' "$out.metrics")" \
		"$(jq .metrics.train_loss "$out.json")" \
		"$(jq -r '.metrics.val_accuracy // "-"' "$out.json")" \
		"$(jq -r .device "$out.json")"
}

step "benchmark: digits (1797 x 64), MLP 512-256 relu, Adam, batch 64, 30 epochs"
mkdir -p "$work"
rm -rf "$work/store" && mkdir "$work/store" && (cd "$work/store" && "$cnai" init >/dev/null)
for dev in cpu cuda; do
	bench digits "$work/store" $dev --data examples/data/digits.csv \
		--target target --hidden 512,256 --epochs 30 --batch-size 64 \
		--lr 0.001 --seed 1
done

fm=/usr/share/datasets/fashion-mnist
step "benchmark: Fashion-MNIST (60000 x 784), MLP 784-256-10 relu, Adam, batch 256, $EPOCHS epochs"
if [ -e "$fm/train-images-idx3-ubyte.gz" ] && command -v python3 >/dev/null; then
	if [ ! -s "$work/fmnist-test.csv" ]; then
		t=$(date +%s.%N)
		python3 - "$fm" "$work" <<'PY'
import gzip, sys
src, out = sys.argv[1], sys.argv[2]
for part, img, lab in (("train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                       ("test", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")):
    with gzip.open(src + "/" + img) as f:
        x = f.read()[16:]
    with gzip.open(src + "/" + lab) as f:
        y = f.read()[8:]
    with open("%s/fmnist-%s.csv" % (out, part), "w") as f:
        f.write(",".join(["p%d" % i for i in range(784)] + ["label"]) + "\n")
        for r in range(len(y)):
            f.write(",".join(map(str, x[r * 784:(r + 1) * 784])) + ",%d\n" % y[r])
PY
		echo "  CSV written in $(since "$t") s"
	fi
	for dev in cpu cuda; do
		bench fmnist "$work/store" $dev --data "$work/fmnist-train.csv" \
			--target label --hidden 256 --optimizer adam --lr 0.001 \
			--batch-size 256 --epochs "$EPOCHS" --valid-split 0 --seed 1
		[ -e "$work/fmnist-$dev/cnai-model.json" ] &&
			echo "           test accuracy $("$cnai" --store "$work/store" -q eval "$work/fmnist-$dev" --device "$dev" --data "$work/fmnist-test.csv" --json | jq .accuracy)"
	done
else
	echo "  skipped: no $fm (Debian package dataset-fashion-mnist) or no python3"
fi

step "summary"
echo "gpu-check: $fails failed part(s), $(since "$t_start") s in all"
[ "$fails" -eq 0 ]
