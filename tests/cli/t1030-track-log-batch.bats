#!/usr/bin/env bats
# cnai track log --batch: JSON lines from a file or stdin, all or nothing.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	CNAI_RUN_ID=$(cnai track start --name r)
	export CNAI_RUN_ID
}

# Writes a batch whose first line is good and whose second line is $1.
bad_second_line() {
	printf '%s\n' '{"metric":"good","value":1,"step":1}' "$1" >batch.jsonl
}

@test "a batch file logs metrics, params and tags" {
	cat >batch.jsonl <<'EOF'
{"metric":"loss","value":0.3,"step":7}
{"param":"lr","value":"0.01"}
{"tag":"team","value":"vision"}

{"metric":"loss","value":0.25,"step":8,"timestamp":1700000000000}
EOF
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 0 ]
	run cnai track show r --json
	assert_equal "$(echo "$output" | jq -c '[.params, .metrics, .tags]')" \
		'[{"lr":"0.01"},{"loss":0.25},{"team":"vision"}]'
	run cnai track metrics r loss --json
	assert_equal "$(echo "$output" | jq -c '[.[] | [.step, .value]]')" '[[7,0.3],[8,0.25]]'
	assert_equal "$(echo "$output" | jq -r '.[1].timestamp')" "1700000000000"
}

@test "--batch - reads the lines from stdin" {
	printf '%s\n' '{"metric":"loss","value":0.3,"step":8}' |
		cnai track log --batch -
	assert_equal "$(run_field r metrics.loss)" "0.3"
}

@test "track log --batch --json counts the lines logged" {
	printf '%s\n' '{"metric":"a","value":1}' '{"tag":"t","value":"x"}' >batch.jsonl
	run cnai track log --json --batch batch.jsonl
	assert_equal "$(echo "$output" | jq -r .logged)" "2"
}

@test "a batch goes to the run named by --run" {
	cnai track start --name other >/dev/null
	printf '%s\n' '{"tag":"where","value":"other"}' | cnai track log --run other --batch -
	assert_equal "$(run_field other tags.where)" "other"
	assert_equal "$(run_field r tags.where)" "null"
}

@test "NaN, Infinity and -Infinity in a batch are stored faithfully" {
	printf '%s\n' '{"metric":"a","value":"NaN"}' '{"metric":"b","value":"Infinity"}' \
		'{"metric":"c","value":"-Infinity"}' | cnai track log --batch -
	assert_equal "$(cnai track show r --json | jq -c .metrics)" '{"a":"NaN","b":"Infinity","c":"-Infinity"}'
}

@test "a number as a param or tag value is stored as its text" {
	printf '%s\n' '{"param":"epochs","value":10}' '{"tag":"ratio","value":0.5}' | cnai track log --batch -
	assert_equal "$(cnai track show r --json | jq -c '[.params.epochs, .tags.ratio]')" '["10","0.5"]'
}

@test "10,000 lines are logged in one batch" {
	seq 10000 | awk '{ printf "{\"metric\":\"m\",\"value\":%d,\"step\":%d}\n", $1, $1 }' >big.jsonl
	run cnai track log --json --batch big.jsonl
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r .logged)" "10000"
	assert_equal "$(sqlite3 .cnai/cnai.db 'SELECT count(*), min(step), max(step) FROM metrics')" "10000|1|10000"
	assert_equal "$(run_field r metrics.m)" "10000"
}

@test "a line that is not JSON rejects the whole batch with FILE:LINE" {
	bad_second_line '{"metric":"loss",'
	before=$(store_state)
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: batch.jsonl:2: column 17: string or '}' expected near end of file"
	assert_equal "$(store_state)" "$before"
}

@test "a bad line on stdin is reported as <stdin>:LINE" {
	before=$(store_state)
	run --separate-stderr bash -c "printf '%s\n' '{\"tag\":\"a\",\"value\":\"b\"}' '' 'nonsense' | '$CNAI_BIN' track log --batch -"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: <stdin>:3: column 8: '[' or '{' expected near 'nonsense'"
	assert_equal "$(store_state)" "$before"
}

