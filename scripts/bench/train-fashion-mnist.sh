#!/usr/bin/env bash
# train-fashion-mnist: Fashion-MNIST's 60,000 x 784 training split (Debian
# package dataset-fashion-mnist, IDX files, converted to CSV once), MLP
# 784 -> 256 -> 10 (relu, Adam, lr 0.001, batch 256, 10 epochs): cnai
# against scikit-learn's MLPClassifier in the same run, fit time and
# accuracy on the 10,000-row test split. Pixels are fed raw (0..255); both
# sides standardise them with the training split's statistics.
#
#   scripts/bench/train-fashion-mnist.sh
#   EPOCHS=3 scripts/bench/train-fashion-mnist.sh
set -euo pipefail

EPOCHS=${EPOCHS:-10}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cnai=${CNAI:-$root/build/cnai}
work=${WORK:-$root/build/bench}
src=/usr/share/datasets/fashion-mnist
py=/usr/bin/python3
[ -x "$cnai" ] || make -C "$root" >/dev/null
if [ ! -e "$src/train-images-idx3-ubyte.gz" ]; then
	"$root/scripts/install-deps.sh" bench
fi
mkdir -p "$work"
cd "$work"
if [ ! -s fmnist-train.csv ]; then
	"$py" - "$src" <<'PY'
import gzip, sys
import numpy as np
src = sys.argv[1]
def images(p):
    with gzip.open(p) as f:
        return np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
def labels(p):
    with gzip.open(p) as f:
        return np.frombuffer(f.read(), np.uint8, offset=8)
for part, img, lab in (("train", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
                       ("test", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")):
    X, y = images(src + "/" + img), labels(src + "/" + lab)
    with open("fmnist-%s.csv" % part, "w") as f:
        f.write(",".join(["p%d" % i for i in range(784)] + ["label"]) + "\n")
        for r, t in zip(X, y):
            f.write(",".join(map(str, r)) + ",%d\n" % t)
PY
fi
cat fmnist-train.csv fmnist-test.csv >/dev/null # warm the page cache

rm -rf fstore && mkdir fstore && (cd fstore && "$cnai" init >/dev/null)
/usr/bin/time -f '%M' -o cnai.rss "$cnai" --store fstore -q train \
	--data fmnist-train.csv --target label --hidden 256 --optimizer adam \
	--lr 0.001 --batch-size 256 --epochs "$EPOCHS" --valid-split 0 \
	--device cpu -o fmodel --json >fcnai.json
acc=$("$cnai" -q eval fmodel --data fmnist-test.csv --json | jq .accuracy)

"$py" - "$EPOCHS" >fsk.txt <<'PY'
import sys, time, warnings
import numpy as np
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler
warnings.filterwarnings("ignore")
epochs = int(sys.argv[1])
tr = np.loadtxt("fmnist-train.csv", delimiter=",", skiprows=1, dtype=np.float32)
te = np.loadtxt("fmnist-test.csv", delimiter=",", skiprows=1, dtype=np.float32)
sc = StandardScaler().fit(tr[:, :-1])
m = MLPClassifier(hidden_layer_sizes=(256,), activation="relu", solver="adam",
                  alpha=0.0, batch_size=256, learning_rate_init=0.001,
                  max_iter=epochs, shuffle=True, random_state=0, tol=0.0,
                  n_iter_no_change=epochs + 1)
t0 = time.time()
m.fit(sc.transform(tr[:, :-1]), tr[:, -1].astype(int))
t1 = time.time()
print("%.3f %.4f" % (t1 - t0, m.score(sc.transform(te[:, :-1]), te[:, -1].astype(int))))
PY
read -r sk_fit sk_acc <fsk.txt
fit=$(jq .seconds fcnai.json)
printf 'train-fashion-mnist: 60000 x 784, MLP 784-256-10 relu, Adam, batch 256, %d epochs (load average %s)\n' \
	"$EPOCHS" "$(cut -d' ' -f1 /proc/loadavg)"
printf '  scikit-learn  fit %8.2f s  test accuracy %.4f\n' "$sk_fit" "$sk_acc"
printf '  cnai          fit %8.2f s  test accuracy %.4f  (%.2f s per epoch, CSV read %.2f s, peak RSS %d MB)\n' \
	"$fit" "$acc" "$(echo "$fit / $EPOCHS" | bc -l)" "$(jq .read_seconds fcnai.json)" "$(($(cat cnai.rss) / 1024))"
printf '  speed-up %.1fx, accuracy difference %+.2f points\n' \
	"$(echo "$sk_fit / $fit" | bc -l)" "$(echo "($acc - $sk_acc) * 100" | bc -l)"
