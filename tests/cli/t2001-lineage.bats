#!/usr/bin/env bats
# cnai lineage: the neighbourhood of a run, dataset or artifact as a tree,
# JSON, DOT and Mermaid; references by id, prefix, digest and name.
load lib

# Runs "first" (input data.csv, artifact model.bin) and "second" (input
# data.csv). Sets $first, $second (run ids), $data and $model (digests).
setup() {
	setup_common
	cnai init >/dev/null
	make_data_csv
	echo weights >model.bin
	first=$(cnai track start --name first --input data.csv)
	cnai track log --run first --artifact model.bin
	second=$(cnai track start --name second --input data.csv)
	data=sha256:$(sha256sum data.csv | cut -d' ' -f1)
	model=sha256:$(sha256sum model.bin | cut -d' ' -f1)
	[ ${#first} -eq 32 ] && [ ${#second} -eq 32 ]
}

@test "a run's lineage: its inputs above, its artifacts below" {
	run --separate-stderr cnai lineage first
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_equal "$output" "run ${first:0:12} first
  from:
    <- dataset ${data:0:19} data.csv  (input)
  to:
    -> artifact ${model:0:19} model.bin  (logged)"
}

@test "a dataset's lineage goes down through every run that read it" {
	run --separate-stderr cnai lineage data.csv
	[ "$status" -eq 0 ]
	assert_equal "$output" "dataset ${data:0:19} data.csv
  to:
    -> run ${first:0:12} first  (input)
        -> artifact ${model:0:19} model.bin  (logged)
    -> run ${second:0:12} second  (input)"
}

@test "an artifact's lineage goes up to the datasets" {
	run --separate-stderr cnai lineage model.bin
	[ "$status" -eq 0 ]
	assert_equal "$output" "artifact ${model:0:19} model.bin
  from:
    <- run ${first:0:12} first  (logged)
        <- dataset ${data:0:19} data.csv  (input)"
}

@test "--up and --down keep one direction; both mean both" {
	run --separate-stderr cnai lineage first --up
	[ "$status" -eq 0 ]
	assert_equal "$output" "run ${first:0:12} first
  from:
    <- dataset ${data:0:19} data.csv  (input)"
	run --separate-stderr cnai lineage first --down
	[ "$status" -eq 0 ]
	assert_equal "$output" "run ${first:0:12} first
  to:
    -> artifact ${model:0:19} model.bin  (logged)"
	both=$(cnai lineage first)
	run cnai lineage first --up --down
	assert_equal "$output" "$both"
}

@test "--up from a dataset finds nothing above it" {
	run --separate-stderr cnai lineage data.csv --up
	[ "$status" -eq 0 ]
	assert_equal "$output" "dataset ${data:0:19} data.csv
  (no recorded sources or consumers)"
}

@test "an entity with no edges says so" {
	cnai track start --name lonely >/dev/null
	run --separate-stderr cnai lineage lonely
	[ "$status" -eq 0 ]
	lonely=$(cnai track show lonely --json | jq -r .run_id)
	assert_equal "$output" "run ${lonely:0:12} lonely
  (no recorded sources or consumers)"
}

@test "--depth limits how many edges are followed" {
	run --separate-stderr cnai lineage data.csv --depth 1
	[ "$status" -eq 0 ]
	assert_equal "$output" "dataset ${data:0:19} data.csv
  to:
    -> run ${first:0:12} first  (input)
    -> run ${second:0:12} second  (input)"
	run cnai lineage data.csv --depth 2
	assert_equal "$output" "$(cnai lineage data.csv)"
	run cnai lineage model.bin --depth 1 --format json
	assert_equal "$(echo "$output" | jq -c '[.nodes[] | [.kind, .depth]]')" '[["artifact",0],["run",-1]]'
}

@test "an entity reached twice is printed each time and followed once" {
	cnai track log --run second --artifact model.bin
	run --separate-stderr cnai lineage data.csv
	[ "$status" -eq 0 ]
	assert_equal "$output" "dataset ${data:0:19} data.csv
  to:
    -> run ${first:0:12} first  (input)
        -> artifact ${model:0:19} model.bin  (logged)
    -> run ${second:0:12} second  (input)
        -> artifact ${model:0:19} model.bin  (logged)"
}

@test "--format json: root, nodes and edges with their fields" {
	run --separate-stderr cnai lineage first --format json
	[ "$status" -eq 0 ]
	j=$output
	assert_equal "$(echo "$j" | jq -c 'keys')" '["edges","nodes","root"]'
	assert_equal "$(echo "$j" | jq '.root == .nodes[0].id')" true
	assert_equal "$(echo "$j" | jq -c '[.nodes[] | keys] | unique')" \
		'[["created","depth","id","kind","name","ref"]]'
	assert_equal "$(echo "$j" | jq -c '[.nodes[] | [.kind, .ref, .name, .depth]]')" \
		"[[\"run\",\"$first\",\"first\",0],[\"dataset\",\"$data\",\"data.csv\",-1],[\"artifact\",\"$model\",\"model.bin\",1]]"
	echo "$j" | jq -e '[.nodes[].created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")] | all' >/dev/null
	echo "$j" | jq -e '[.nodes[].id | type == "number"] | all' >/dev/null
	# Edges join node ids: dataset -> run (input), run -> artifact (logged).
	assert_equal "$(echo "$j" | jq -c '. as $g | [.edges[] | [(.from as $f | $g.nodes[] | select(.id == $f) | .kind), (.to as $t | $g.nodes[] | select(.id == $t) | .kind), .relation]] | sort')" \
		'[["dataset","run","input"],["run","artifact","logged"]]'
	assert_equal "$(echo "$j" | jq -c '[.edges[] | keys] | unique')" '[["from","relation","to"]]'
}

@test "--json is --format json, before or after the command" {
	expect=$(cnai lineage first --format json)
	run cnai lineage first --json
	assert_equal "$output" "$expect"
	run cnai --json lineage first
	assert_equal "$output" "$expect"
	# An explicit --format wins over --json.
	run cnai --json lineage first --format tree
	assert_equal "$output" "$(cnai lineage first)"
}

@test "--format dot is a graph that dot renders to SVG" {
	run --separate-stderr cnai lineage data.csv --format dot
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | head -n 1)" "digraph lineage {"
	assert_equal "$(echo "$output" | grep -c -- ' -> ')" 3
	assert_equal "$(echo "$output" | grep -c 'label=')" 7 # 4 nodes, 3 edges
	cnai lineage data.csv --format dot | dot -Tsvg >graph.svg
	grep -q '<svg' graph.svg
	assert_equal "$(cnai lineage data.csv --dot)" "$output"
}

@test "--format mermaid starts with graph LR, a line per node and edge" {
	run --separate-stderr cnai lineage data.csv --format mermaid
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | head -n 1)" "graph LR"
	assert_equal "$(echo "$output" | wc -l)" 8
	assert_contains "$output" "[\"dataset ${data:0:19} data.csv\"]"
	assert_equal "$(echo "$output" | grep -c -- '-->|input|')" 2
	assert_equal "$(echo "$output" | grep -c -- '-->|logged|')" 1
}

@test "a run is found by its id, a prefix of 4 or more, or its name" {
	expect=$(cnai lineage first)
	for ref in "$first" "${first:0:4}" "${first:0:12}" first; do
		run --separate-stderr cnai lineage "$ref"
		[ "$status" -eq 0 ] || { echo "ref $ref: $stderr"; false; }
		assert_equal "$output" "$expect"
	done
}

@test "a digest is found whole or by prefix, with or without sha256:" {
	expect=$(cnai lineage model.bin)
	hex=${model#sha256:}
	for ref in "$model" "$hex" "${model:0:15}" "${hex:0:8}" "${hex:0:4}"; do
		run --separate-stderr cnai lineage "$ref"
		[ "$status" -eq 0 ] || { echo "ref $ref: $stderr"; false; }
		assert_equal "$output" "$expect"
	done
	expect=$(cnai lineage data.csv)
	run cnai lineage "${data:0:12}"
	assert_equal "$output" "$expect"
}

@test "a dataset is found by its file name, not by its folder" {
	mkdir sub
	printf 'a\n1\n' >sub/other.csv
	cnai track start --name third --input sub/other.csv >/dev/null
	run --separate-stderr cnai lineage other.csv
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | head -n 1)" \
		"dataset sha256:$(sha256sum sub/other.csv | cut -c1-12) other.csv"
	run --separate-stderr cnai lineage sub/other.csv
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'sub/other.csv' not found in the lineage graph"
}

@test "an unknown reference is exit 2 with a message and no output" {
	before=$(store_state)
	for ref in nope abc 0000000000 sha256:0000; do
		run --separate-stderr cnai lineage "$ref"
		[ "$status" -eq 2 ]
		assert_equal "$stderr" "cnai: error: '$ref' not found in the lineage graph"
		[ -z "$output" ]
	done
	assert_equal "$(store_state)" "$before"
}

@test "a prefix shorter than 4 characters does not match" {
	run --separate-stderr cnai lineage "${first:0:3}"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: '${first:0:3}' not found in the lineage graph"
}

@test "an ambiguous name lists the candidates, exit 2" {
	mkdir a b
	printf 'x\n1\n' >a/set.csv
	printf 'x\n2\n' >b/set.csv
	cnai track start --name r1 --input a/set.csv >/dev/null
	cnai track start --name r2 --input b/set.csv >/dev/null
	da=$(sha256sum a/set.csv | cut -c1-12)
	db=$(sha256sum b/set.csv | cut -c1-12)
	run --separate-stderr cnai lineage set.csv
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_equal "$stderr" "cnai: error: 'set.csv' is ambiguous: dataset sha256:$da set.csv, dataset sha256:$db set.csv"
}

@test "two runs of the same name are ambiguous; the id then decides" {
	again=$(cnai track start --name first)
	run --separate-stderr cnai lineage first
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'first' is ambiguous: run ${first:0:12} first, run ${again:0:12} first"
	run --separate-stderr cnai lineage "$again"
	[ "$status" -eq 0 ]
	assert_equal "$output" "run ${again:0:12} first
  (no recorded sources or consumers)"
}

@test "usage errors are exit 2 and print nothing on stdout" {
	run --separate-stderr cnai lineage
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: no reference given; usage: cnai lineage <ref> [--up | --down] [--depth <n>] [--format tree|json|dot|mermaid]"
	run --separate-stderr cnai lineage first second
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: too many arguments; usage: cnai lineage <ref> [--up | --down] [--depth <n>] [--format tree|json|dot|mermaid]"
	run --separate-stderr cnai lineage first --depth 0
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --depth: must be at least 1"
	run --separate-stderr cnai lineage first --depth two
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --depth: 'two' is not a whole number"
	run --separate-stderr cnai lineage first --format svg
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --format: unknown format 'svg' (tree, json, dot, mermaid)"
	[ -z "$output" ]
}
