#!/usr/bin/env bats
# cnai train against scikit-learn (python3-sklearn) on the same split, with
# the same architecture, optimiser, learning rate, epochs and batch size:
# cnai's test accuracy (R^2 for regression) is at most 1 point below.
load ../cli/lib

setup() {
	setup_common
	cnai init >/dev/null
	/usr/bin/python3 -c 'import sklearn' 2>/dev/null || skip "python3-sklearn is not installed"
}

# Splits $1 into train.csv and test.csv (25%, random_state 0), keeping
# each row's text as it is.
split() {
	/usr/bin/python3 - "$1" <<'PY'
import sys
from sklearn.model_selection import train_test_split
lines = open(sys.argv[1]).read().splitlines()
tr, te = train_test_split(lines[1:], test_size=0.25, random_state=0)
for name, rows in (("train.csv", tr), ("test.csv", te)):
    with open(name, "w") as f:
        f.write("\n".join([lines[0]] + rows) + "\n")
PY
}

# scikit-learn's score on test.csv: $1 target, $2 classifier|regressor,
# $3 hidden sizes ("" for none), $4 epochs, $5 learning rate, $6 batch.
sklearn_score() {
	/usr/bin/python3 - "$@" <<'PY'
import sys, warnings
import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.compose import TransformedTargetRegressor
warnings.filterwarnings("ignore")
target, kind, hidden, epochs, lr, batch = sys.argv[1:7]
def load(p):
    import csv
    rows = list(csv.reader(open(p)))
    h = rows[0]; t = h.index(target)
    X = np.array([[float(v) for i, v in enumerate(r) if i != t] for r in rows[1:]])
    y = np.array([r[t] for r in rows[1:]])
    return X, y
Xtr, ytr = load("train.csv"); Xte, yte = load("test.csv")
hs = tuple(int(v) for v in hidden.split(",")) if hidden else ()
args = dict(hidden_layer_sizes=hs, activation="relu", solver="adam",
            alpha=0.0, batch_size=int(batch), learning_rate_init=float(lr),
            max_iter=int(epochs), shuffle=True, random_state=0, tol=0.0,
            n_iter_no_change=int(epochs) + 1)
if kind == "classifier":
    m = make_pipeline(StandardScaler(), MLPClassifier(**args))
    m.fit(Xtr, ytr)
else:
    m = TransformedTargetRegressor(
        regressor=make_pipeline(StandardScaler(), MLPRegressor(**args)),
        transformer=StandardScaler())
    ytr = ytr.astype(float); yte = yte.astype(float)
    m.fit(Xtr, ytr)
print("%.6f" % m.score(Xte, yte))
PY
}

# $1 the cnai score, $2 scikit-learn's: cnai is at most 1 point below.
within_one_point() {
	echo "cnai $1, scikit-learn $2"
	[ "$(echo "$1 >= $2 - 0.01" | bc -l)" -eq 1 ]
}

@test "digits: MLP 64 relu, adam: accuracy within 1 point of scikit-learn" {
	split "$DATA/digits.csv"
	cnai -q train --data train.csv --target target --valid-split 0 --hidden 64 --epochs 30 --lr 0.001 --batch-size 32 -o m >/dev/null
	ours=$(cnai eval m --data test.csv --json | jq .accuracy)
	theirs=$(sklearn_score target classifier 64 30 0.001 32)
	run within_one_point "$ours" "$theirs"
	echo "$output" >&3
	[ "$status" -eq 0 ]
}

@test "breast cancer: MLP 32 relu: accuracy within 1 point of scikit-learn" {
	split "$DATA/breast_cancer.csv"
	cnai -q train --data train.csv --target target --valid-split 0 --hidden 32 --epochs 60 --lr 0.001 --batch-size 32 -o m >/dev/null
	ours=$(cnai eval m --data test.csv --json | jq .accuracy)
	theirs=$(sklearn_score target classifier 32 60 0.001 32)
	run within_one_point "$ours" "$theirs"
	echo "$output" >&3
	[ "$status" -eq 0 ]
}

@test "concrete regression: MLP 64 relu: R2 within 1 point of scikit-learn" {
	split "$DATA/concrete.csv"
	cnai -q train --data train.csv --target compressive_strength --valid-split 0 --hidden 64 --epochs 200 --lr 0.003 --batch-size 32 -o m >/dev/null
	ours=$(cnai eval m --data test.csv --json | jq .r2)
	theirs=$(sklearn_score compressive_strength regressor 64 200 0.003 32)
	run within_one_point "$ours" "$theirs"
	echo "$output" >&3
	[ "$status" -eq 0 ]
}
