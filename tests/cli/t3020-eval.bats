#!/usr/bin/env bats
# cnai eval: accuracy, per-class scores and the confusion matrix for a
# classifier, RMSE, MAE and R2 for a regression; the target column is
# required and named when missing.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	IRIS=$DATA/iris.csv
	DIABETES=$DATA/diabetes.csv
}

@test "eval reports accuracy, per-class scores and the confusion matrix" {
	cnai train --data "$IRIS" --target target -o m --epochs 30 --lr 0.05 >/dev/null
	run --separate-stderr cnai eval m --data "$IRIS"
	[ "$status" -eq 0 ]
	assert_contains "$output" "accuracy  0."
	assert_contains "$output" "class  precision  recall"
	assert_contains "$output" "confusion matrix (rows: true class, columns: predicted)"
	run cnai eval m --data "$IRIS" --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r '.task, .rows, (.classes | length), (.confusion | length), ([.confusion[][]] | add)')" "$(printf 'classification\n150\n3\n3\n150')"
	acc=$(echo "$output" | jq .accuracy)
	[ "$(echo "$acc > 0.85" | bc)" -eq 1 ]
}

@test "regression: train on diabetes, eval prints RMSE, MAE and R2" {
	run --separate-stderr cnai train --data "$DIABETES" --target target --model linear -o r --epochs 40 --lr 0.01
	[ "$status" -eq 0 ]
	assert_contains "$output" "linear regression"
	assert_contains "$output" "val_r2"
	run cnai eval r --data "$DIABETES" --json
	[ "$status" -eq 0 ]
	r2=$(echo "$output" | jq .r2)
	[ "$(echo "$r2 > 0.4" | bc)" -eq 1 ]
	run cnai predict r --data "$DIABETES"
	[ "${#lines[@]}" -eq 443 ]
}

@test "eval needs the target column: named when missing, exit 2" {
	cnai train --data "$IRIS" --target target -o m --epochs 3 >/dev/null
	cut -d, -f1-4 "$IRIS" >notarget.csv
	run --separate-stderr cnai eval m --data notarget.csv
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: notarget.csv: no column 'target' (--target)"
	[ -z "$output" ]
}
