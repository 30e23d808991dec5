#!/usr/bin/env bats
# Model versions in the lineage graph: run -> model version edges from
# --run and $CNAI_RUN_ID, lineage by model reference, and model show's
# run, alias history and lineage summary.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	printf 'x,y\n1,2\n' >data.csv
	printf 'weights\n' >model.bin
}

# A run "train" with data.csv as input, lr=0.1 and acc=0.93, that registers
# model.bin as digits through $CNAI_RUN_ID; prod points at it.
train_and_register() {
	cnai -q track run --name train --input data.csv -p lr=0.1 -- \
		sh -c '"$0" track log --metric acc=0.93 && "$0" model register digits model.bin >/dev/null' \
		"$CNAI_BIN"
	cnai model alias set digits prod 1 >/dev/null
	RUN=$(run_id train)
	DIGEST=$(cnai model show digits@prod --json | jq -r .digest)
	DATA="sha256:$(sha256sum data.csv | cut -d' ' -f1)"
}

@test "lineage NAME@ALIAS shows the model version, the run that produced it and its input" {
	train_and_register
	run cnai lineage digits@prod
	[ "$status" -eq 0 ]
	cat >expect <<EOF
model_version ${DIGEST:0:19} digits@1
  from:
    <- run ${RUN:0:12} train  (produced)
        <- dataset ${DATA:0:19} data.csv  (input)
EOF
	echo "$output" >actual
	diff -u expect actual
}

@test "lineage from the run and from the dataset lead down to the model version" {
	train_and_register
	run cnai lineage train --down
	[ "$status" -eq 0 ]
	cat >expect <<EOF
run ${RUN:0:12} train
  to:
    -> model_version ${DIGEST:0:19} digits@1  (produced)
EOF
	# the run's captured output is logged as artifacts too (both empty
	# here: one artifact entity, named by digest)
	echo "$output" | grep -v ' -> artifact ' >actual
	diff -u expect actual
	assert_contains "$output" "(logged)"
	run cnai lineage data.csv --down --format json
	assert_equal "$(echo "$output" | jq -c '[.nodes[] | select(.kind != "artifact") | [.kind, .name, .depth]]')" \
		'[["dataset","data.csv",0],["run","train",1],["model_version","digits@1",2]]'
}

@test "lineage --format dot of a model version renders with dot -Tsvg" {
	command -v dot >/dev/null || skip "graphviz is not installed"
	train_and_register
	cnai lineage digits@prod --format dot >graph.dot
	assert_contains "$(cat graph.dot)" "[label=\"produced\"]"
	run dot -Tsvg graph.dot -o graph.svg
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	assert_contains "$(cat graph.svg)" "<svg"
	assert_contains "$(cat graph.svg)" "digits@1"
}

@test "register --run links the run to the version" {
	run_id=$(cnai track start --name explicit)
	cnai model register digits model.bin --run explicit >/dev/null
	assert_equal "$(cnai model show digits --json | jq -r .run_id)" "$run_id"
	run cnai lineage digits --format json
	assert_equal "$(echo "$output" | jq -c '[.edges[].relation, (.nodes[] | select(.kind == "run") | .ref)]')" \
		"[\"produced\",\"$run_id\"]"
}

@test "register takes the run from \$CNAI_RUN_ID, and --run wins over it" {
	a=$(cnai track start --name env-run)
	b=$(cnai track start --name flag-run)
	CNAI_RUN_ID=$a cnai model register digits model.bin >/dev/null
	printf 'other\n' >model.bin
	CNAI_RUN_ID=$a cnai model register digits model.bin --run "$b" >/dev/null
	assert_equal "$(cnai model show digits@1 --json | jq -r .run_id)" "$a"
	assert_equal "$(cnai model show digits@2 --json | jq -r .run_id)" "$b"
}

@test "an unknown \$CNAI_RUN_ID is refused, exit 2, nothing written" {
	before=$(store_state)
	CNAI_RUN_ID=0123456789abcdef0123456789abcdef run --separate-stderr cnai model register digits model.bin
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "0123456789abcdef0123456789abcdef"
	assert_equal "$(store_state)" "$before"
}

@test "a version registered without a run has no lineage edges" {
	cnai model register digits model.bin >/dev/null
	digest=$(cnai model show digits --json | jq -r .digest)
	run cnai lineage digits
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(printf 'model_version %s digits@1\n  (no recorded sources or consumers)' "${digest:0:19}")"
	assert_equal "$(cnai model show digits --json | jq -c '[.run_id, .run]')" '[null,null]'
}

@test "model show lists files, digests, the run's params and metrics, aliases, alias history and lineage" {
	train_and_register
	cnai model alias set digits canary 1 >/dev/null
	run cnai model show digits@prod
	[ "$status" -eq 0 ]
	cat >expect <<EOF
model       digits@1
digest      $DIGEST
flavor      files
aliases     canary prod

files:
  model.bin                         8  sha256:$(sha256sum model.bin | cut -d' ' -f1)

run $RUN (FINISHED)
  params.lr = 0.1
  metrics.acc = 0.93

alias history:
  TIME  prod -> 1  by $(id -un)
  TIME  canary -> 1  by $(id -un)

signed:     no (cnai sign model digits@1)

lineage: 2 upstream, 0 downstream (cnai lineage $DIGEST)
EOF
	echo "$output" | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/TIME/' >actual
	diff -u expect actual
}

@test "model show --json has the run summary and the lineage summary" {
	train_and_register
	run cnai model show digits@prod --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '.run')" \
		"{\"run_id\":\"$RUN\",\"name\":\"train\",\"status\":\"FINISHED\",\"params\":{\"lr\":\"0.1\"},\"metrics\":{\"acc\":0.93}}"
	assert_equal "$(echo "$output" | jq -c '.lineage')" \
		"{\"upstream\":[{\"kind\":\"run\",\"ref\":\"$RUN\",\"name\":\"train\",\"depth\":-1},{\"kind\":\"dataset\",\"ref\":\"$DATA\",\"name\":\"data.csv\",\"depth\":-2}],\"downstream\":[]}"
}

@test "a version whose run was removed says so" {
	run_id=$(cnai track start --name gone)
	cnai track end "$run_id"
	cnai model register digits model.bin --run gone >/dev/null
	cnai track rm gone >/dev/null
	run cnai model show digits
	[ "$status" -eq 0 ]
	assert_contains "$output" "run $run_id (removed)"
	assert_equal "$(cnai model show digits --json | jq -c '[.run_id, .run]')" "[\"$run_id\",null]"
}