@test "an unknown field rejects the batch" {
	bad_second_line '{"metric":"x","value":1,"epoch":2}'
	before=$(store_state)
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" 'cnai: error: batch.jsonl:2: unknown field "epoch"'
	assert_equal "$(store_state)" "$before"
}

@test "a metric value of the wrong type rejects the batch" {
	bad_second_line '{"metric":"x","value":"high"}'
	before=$(store_state)
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" 'cnai: error: batch.jsonl:2: "value" must be a number, "NaN", "Infinity" or "-Infinity"'
	assert_equal "$(store_state)" "$before"
}

@test "a step that is not an integer rejects the batch" {
	bad_second_line '{"metric":"x","value":1,"step":"3"}'
	before=$(store_state)
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" 'cnai: error: batch.jsonl:2: "step" and "timestamp" must be integers'
	assert_equal "$(store_state)" "$before"
}

@test "a param value that is not a string or number rejects the batch" {
	bad_second_line '{"param":"x","value":true}'
	before=$(store_state)
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" 'cnai: error: batch.jsonl:2: "value" must be a string'
	assert_equal "$(store_state)" "$before"
}

@test "a step on a tag rejects the batch" {
	bad_second_line '{"tag":"x","value":"y","step":1}'
	before=$(store_state)
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" 'cnai: error: batch.jsonl:2: "step" and "timestamp" belong to metrics'
	assert_equal "$(store_state)" "$before"
}

@test "a line that is not an object rejects the batch" {
	bad_second_line '[1,2]'
	before=$(store_state)
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: batch.jsonl:2: expected a JSON object"
	assert_equal "$(store_state)" "$before"
}

@test "a line with two kinds or none rejects the batch" {
	before=$(store_state)
	bad_second_line '{"metric":"x","param":"y","value":1}'
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" 'cnai: error: batch.jsonl:2: expected exactly one of "metric", "param", "tag"'
	bad_second_line '{"value":1}'
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" 'cnai: error: batch.jsonl:2: expected exactly one of "metric", "param", "tag"'
	assert_equal "$(store_state)" "$before"
}

@test "a missing value or a name that is not a string rejects the batch" {
	before=$(store_state)
	bad_second_line '{"metric":"x"}'
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" 'cnai: error: batch.jsonl:2: missing "value"'
	bad_second_line '{"metric":7,"value":1}'
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" 'cnai: error: batch.jsonl:2: the name must be a string'
	assert_equal "$(store_state)" "$before"
}

@test "a param that changes its value rejects the batch with the line" {
	cnai track log --param lr=0.01
	before=$(store_state)
	bad_second_line '{"param":"lr","value":"0.02"}'
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: batch.jsonl:2: param 'lr' is already '0.01' for this run; params cannot change (new value '0.02')"
	assert_equal "$(store_state)" "$before"
}

@test "a forbidden character in a name rejects the batch with the line" {
	before=$(store_state)
	bad_second_line '{"metric":"a$b","value":1}'
	run --separate-stderr cnai track log --batch batch.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: batch.jsonl:2: metric name 'a\$b': character '\$' is not allowed (use letters, digits, '_', '-', '.', ' ', '/', ':')"
	assert_equal "$(store_state)" "$before"
}

@test "a bad line after 10,000 good ones still writes nothing" {
	seq 10000 | awk '{ printf "{\"metric\":\"m\",\"value\":%d,\"step\":%d}\n", $1, $1 }' >big.jsonl
	echo '{"metric":"m","value":"oops"}' >>big.jsonl
	before=$(store_state)
	run --separate-stderr cnai track log --batch big.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" 'cnai: error: big.jsonl:10001: "value" must be a number, "NaN", "Infinity" or "-Infinity"'
	assert_equal "$(store_state)" "$before"
}

@test "a batch file that does not exist is an error" {
	before=$(store_state)
	run --separate-stderr cnai track log --batch missing.jsonl
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: cannot read 'missing.jsonl': No such file or directory"
	assert_equal "$(store_state)" "$before"
}

@test "an empty batch logs nothing and succeeds" {
	: >empty.jsonl
	before=$(store_state)
	run cnai track log --json --batch empty.jsonl
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r .logged)" "0"
	assert_equal "$(store_state)" "$before"
}
