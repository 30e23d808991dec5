#!/usr/bin/env bats
# cnai predict: one prediction per input row, in order, as CSV or JSON,
# labels or probabilities; the feature columns found by name; bad input is
# exit 2 with the file, line and column named and no output file written.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	IRIS=$DATA/iris.csv
}

@test "predict writes one prediction per row in the input's order" {
	cnai train --data "$IRIS" --target target -o m --epochs 30 --lr 0.05 >/dev/null
	run --separate-stderr cnai predict m --data "$IRIS"
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" target
	[ "${#lines[@]}" -eq 151 ]
	# most rows right, in order
	right=$(paste -d, <(tail -n +2 "$IRIS" | cut -d, -f5) <(printf '%s\n' "${lines[@]:1}") | awk -F, '$1==$2' | wc -l)
	[ "$right" -ge 130 ]
	run cnai predict m --data "$IRIS" --proba -o p.csv
	[ "$status" -eq 0 ]
	assert_equal "$(head -n 1 p.csv)" "target,p_0,p_1,p_2"
	awk -F, 'NR > 1 { s = $2 + $3 + $4; if (s < 0.9999 || s > 1.0001) exit 1 }' p.csv
}

@test "predict and eval need only the feature columns, in any order" {
	cnai train --data "$IRIS" --target target -o m --epochs 3 >/dev/null
	awk -F, -v OFS=, '{ print $4, $3, $2, $1, "extra" }' "$IRIS" >shuffled.csv
	run --separate-stderr cnai predict m --data shuffled.csv
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 151 ]
	cut -d, -f1,2 "$IRIS" >missing.csv
	run --separate-stderr cnai predict m --data missing.csv
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: missing.csv: no column 'petal_length_cm' (a feature of the model)"
}

@test "predict --json gives labels, or probabilities per class with --proba" {
	cnai train --data "$IRIS" --target target -o m --epochs 3 >/dev/null
	run --separate-stderr cnai predict m --data "$IRIS" --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq '.rows, (.predictions | length)')" "$(printf '150\n150')"
	run --separate-stderr cnai predict m --data "$IRIS" --json --proba
	echo "$output" | jq -e '.predictions[0].probabilities | keys == ["0","1","2"]' >/dev/null
	# stdin works too
	run --separate-stderr cnai predict m --data - <"$IRIS"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 151 ]
}

@test "predict and eval: a folder that is not a model, a missing reference" {
	mkdir notamodel
	run --separate-stderr cnai predict notamodel --data "$IRIS"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'notamodel' is not a model folder (no cnai-model.json)"
	run --separate-stderr cnai eval nosuchmodel --data "$IRIS"
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "nosuchmodel"
}

@test "predict: a missing --data, an unreadable file, a cell that is not a number: exit 2, no output file" {
	cnai train --data "$IRIS" --target target -o m --epochs 3 >/dev/null
	run --separate-stderr cnai predict m -o p.csv
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --data is required"
	run --separate-stderr cnai predict m --data nosuch.csv -o p.csv
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: cannot read 'nosuch.csv': No such file or directory"
	printf 'sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm\n1,2,abc,4\n' >bad.csv
	run --separate-stderr cnai predict m --data bad.csv -o p.csv
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: bad.csv:2: column 'petal_length_cm': 'abc' is not a number"
	[ ! -e p.csv ]
}
