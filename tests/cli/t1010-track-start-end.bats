#!/usr/bin/env bats
# cnai track start / end: runs made and ended by a shell script.
load lib

setup() {
	setup_common
	cnai init >/dev/null
}

@test "track start and track end -h print their synopses outside a store" {
	rm -rf .cnai
	run cnai track start -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai track start [--experiment <name>] [--name <name>] [-p <key>=<value>]... [--tag <key>=<value>]... [--input <path>]..."
	run cnai track end -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai track end [<run>] [--status <status>]"
}

@test "track start prints a new 32-hex-digit run id and the run is RUNNING" {
	run --separate-stderr cnai track start
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9a-f]{32}$ ]]
	id=$output
	run cnai track ls --json
	assert_equal "$(echo "$output" | jq -c '[.[] | [.run_id, .status, .end_time]]')" "[[\"$id\",\"RUNNING\",null]]"
}

@test "each track start makes a different run" {
	a=$(cnai track start)
	b=$(cnai track start)
	[ "$a" != "$b" ]
	assert_equal "$(cnai track ls --json | jq length)" "2"
}

@test "track start --json prints the run" {
	run cnai track start --json --name s --experiment exp -p lr=0.1 --tag team=cv
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '[.name, .experiment, .status, .params, .tags, .exit_code]')" \
		'["s","exp","RUNNING",{"lr":"0.1"},{"team":"cv"},null]'
	[[ "$(echo "$output" | jq -r .run_id)" =~ ^[0-9a-f]{32}$ ]]
}

@test "cnai --json track start is the same as track start --json" {
	run cnai --json track start --name g
	assert_equal "$(echo "$output" | jq -r '.name, .status')" "$(printf 'g\nRUNNING')"
}

@test "track start records params, tags and inputs" {
	printf 'x\ty\n1\t2\n3\t4\n' >d.tsv
	cnai track start --name s -p a=1 --tag t=v --input d.tsv >/dev/null
	run cnai track show s --json
	assert_equal "$(echo "$output" | jq -c '[.params, .tags, (.inputs[] | [.digest, .rows, .columns])]')" \
		"[{\"a\":\"1\"},{\"t\":\"v\"},[\"sha256:$(sha256sum d.tsv | cut -d' ' -f1)\",2,2]]"
}

@test "track start with a command is a usage error and nothing is recorded" {
	before=$(store_state)
	run --separate-stderr cnai track start -- true
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'track start' takes no command; use 'cnai track run -- <command>'"
	assert_equal "$(store_state)" "$before"
}

@test "track start with a bad -p is a usage error and nothing is recorded" {
	before=$(store_state)
	run --separate-stderr cnai track start -p novalue
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --param 'novalue' is not KEY=VALUE"
	assert_equal "$(store_state)" "$before"
}

@test "track end ends the run FINISHED by default, with an end time and no exit code" {
	id=$(cnai track start)
	run cnai track end "$id"
	[ "$status" -eq 0 ]
	run cnai track show "$id" --json
	assert_equal "$(echo "$output" | jq -c '[.status, .exit_code]')" '["FINISHED",null]'
	[ "$(echo "$output" | jq -r .end_time)" -ge "$(echo "$output" | jq -r .start_time)" ]
}

@test "track end --status FAILED ends the run FAILED" {
	id=$(cnai track start)
	cnai track end "$id" --status FAILED
	assert_equal "$(run_field "$id" status)" "FAILED"
}

@test "track end --status KILLED ends the run KILLED" {
	id=$(cnai track start)
	cnai track end --status KILLED "$id"
	assert_equal "$(run_field "$id" status)" "KILLED"
}

@test "track end without a run ends \$CNAI_RUN_ID" {
	id=$(cnai track start)
	other=$(cnai track start)
	CNAI_RUN_ID=$id cnai track end
	assert_equal "$(run_field "$id" status)" "FINISHED"
	assert_equal "$(run_field "$other" status)" "RUNNING"
}

@test "a shell script makes its own run with start, log and end" {
	export CNAI_RUN_ID=$(cnai track start --name sweep-3 -p lr=0.1)
	cnai track log --metric acc=0.93
	cnai track end
	unset CNAI_RUN_ID
	run cnai track show sweep-3 --json
	assert_equal "$(echo "$output" | jq -c '[.status, .params.lr, .metrics.acc]')" '["FINISHED","0.1",0.93]'
}

@test "track end --json prints the ended run" {
	id=$(cnai track start)
	run cnai track end "$id" --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r '.run_id, .status')" "$(printf '%s\nFINISHED' "$id")"
}

@test "track end with an unknown status is a usage error and changes nothing" {
	id=$(cnai track start)
	before=$(store_state)
	run --separate-stderr cnai track end "$id" --status DONE
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --status: 'DONE' is not FINISHED, FAILED or KILLED"
	assert_equal "$(store_state)" "$before"
}

@test "track end --status RUNNING is refused" {
	id=$(cnai track start)
	before=$(store_state)
	run --separate-stderr cnai track end "$id" --status RUNNING
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --status: 'RUNNING' is not FINISHED, FAILED or KILLED"
	assert_equal "$(store_state)" "$before"
}

@test "track end with no run and no CNAI_RUN_ID is a usage error" {
	cnai track start >/dev/null
	before=$(store_state)
	run --separate-stderr cnai track end
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: no run given: name one, or set CNAI_RUN_ID (cnai track run sets it)"
	assert_equal "$(store_state)" "$before"
}

@test "track end of an unknown run is an error and changes nothing" {
	cnai track start >/dev/null
	before=$(store_state)
	run --separate-stderr cnai track end no-such-run
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'no-such-run' not found"
	assert_equal "$(store_state)" "$before"
}

@test "track end with two runs is a usage error" {
	a=$(cnai track start)
	b=$(cnai track start)
	before=$(store_state)
	run --separate-stderr cnai track end "$a" "$b"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'track end': too many arguments; usage: cnai track end [<run>] [--status <status>]"
	assert_equal "$(store_state)" "$before"
}

@test "track end of a run that track run ended keeps its exit code" {
	cnai -q track run --name done -- sh -c 'exit 5' || true
	cnai track end done --status KILLED
	assert_equal "$(cnai track show done --json | jq -c '[.status, .exit_code]')" '["KILLED",5]'
}
