#!/usr/bin/env bats
# cnai track log from options: params (write-once), metrics (history, NaN
# and infinities), tags, artifacts; choosing the run.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	CNAI_RUN_ID=$(cnai track start --name r)
	export CNAI_RUN_ID
}

@test "track log -h prints its synopsis outside a store" {
	rm -rf .cnai
	run cnai track log -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai track log [--run <run>] [--param <key>=<value>]... [--metric <key>=<value>[@<step>]]... [--tag <key>=<value>]... [--artifact <path>[:<name>]]..."
	assert_equal "${lines[1]}" "   or: cnai track log [--run <run>] --batch <file>"
}

@test "track log records params, metrics and tags for \$CNAI_RUN_ID" {
	run --separate-stderr cnai track log --param lr=0.01 --param 'opt name=adam' --metric acc=0.9 --tag team=cv
	[ "$status" -eq 0 ]
	assert_equal "$output" ""
	run cnai track show r --json
	assert_equal "$(echo "$output" | jq -c '[.params, .metrics, .tags]')" \
		'[{"lr":"0.01","opt name":"adam"},{"acc":0.9},{"team":"cv"}]'
}

@test "track log --json says how many items were logged" {
	run cnai track log --json --metric a=1 --metric a=2@1 --tag t=x
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '[.run_id, .logged]')" "[\"$CNAI_RUN_ID\",3]"
}

@test "track log --run selects the run by name, overriding \$CNAI_RUN_ID" {
	other=$(cnai track start --name other)
	cnai track log --run other --metric m=1
	assert_equal "$(run_field other metrics.m)" "1"
	assert_equal "$(run_field r metrics.m)" "null"
}

@test "track log --run selects the run by an id prefix" {
	other=$(cnai track start)
	cnai track log --run "${other:0:8}" --tag picked=yes
	assert_equal "$(run_field "$other" tags.picked)" "yes"
}

@test "logging a param again with the same value is fine" {
	cnai track log --param lr=0.01
	run --separate-stderr cnai track log --param lr=0.01
	[ "$status" -eq 0 ]
	assert_equal "$(run_field r params.lr)" "0.01"
}

@test "logging a param again with another value is an error naming both, and nothing is written" {
	cnai track log --param lr=0.01
	before=$(store_state)
	run --separate-stderr cnai track log --metric acc=0.5 --tag t=x --param lr=0.02 --param other=1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: param 'lr' is already '0.01' for this run; params cannot change (new value '0.02')"
	assert_equal "$(store_state)" "$before"
	run cnai track show r --json
	assert_equal "$(echo "$output" | jq -c '[.params, .metrics, .tags]')" '[{"lr":"0.01"},{},{}]'
}

@test "two values for one param in the same call are an error" {
	before=$(store_state)
	run --separate-stderr cnai track log --param a=1 --param a=2
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: param 'a' is already '1' for this run; params cannot change (new value '2')"
	assert_equal "$(store_state)" "$before"
}

@test "params are per run: another run may use another value" {
	cnai track log --param lr=0.01
	other=$(cnai track start)
	cnai track log --run "$other" --param lr=0.5
	assert_equal "$(run_field "$other" params.lr)" "0.5"
}

@test "metrics keep their full history with steps and the latest is the highest step" {
	cnai track log --metric loss=0.9@1 --metric loss=0.5@3
	cnai track log --metric loss=0.7@2
	run cnai track metrics r loss --json
	assert_equal "$(echo "$output" | jq -c '[.[] | [.step, .value]]')" '[[1,0.9],[2,0.7],[3,0.5]]'
	assert_equal "$(run_field r metrics.loss)" "0.5"
}

@test "a metric without @step is logged at step 0 with a timestamp" {
	before=$(date +%s%3N)
	cnai track log --metric acc=0.25
	after=$(date +%s%3N)
	run cnai track metrics r acc --json
	assert_equal "$(echo "$output" | jq -c '[.[] | [.step, .value]]')" '[[0,0.25]]'
	ts=$(echo "$output" | jq -r '.[0].timestamp')
	[ "$before" -le "$ts" ] && [ "$ts" -le "$after" ]
}

@test "a negative step and an exponent value are accepted" {
	cnai track log --metric warm=-1.5e-3@-2
	run cnai track metrics r warm --json
	assert_equal "$(echo "$output" | jq -c '[.[] | [.step, .value]]')" '[[-2,-0.0015]]'
}

@test "nan, inf and -inf are stored and shown faithfully" {
	cnai track log --metric a=nan@1 --metric b=inf@1 --metric c=-inf@1 --metric d=NaN@2 --metric e=Infinity@2 --metric f=-INF@2
	run cnai track metrics r
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | awk 'NR > 1 { print $1, $2, $3 }')" \
		"$(printf 'a 1 nan\nb 1 inf\nc 1 -inf\nd 2 nan\ne 2 inf\nf 2 -inf')"
	run cnai track metrics r --json
	assert_equal "$(echo "$output" | jq -c '[.[] | .value]')" '["NaN","Infinity","-Infinity","NaN","Infinity","-Infinity"]'
	run cnai track show r --json
	assert_equal "$(echo "$output" | jq -c .metrics)" '{"a":"NaN","b":"Infinity","c":"-Infinity","d":"NaN","e":"Infinity","f":"-Infinity"}'
	run cnai track ls --json
	assert_equal "$(echo "$output" | jq -c '.[0].metrics | [.a, .b, .c]')" '["NaN","Infinity","-Infinity"]'
	run cnai track show r
	assert_contains "$output" "  a = nan (step 1)"
	assert_contains "$output" "  b = inf (step 1)"
	assert_contains "$output" "  c = -inf (step 1)"
}

