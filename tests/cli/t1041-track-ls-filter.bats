#!/usr/bin/env bats
# cnai track ls --filter: MLflow's search syntax end to end, on a small
# fixed set of runs. The parser's every case is in tests/unit; this file
# checks that filters reach the store and select the right runs.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	# name experiment status lr team acc (acc's history ends at the
	# value shown: an earlier, higher step-0 point must not count)
	mkrun r1 E1 FINISHED 0.01 vision 0.95
	mkrun r2 E1 FAILED 0.1 Vision-2 0.80
	mkrun r3 E2 FINISHED 0.01 nlp 0.99
	mkrun r4 E2 KILLED 0.5 "the x" 0.5
	cnai track start --name r5 -p 'batch size=64' >/dev/null
}

mkrun() {
	local id
	id=$(cnai track start --name "$1" --experiment "$2" -p "lr=$4" --tag "team=$5")
	cnai track log --run "$id" --metric acc=0.001@0 --metric "acc=$6@5"
	cnai track end "$id" --status "$3"
}

# The names of the runs a filter selects, newest first, on one line.
names() {
	cnai track ls --filter "$1" --columns name | tail -n +2 | tr '\n' ' ' | sed 's/ $//'
}

@test "a metric comparison uses the latest value" {
	assert_equal "$(names 'metrics.acc > 0.9')" "r3 r1"
	assert_equal "$(names 'metrics.acc <= 0.8')" "r4 r2"
	assert_equal "$(names 'metrics.acc = 0.001')" ""
}

@test "AND of a metric and a param" {
	assert_equal "$(names "metrics.acc > 0.9 AND params.lr = '0.01'")" "r3 r1"
	assert_equal "$(names "metrics.acc > 0.96 AND params.lr = '0.01'")" "r3"
}

@test "OR and parentheses" {
	assert_equal "$(names "tags.team = 'nlp' OR (attributes.status = 'FAILED' AND metrics.acc < 0.9)")" "r3 r2"
	assert_equal "$(names "(params.lr = '0.5' OR params.lr = '0.1') AND metrics.acc > 0.6")" "r2"
}

@test "every filter form selects the expected runs" {
	while IFS='|' read -r filter expect; do
		[ -n "$filter" ] || continue
		actual=$(names "$filter")
		if [ "$actual" != "$expect" ]; then
			printf 'filter:   %s\nexpected: %s\nactual:   %s\n' "$filter" "$expect" "$actual" >&2
			return 1
		fi
	done <<'EOF'
params.lr = '0.01'|r3 r1
params.lr != '0.01'|r4 r2
tags.team != 'nlp'|r4 r2 r1
tags.team LIKE 'vision%'|r1
tags.team ILIKE 'vision%'|r2 r1
tags.team LIKE '%x'|r4
tags.team = 'the x'|r4
params.lr IN ('0.1', '0.5')|r4 r2
params.lr NOT IN ('0.1', '0.5')|r3 r1
attributes.status = 'FINISHED'|r3 r1
attributes.status != 'FINISHED'|r5 r4 r2
attributes.status = 'RUNNING'|r5
attributes.run_name = 'r2'|r2
attributes.experiment = 'E2'|r4 r3
params.`batch size` = '64'|r5
metrics.acc >= 0.5 AND metrics.acc < 0.95|r4 r2
metrics.nothing > 0|
tags.nothing != 'x'|
metrics.acc > 0.9 and params.lr = '0.01'|r3 r1
EOF
}

@test "--filter and --experiment combine" {
	run cnai track ls --experiment E1 --filter 'metrics.acc > 0.9' --columns name
	assert_equal "$output" "$(printf 'NAME\nr1')"
}

@test "--filter, --order-by and --limit combine" {
	run cnai track ls --filter "params.lr = '0.01'" --order-by 'metrics.acc ASC' --limit 1 --json
	assert_equal "$(echo "$output" | jq -c '[.[] | .name]')" '["r1"]'
}

@test "a filter with a syntax error names the column, exit 2" {
	run --separate-stderr cnai track ls --filter 'metrics.acc >'
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: filter: column 14: unexpected end of filter, expected a value"
	assert_equal "$output" ""
}

@test "an unclosed parenthesis is an error at its column" {
	run --separate-stderr cnai track ls --filter "metrics.acc > 1 AND (params.lr = '0.1'"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: filter: column 21: '(' is never closed"
}

@test "an unknown prefix is an error" {
	run --separate-stderr cnai track ls --filter "foo.bar = 'x'"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: filter: column 1: unknown prefix 'foo' (expected metrics., params., tags. or attributes.)"
}

@test "a param compared with a number is an error" {
	run --separate-stderr cnai track ls --filter "params.lr = 0.1"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: filter: column 13: expected a quoted string, found '0.1'"
}

@test "a metric compared with a string is an error" {
	run --separate-stderr cnai track ls --filter "metrics.acc = 'x'"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: filter: column 15: expected a number, found the string 'x'"
}

@test "a filter is a parameter, never pasted into SQL" {
	before=$(store_state)
	assert_equal "$(names "tags.team = 'x'' OR 1=1 --'")" ""
	assert_equal "$(names "params.lr = '0.01''); DROP TABLE runs; --'")" ""
	assert_equal "$(store_state)" "$before"
	assert_equal "$(cnai track ls --json | jq length)" "5"
}

@test "--json with a filter prints the matching runs" {
	run cnai track ls --json --filter "tags.team = 'nlp'"
	assert_equal "$(echo "$output" | jq -c '[.[] | [.name, .metrics.acc]]')" '[["r3",0.99]]'
	run cnai track ls --json --filter "tags.team = 'nobody'"
	assert_equal "$output" "[]"
}
