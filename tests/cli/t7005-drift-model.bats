#!/usr/bin/env bats
# cnai drift --model: prediction drift, the model's predictions on both
# files tested as a column of their own.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	DATA="$CNAI_ROOT/examples/data/iris.csv"
	cnai -q train --data "$DATA" --target target --model mlp --hidden 16 \
		--epochs 60 --lr 0.01 --seed 7 --register iris -o model >/dev/null
	awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } { $3 = $3 * 1.8; $4 = $4 * 1.8; print }' \
		"$DATA" >shifted.csv
}

@test "--model adds a categorical prediction column that drifts with the inputs" {
	run cnai drift "$DATA" shifted.csv --model iris --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '.columns[] | select(.name == "prediction") | [.type, .drifted]')" \
		'["categorical",true]'
	assert_equal "$(echo "$output" | jq -r '.columns | length')" 6
}

@test "identical files give an undrifted prediction column" {
	run cnai drift "$DATA" "$DATA" --model iris --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '.columns[] | select(.name == "prediction") | .drifted')" false
}

@test "a model folder works too, and the report is linked to a registered model" {
	run cnai drift "$DATA" shifted.csv --model model --json
	[ "$status" -eq 0 ]
	cnai drift "$DATA" shifted.csv --model iris@1 >/dev/null
	run cnai lineage iris@1 --down --format json
	assert_equal "$(echo "$output" | jq -r '[.edges[].relation] | map(select(. == "predictions")) | length')" 1
}

@test "--model with a data set on stdin is refused, nothing recorded" {
	before=$(store_state)
	run --separate-stderr cnai drift - shifted.csv --model iris <"$DATA"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --model needs both data sets as files (the model reads them again)"
	assert_equal "$(store_state)" "$before"
}

@test "an unknown model is an error, nothing recorded" {
	before=$(store_state)
	run --separate-stderr cnai drift "$DATA" shifted.csv --model nosuch
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "cnai: error: "
	assert_contains "$stderr" "nosuch"
	assert_equal "$(store_state)" "$before"
}