@test "a NaN after a number becomes the latest value" {
	cnai track log --metric loss=0.5@1 --metric loss=nan@2
	assert_equal "$(run_field r metrics.loss)" "NaN"
}

@test "a tag may be overwritten" {
	cnai track log --tag stage=dev
	cnai track log --tag stage=prod
	assert_equal "$(run_field r tags.stage)" "prod"
}

@test "a value may contain '=' and '@'" {
	cnai track log --param 'expr=a=b@c' --tag 'mail=x@example.com'
	run cnai track show r --json
	assert_equal "$(echo "$output" | jq -c '[.params.expr, .tags.mail]')" '["a=b@c","x@example.com"]'
}

@test "--artifact stores a file under its base name, and path:name renames it" {
	mkdir sub
	printf 'weights\n' >sub/model.bin
	cnai track log --artifact sub/model.bin --artifact sub/model.bin:best.bin
	run cnai track artifacts r --json
	digest="sha256:$(sha256sum sub/model.bin | cut -d' ' -f1)"
	assert_equal "$(echo "$output" | jq -c '[.[] | [.name, .size, .digest]]')" \
		"[[\"best.bin\",8,\"$digest\"],[\"model.bin\",8,\"$digest\"]]"
	cnai track cat r best.bin | cmp sub/model.bin -
}

@test "logging an artifact again under the same name replaces it" {
	echo one >f
	cnai track log --artifact f:out.txt
	echo two >f
	cnai track log --artifact f:out.txt
	assert_equal "$(cnai track cat r out.txt)" "two"
	assert_equal "$(cnai track artifacts r --json | jq length)" "1"
}

@test "an --artifact that does not exist is an error and no row is written" {
	echo x >present
	before=$(sqlite3 .cnai/cnai.db .dump)
	run --separate-stderr cnai track log --metric m=1 --artifact missing.bin
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: cannot read 'missing.bin': No such file or directory"
	assert_equal "$(sqlite3 .cnai/cnai.db .dump)" "$before"
}

@test "an --artifact with an empty name is an error and nothing is written" {
	echo x >f
	before=$(sqlite3 .cnai/cnai.db .dump)
	run --separate-stderr cnai track log --artifact f:
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: artifact name must be 1 to 1024 characters"
	assert_equal "$(sqlite3 .cnai/cnai.db .dump)" "$before"
}

@test "a metric name with a forbidden character is an error and nothing is written" {
	before=$(store_state)
	run --separate-stderr cnai track log --metric ok=1 --metric 'a*b=1'
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: metric name 'a*b': character '*' is not allowed (use letters, digits, '_', '-', '.', ' ', '/', ':')"
	assert_equal "$(store_state)" "$before"
}

@test "a param or tag name with a forbidden character is an error" {
	before=$(store_state)
	run --separate-stderr cnai track log --param 'a"b=1'
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: param name 'a\"b': character '\"' is not allowed (use letters, digits, '_', '-', '.', ' ', '/', ':')"
	run --separate-stderr cnai track log --tag 'a;b=1'
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: tag name 'a;b': character ';' is not allowed (use letters, digits, '_', '-', '.', ' ', '/', ':')"
	assert_equal "$(store_state)" "$before"
}

@test "a metric value that is not a number is an error and nothing is written" {
	before=$(store_state)
	run --separate-stderr cnai track log --metric ok=1 --metric acc=high
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --metric: 'high' is not a number"
	assert_equal "$(store_state)" "$before"
}

@test "an empty metric value is an error" {
	before=$(store_state)
	run --separate-stderr cnai track log --metric acc=
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --metric: '' is not a number"
	assert_equal "$(store_state)" "$before"
}

@test "a step that is not a whole number is an error" {
	before=$(store_state)
	run --separate-stderr cnai track log --metric acc=1@1.5
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --metric step: '1.5' is not a whole number"
	assert_equal "$(store_state)" "$before"
}

@test "options without '=' are usage errors" {
	before=$(store_state)
	run --separate-stderr cnai track log --metric acc
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --metric 'acc' is not KEY=VALUE"
	run --separate-stderr cnai track log --param lr
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --param 'lr' is not KEY=VALUE"
	run --separate-stderr cnai track log --tag =x
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --tag '=x' is not KEY=VALUE"
	assert_equal "$(store_state)" "$before"
}

@test "track log with nothing to log is a usage error" {
	run --separate-stderr cnai track log
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: nothing to log: give --param, --metric, --tag, --artifact or --batch"
}

@test "track log with a stray argument is a usage error" {
	before=$(store_state)
	run --separate-stderr cnai track log --metric a=1 acc=2
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'track log': unexpected argument 'acc=2'"
	assert_equal "$(store_state)" "$before"
}

@test "track log with no run and no CNAI_RUN_ID is a usage error" {
	unset CNAI_RUN_ID
	before=$(store_state)
	run --separate-stderr cnai track log --metric a=1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: no run given: name one, or set CNAI_RUN_ID (cnai track run sets it)"
	assert_equal "$(store_state)" "$before"
}

@test "track log to an unknown run is an error and nothing is written" {
	before=$(store_state)
	run --separate-stderr cnai track log --run nowhere --metric a=1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'nowhere' not found"
	assert_equal "$(store_state)" "$before"
}
