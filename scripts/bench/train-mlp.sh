#!/usr/bin/env bash
# train-mlp: cnai train against scikit-learn's MLPClassifier, same run, same
# data, same settings: MLP 64 -> 128 -> 10 (relu, Adam, lr 0.001, batch
# 256, 10 epochs, no weight decay) on a 200,000 x 64 synthetic
# classification set (make_classification, seed 0; 20,000 more rows for
# the test split). Goal: >= 5x faster, test accuracy within 1 point.
# Also the training GFLOP/s (6 flops per weight per row per epoch: one
# product forward, two backward) against OpenBLAS's sgemm rate for the
# same shapes, measured in the same run.
#
#   scripts/bench/train-mlp.sh
#   ROWS=50000 EPOCHS=5 scripts/bench/train-mlp.sh
#
# Environment: ROWS (200000), EPOCHS (10), CNAI (build/cnai), WORK (where
# data and stores go: build/bench).
set -euo pipefail

ROWS=${ROWS:-200000}
EPOCHS=${EPOCHS:-10}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cnai=${CNAI:-$root/build/cnai}
work=${WORK:-$root/build/bench}
py=/usr/bin/python3
[ -x "$cnai" ] || make -C "$root" >/dev/null
mkdir -p "$work"
cd "$work"

data=synth-$ROWS
if [ ! -s "$data-train.csv" ]; then
	"$py" - "$ROWS" "$data" <<'PY'
import sys
import numpy as np
from sklearn.datasets import make_classification
n, name = int(sys.argv[1]), sys.argv[2]
X, y = make_classification(n_samples=n + 20000, n_features=64,
                           n_informative=32, n_classes=10,
                           n_clusters_per_class=1, random_state=0)
head = ",".join(["f%d" % i for i in range(64)] + ["label"])
for part, sl in (("train", slice(0, n)), ("test", slice(n, None))):
    with open("%s-%s.csv" % (name, part), "w") as f:
        f.write(head + "\n")
        for r, t in zip(X[sl].astype(np.float32), y[sl]):
            f.write(",".join("%.6g" % v for v in r) + ",%d\n" % t)
PY
fi
cat "$data-train.csv" "$data-test.csv" >/dev/null # warm the page cache

rm -rf store && mkdir store && (cd store && "$cnai" init >/dev/null)
t0=$(date +%s.%N)
"$cnai" --store store -q train --data "$data-train.csv" --target label \
	--hidden 128 --activation relu --optimizer adam --lr 0.001 \
	--batch-size 256 --epochs "$EPOCHS" --valid-split 0 --device cpu \
	-o model --json >cnai.json
t1=$(date +%s.%N)
acc=$("$cnai" -q eval model --data "$data-test.csv" --json | jq .accuracy)
train_s=$(jq .seconds cnai.json)
read_s=$(jq .read_seconds cnai.json)
total_s=$(echo "$t1 - $t0" | bc -l)

"$py" - "$data" "$EPOCHS" >sk.txt <<'PY'
import sys, time, warnings
import numpy as np
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
warnings.filterwarnings("ignore")
name, epochs = sys.argv[1], int(sys.argv[2])
t0 = time.time()
tr = np.loadtxt(name + "-train.csv", delimiter=",", skiprows=1, dtype=np.float32)
te = np.loadtxt(name + "-test.csv", delimiter=",", skiprows=1, dtype=np.float32)
t1 = time.time()
sc = StandardScaler().fit(tr[:, :-1])
m = MLPClassifier(hidden_layer_sizes=(128,), activation="relu", solver="adam",
                  alpha=0.0, batch_size=256, learning_rate_init=0.001,
                  max_iter=epochs, shuffle=True, random_state=0, tol=0.0,
                  n_iter_no_change=epochs + 1)
t2 = time.time()
m.fit(sc.transform(tr[:, :-1]), tr[:, -1].astype(int))
t3 = time.time()
acc = m.score(sc.transform(te[:, :-1]), te[:, -1].astype(int))
print("%.3f %.3f %.4f" % (t3 - t2, t1 - t0, acc))
PY
read -r sk_fit sk_read sk_acc <sk.txt

# OpenBLAS sgemm for the three products of a 256-row batch through a
# 64 -> 128 layer and a 128 -> 10 layer, as the training loop calls them.
cat >sgemm.c <<'C'
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
typedef void (*f)(int, int, int, int, int, int, float, const float *, int,
		  const float *, int, float, float *, int);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
