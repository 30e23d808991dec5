#!/usr/bin/env bats
# cnai train is reproducible: the same data, options and seed give the same
# model folder, byte for byte, and so the same model version digest.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	IRIS=$DATA/iris.csv
}

@test "two trainings with the same data and seed write identical cnai-model.json" {
	cnai train --data "$IRIS" --target target -o a --epochs 3 --seed 5 >/dev/null
	cnai train --data "$IRIS" --target target -o b --epochs 3 --seed 5 >/dev/null
	cmp a/cnai-model.json b/cnai-model.json
	assert_equal "$(jq -r '.datasets[0].digest' a/cnai-model.json)" "sha256:$(sha256sum "$IRIS" | cut -d' ' -f1)"
	assert_equal "$(jq -r '.datasets[0].rows' a/cnai-model.json)" 150
}

@test "two registered trainings with the same data and seed share one version digest" {
	run --separate-stderr cnai train --data "$IRIS" --target target --epochs 3 --seed 5 --register iris --json
	[ "$status" -eq 0 ]
	first=$(echo "$output" | jq -r .registered.digest)
	run --separate-stderr cnai train --data "$IRIS" --target target --epochs 3 --seed 5 --register iris --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r .registered.digest)" "$first"
	assert_equal "$(echo "$output" | jq -r .registered.version)" 1
	# the second run produced the same version, and the lineage says so
	second=$(echo "$output" | jq -r .run)
	run cnai lineage "$second" --down --format json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '[.nodes[] | select(.kind == "model_version") | .name]')" '["iris@1"]'
	run cnai lineage iris@1 --up --format json
	assert_equal "$(echo "$output" | jq '[.nodes[] | select(.kind == "run")] | length')" 2
}

@test "the run is in the store, not in cnai-model.json" {
	run --separate-stderr cnai train --data "$IRIS" --target target --epochs 2 -o m --register iris --json
	[ "$status" -eq 0 ]
	assert_equal "$(cnai model show iris --json | jq -r .run_id)" "$(echo "$output" | jq -r .run)"
	assert_equal "$(jq 'has("run")' m/cnai-model.json)" false
}
