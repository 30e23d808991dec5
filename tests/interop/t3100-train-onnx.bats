#!/usr/bin/env bats
# model.onnx against the independent tools: onnx.checker.check_model with
# full_check (python3-onnx), and onnxruntime (npm onnxruntime-node) giving
# the same labels and probabilities as cnai predict, max abs difference
# <= 1e-5, for every activation, head, and for string and empty cells.
load ../cli/lib

ORT_DIR=$CNAI_ROOT/build/npm

setup() {
	setup_common
	cnai init >/dev/null
	export ORT_DIR
}

need_onnx() {
	/usr/bin/python3 -c 'import onnx' 2>/dev/null || skip "python3-onnx is not installed"
}

need_ort() {
	[ -d "$ORT_DIR/node_modules/onnxruntime-node" ] || skip "onnxruntime-node is not installed (scripts/install-deps.sh)"
}

check_model() {
	/usr/bin/python3 - "$1/model.onnx" <<'PY'
import sys, onnx
m = onnx.load(sys.argv[1])
onnx.checker.check_model(m, full_check=True)
ops = {o.domain or "ai.onnx": o.version for o in m.opset_import}
assert ops["ai.onnx"] >= 13, ops
print("ok", len(m.graph.node), "nodes")
PY
}

# cnai predict --proba and onnxruntime on $2: same labels, probabilities
# (or values) within $3 (default 1e-5).
same_as_ort() {
	local dir=$1 data=$2 tol=${3:-1e-5}
	cnai -q predict "$dir" --data "$data" --proba | tail -n +2 >cnai.out
	node "$CNAI_ROOT/tests/interop/ort_predict.js" "$dir" "$data" >ort.out
	[ "$(wc -l <cnai.out)" -eq "$(wc -l <ort.out)" ]
	paste -d'|' cnai.out ort.out | awk -F'|' -v tol="$tol" -v reg="$4" '
		{ n = split($1, a, ","); m = split($2, b, ",");
		  if (n != m) { print "row " NR ": widths " n " " m; bad = 1; exit }
		  start = 1
		  if (reg == "") { if (a[1] != b[1]) { print "row " NR ": label " a[1] " vs " b[1]; bad = 1 }; start = 2 }
		  for (i = start; i <= n; i++) { d = a[i] - b[i]; if (d < 0) d = -d; if (d > max) max = d } }
		END { print "max abs diff " max; if (bad || max > tol) exit 1 }'
}

@test "a relu MLP classifier passes onnx.checker and matches onnxruntime" {
	need_onnx
	cnai -q train --data "$DATA/digits.csv" --target target -o m --hidden 32,16 --epochs 3 >/dev/null
	run check_model m
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	need_ort
	run same_as_ort m "$DATA/digits.csv"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "logistic regression (sigmoid head) matches onnxruntime" {
	need_onnx
	cnai -q train --data "$DATA/breast_cancer.csv" --target target -o m --epochs 5 >/dev/null
	run check_model m
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	need_ort
	run same_as_ort m "$DATA/breast_cancer.csv"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "tanh and gelu MLPs, softmax regression and linear regression match" {
	need_onnx
	need_ort
	cnai -q train --data "$DATA/wine.csv" --target target -o tanh --hidden 16 --activation tanh --epochs 5 >/dev/null
	cnai -q train --data "$DATA/wine.csv" --target target -o gelu --hidden 16,8 --activation gelu --epochs 5 >/dev/null
	cnai -q train --data "$DATA/iris.csv" --target target -o soft --model softmax --epochs 5 >/dev/null
	for d in tanh gelu soft; do
		run check_model $d
		[ "$status" -eq 0 ] || { echo "$d: $output"; false; }
	done
	run same_as_ort tanh "$DATA/wine.csv"
	[ "$status" -eq 0 ] || { echo "tanh: $output"; false; }
	run same_as_ort gelu "$DATA/wine.csv"
	[ "$status" -eq 0 ] || { echo "gelu: $output"; false; }
	run same_as_ort soft "$DATA/iris.csv"
	[ "$status" -eq 0 ] || { echo "softmax: $output"; false; }
}

@test "regression models give the same values in onnxruntime" {
	need_onnx
	need_ort
	cnai -q train --data "$DATA/concrete.csv" --target compressive_strength -o r --hidden 16 --activation gelu --epochs 5 >/dev/null
	run check_model r
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# values in MPa: 1e-5 relative to their size (~30) is 3e-4 absolute
	run same_as_ort r "$DATA/concrete.csv" 3e-4 reg
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "string columns, unknown categories and empty cells match onnxruntime" {
	need_onnx
	{
		echo "size,colour,weight,label"
		for i in $(seq 1 90); do
			case $((i % 3)) in 0) c=red ;; 1) c=blue ;; *) c=green ;; esac
			w=$([ $((i % 10)) -eq 0 ] && echo "" || echo $((i % 7)).5)
			echo "$i,$c,$w,$(( (i * 7) % 3 ))"
		done
	} >cat.csv
	cnai -q train --data cat.csv --target label -o m --hidden 8 --epochs 10 --lr 0.05 >/dev/null
	run check_model m
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	need_ort
	printf 'size,colour,weight\n3,red,1.5\n4,purple,\n5,,2\n6,blue,\n' >new.csv
	run same_as_ort m new.csv
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run same_as_ort m cat.csv
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}