int main(int argc, char **argv)
{
	void *h = dlopen("libopenblas.so.0", RTLD_NOW);
	f g = (f)dlsym(h, "cblas_sgemm");
	void (*th)(int) = (void (*)(int))dlsym(h, "openblas_set_num_threads");
	int B = 256, n = argc > 1 ? atoi(argv[1]) : 128, in = 64, out = 10, it, r;
	float *x = calloc((size_t)B * 4096, 4), *w = calloc((size_t)4096 * 4096, 4), *y = calloc((size_t)B * 4096, 4);
	double t0, flops = 0;
	if (argc > 2) th(atoi(argv[2]));
	for (r = 0; r < 2; r++) {
		t0 = now(); flops = 0;
		for (it = 0; it < 2000; it++) {
			g(101, 111, 111, B, n, in, 1, x, in, w, n, 0, y, n); /* forward */
			g(101, 112, 111, in, n, B, 1, x, in, y, n, 0, w, n); /* dW */
			g(101, 111, 111, B, out, n, 1, y, n, w, out, 0, x, out);
			g(101, 112, 111, n, out, B, 1, y, n, x, out, 0, w, out);
			g(101, 111, 112, B, n, out, 1, x, out, w, out, 0, y, n); /* dX */
			flops += 2.0 * B * (3.0 * n * in + 3.0 * n * out) - 2.0 * B * n * in;
		}
	}
	printf("%.1f\n", flops / (now() - t0) / 1e9);
	return 0;
}
C
cc -O2 -o sgemm sgemm.c -ldl
blas_gflops=$(./sgemm 128)
# training flops: 6 per weight per row per epoch, less the gradient of the
# input layer's input, which is never computed
w1=$((64 * 128)); w2=$((128 * 10))
flops=$(echo "$ROWS * $EPOCHS * (6 * $w2 + 4 * $w1)" | bc)
ours_gflops=$(echo "$flops / $train_s / 1000000000" | bc -l)

# the same with a 4096-wide hidden layer (1 epoch on the first 20,000 rows)
head -n 20001 "$data-train.csv" >wide.csv
"$cnai" --store store -q train --data wide.csv --target label --hidden 4096 \
	--batch-size 256 --epochs 1 --valid-split 0 --device cpu -o wide \
	--json >wide.json
wide_s=$(jq .seconds wide.json)
w1=$((64 * 4096)); w2=$((4096 * 10))
wide_gflops=$(echo "20000 * (6 * $w2 + 4 * $w1) / $wide_s / 1000000000" | bc -l)
blas_wide=$(./sgemm 4096)

printf 'train-mlp: %d x 64 rows, MLP 64-128-10 relu, Adam, batch 256, %d epochs (load average %s)\n' \
	"$ROWS" "$EPOCHS" "$(cut -d' ' -f1 /proc/loadavg)"
printf '  scikit-learn  fit %8.2f s  test accuracy %.4f  (np.loadtxt %.2f s)\n' "$sk_fit" "$sk_acc" "$sk_read"
printf '  cnai          fit %8.2f s  test accuracy %.4f  (CSV read %.2f s, whole command %.2f s)\n' "$train_s" "$acc" "$read_s" "$total_s"
printf '  speed-up %.1fx (goal 5x), accuracy difference %+.2f points (goal >= -1)\n' \
	"$(echo "$sk_fit / $train_s" | bc -l)" "$(echo "($acc - $sk_acc) * 100" | bc -l)"
printf '  training %.1f GFLOP/s; OpenBLAS sgemm on the same products %.1f GFLOP/s (%.0f%%)\n' \
	"$ours_gflops" "$blas_gflops" "$(echo "100 * $ours_gflops / $blas_gflops" | bc -l)"
printf '  4096-wide hidden layer: training %.1f GFLOP/s; sgemm on its products %.1f GFLOP/s (%.0f%%, goal 50%%)\n' \
	"$wide_gflops" "$blas_wide" "$(echo "100 * $wide_gflops / $blas_wide" | bc -l)"
printf '  CSV read: %.0f MB/s (%s bytes)\n' "$(echo "$(stat -c %s "$data-train.csv") / $read_s / 1000000" | bc -l)" "$(stat -c %s "$data-train.csv")"
