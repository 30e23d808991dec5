#!/usr/bin/env bats
# cnai track run: wrapping a command in a run (provenance, inputs, output,
# exit status, signals).
load lib

setup() {
	setup_common
	cnai init >/dev/null
}

teardown() {
	# The background process the SIGTERM test leaves behind.
	if [ -f "$TEST_DIR/sleep.pid" ]; then
		kill "$(cat "$TEST_DIR/sleep.pid")" 2>/dev/null || true
	fi
	teardown_common
}

@test "track run -h prints its synopsis and exits 0 outside a store" {
	rm -rf .cnai
	run cnai track run -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai track run [--experiment <name>] [--name <name>] [-p <key>=<value>]... [--tag <key>=<value>]... [--input <path>]... -- <command> [<arg>...]"
}

@test "track run records start and end time, command line, cwd, host and user" {
	before=$(date +%s%3N)
	cnai -q track run --name prov -- sh -c 'exit 0'
	after=$(date +%s%3N)
	run cnai track show prov --json
	[ "$status" -eq 0 ]
	json=$output
	start=$(echo "$json" | jq -r .start_time)
	end=$(echo "$json" | jq -r .end_time)
	[ "$before" -le "$start" ]
	[ "$start" -le "$end" ]
	[ "$end" -le "$after" ]
	assert_equal "$(echo "$json" | jq -r .command)" "sh -c 'exit 0'"
	assert_equal "$(echo "$json" | jq -r .cwd)" "$(pwd -P)"
	assert_equal "$(echo "$json" | jq -r .host)" "$(hostname)"
	assert_equal "$(echo "$json" | jq -r .user)" "$(id -un)"
	assert_equal "$(echo "$json" | jq -r .experiment)" "Default"
}

@test "track run outside a git repository records no git fields" {
	cnai -q track run --name nogit -- true
	run cnai track show nogit --json
	assert_equal "$(echo "$output" | jq -c '[.git_commit, .git_branch, .git_dirty, .git_remote]')" "[null,null,null,null]"
}

@test "track run inside a git repository records commit, branch, origin and a clean tree" {
	git init -q -b trunk .
	echo one >tracked
	git add tracked
	git -c user.name=t -c user.email=t@example.com commit -qm one
	git remote add origin https://example.com/team/model.git
	cnai -q track run --name clean -- true
	run cnai track show clean --json
	assert_equal "$(echo "$output" | jq -r .git_commit)" "$(git rev-parse HEAD)"
	assert_equal "$(echo "$output" | jq -r .git_branch)" "trunk"
	assert_equal "$(echo "$output" | jq -r .git_remote)" "https://example.com/team/model.git"
	assert_equal "$(echo "$output" | jq -r .git_dirty)" "false"
}

@test "track run marks the run dirty when a tracked file has changed" {
	git init -q -b main .
	echo one >tracked
	git add tracked
	git -c user.name=t -c user.email=t@example.com commit -qm one
	echo two >>tracked
	cnai -q track run --name dirty -- true
	assert_equal "$(run_field dirty git_dirty)" "true"
	assert_equal "$(run_field dirty git_remote)" "null"
	run cnai track show dirty
	assert_contains "$output" "$(git rev-parse HEAD | cut -c1-12) on main (dirty)"
}

@test "track run --input records the file's sha256, size, rows and columns" {
	printf 'a,b,c\n1,2,3\n4,5,6\n' >data.csv
	cnai -q track run --name in --input data.csv -- true
	run cnai track show in --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r '.inputs | length')" "1"
	assert_equal "$(echo "$output" | jq -r '.inputs[0].digest')" "sha256:$(sha256sum data.csv | cut -d' ' -f1)"
	assert_equal "$(echo "$output" | jq -r '.inputs[0].path')" "$(pwd -P)/data.csv"
	assert_equal "$(echo "$output" | jq -c '.inputs[0] | [.size, .rows, .columns]')" "[18,2,3]"
}

@test "track run --input of a file that is not a table records no rows or columns" {
	printf 'just some bytes' >blob.bin
	cnai -q track run --name bin --input blob.bin -- true
	run cnai track show bin --json
	assert_equal "$(echo "$output" | jq -r '.inputs[0].digest')" "sha256:$(sha256sum blob.bin | cut -d' ' -f1)"
	assert_equal "$(echo "$output" | jq -c '.inputs[0] | [.size, .rows, .columns]')" "[15,null,null]"
}

@test "a malformed CSV input is an error naming file and line, and no run is recorded" {
	printf 'a,b\n1,2\n3\n' >bad.csv
	before=$(store_state)
	run --separate-stderr cnai track run --input bad.csv -- touch ran
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: bad.csv:3: expected 2 fields, found 1"
	assert_equal "$(store_state)" "$before"
	[ ! -e ran ]
}

@test "an --input that does not exist is an error and no run is recorded" {
	before=$(store_state)
	run --separate-stderr cnai track run --input missing.csv -- true
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: cannot read 'missing.csv': No such file or directory"
	assert_equal "$(store_state)" "$before"
}

@test "the command sees CNAI_RUN_ID and CNAI_STORE" {
	CNAI_RUN_ID=stale cnai -q track run --name env -- sh -c 'echo "$CNAI_RUN_ID $CNAI_STORE"' >out
	assert_equal "$(cat out)" "$(run_id env) $TEST_DIR/.cnai"
}

@test "the command can log to its run with plain cnai track log" {
	mkdir sub
	cd sub
	cnai -q track run --name child -- sh -c "cd / && '$CNAI_BIN' track log --metric from_child=1.5@2"
	run cnai track metrics child from_child --json
	assert_equal "$(echo "$output" | jq -c '[.[] | [.value, .step]]')" "[[1.5,2]]"
}

@test "stdout and stderr pass through unchanged and are kept as stdout.log and stderr.log" {
	cnai -q track run --name io -- sh -c 'echo out1; echo err1 >&2; echo out2' >out 2>err
	assert_equal "$(cat out)" "$(printf 'out1\nout2')"
	assert_equal "$(cat err)" "err1"
	cnai track cat io stdout.log >stored.out
	cnai track cat io stderr.log >stored.err
	cmp out stored.out
	cmp err stored.err
}

@test "binary output without a trailing newline passes through and is stored byte for byte" {
	printf 'a\000b\377\001tail' >bin.out
	printf '\000\000err-no-newline' >bin.err
	cnai -q track run --name bin -- sh -c 'cat bin.out; cat bin.err >&2' >out 2>err
	cmp bin.out out
	cmp bin.err err
	cnai track cat bin stdout.log >stored.out
	cnai track cat bin stderr.log >stored.err
	cmp bin.out stored.out
	cmp bin.err stored.err
}

@test "a megabyte of output passes through whole" {
	head -c 1048576 /dev/urandom >big
	cnai -q track run --name big -- cat big >out
	cmp big out
	cnai track cat big stdout.log | cmp big -
}

@test "without -q cnai's own notices go to stderr but not into stderr.log" {
	run --separate-stderr cnai track run --name notes -- sh -c 'echo child-err >&2'
	[ "$status" -eq 0 ]
	id=$(run_id notes)
	assert_equal "$stderr" "$(printf 'cnai: run %s started\nchild-err\ncnai: run %s FINISHED (exit 0)' "$id" "$id")"
	assert_equal "$(cnai track cat notes stderr.log)" "child-err"
}

@test "an empty output is stored as empty logs" {
	cnai -q track run --name quiet -- true
	run cnai track artifacts quiet --json
	assert_equal "$(echo "$output" | jq -c '[.[] | [.name, .size]]')" '[["stderr.log",0],["stdout.log",0]]'
}

@test "exit status 0 passes through and the run is FINISHED" {
	run cnai -q track run --name ok -- sh -c 'exit 0'
	[ "$status" -eq 0 ]
	assert_equal "$(cnai track show ok --json | jq -c '[.status, .exit_code]')" '["FINISHED",0]'
}

@test "exit status 3 passes through and the run is FAILED" {
	run cnai -q track run --name three -- sh -c 'exit 3'
	[ "$status" -eq 3 ]
	assert_equal "$(cnai track show three --json | jq -c '[.status, .exit_code]')" '["FAILED",3]'
}

@test "exit status 42 passes through and the run is FAILED" {
	run cnai -q track run --name answer -- sh -c 'exit 42'
	[ "$status" -eq 42 ]
	assert_equal "$(cnai track show answer --json | jq -c '[.status, .exit_code]')" '["FAILED",42]'
}

@test "a command killed by a signal makes the run KILLED with exit status 128+signal" {
	run cnai -q track run --name sig -- sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
	assert_equal "$(cnai track show sig --json | jq -c '[.status, .exit_code]')" '["KILLED",137]'
}

@test "SIGTERM sent to cnai is forwarded to the command and the run ends KILLED" {
	"$CNAI_BIN" -q track run --name victim -- \
		sh -c 'trap "exit 143" TERM; sleep 30 & echo $! >sleep.pid; wait' \
		3>&- >out 2>err &
	pid=$!
	for _ in $(seq 100); do
		[ -s sleep.pid ] &&
			[ "$(cnai track ls --json | jq -r '.[0].status')" = RUNNING ] &&
			break
		sleep 0.1
	done
	[ -s sleep.pid ]
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 143 ]
	assert_equal "$(cnai track show victim --json | jq -c '[.status, .exit_code]')" '["KILLED",143]'
}

@test "SIGINT sent to cnai with kill is forwarded to the command too" {
	"$CNAI_BIN" -q track run --name int -- \
		sh -c 'trap "exit 130" INT; sleep 30 & echo $! >sleep.pid; wait' \
		3>&- >out 2>err &
	pid=$!
	for _ in $(seq 100); do
		[ -s sleep.pid ] && break
		sleep 0.1
	done
	[ -s sleep.pid ]
	kill -INT "$pid"
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 130 ]
	assert_equal "$(cnai track show int --json | jq -c '[.status, .exit_code]')" '["KILLED",130]'
}

@test "a command that is not found exits 127 and the run is FAILED" {
	run -127 --separate-stderr cnai -q track run --name nf -- no-such-command-xyz
	[ "$status" -eq 127 ]
	assert_equal "$stderr" "cnai: error: cannot run 'no-such-command-xyz': No such file or directory"
	assert_equal "$(cnai track show nf --json | jq -c '[.status, .exit_code]')" '["FAILED",127]'
}

@test "the command's own options pass through after --" {
	cnai -q track run --name opts -- sh -c 'echo "$@"' sh -p --name x >out
	assert_equal "$(cat out)" "-p --name x"
	assert_equal "$(run_field opts command)" "sh -c 'echo \"\$@\"' sh -p --name x"
}

@test "-p, --param, --tag, --experiment and --name are recorded" {
	cnai -q track run --experiment vision --name tagged -p lr=0.01 --param 'batch size=64' \
		--tag team=cv --tag stage=dev -- true
	run cnai track show tagged --json
	assert_equal "$(echo "$output" | jq -c '[.name, .experiment, .params, .tags]')" \
		'["tagged","vision",{"batch size":"64","lr":"0.01"},{"stage":"dev","team":"cv"}]'
}

@test "track run --json prints the ended run" {
	run --separate-stderr cnai -q track run --json --name j -- true
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '[.name, .status, .exit_code]')" '["j","FINISHED",0]'
}

@test "a -p without '=' is a usage error and nothing is recorded" {
	before=$(store_state)
	run --separate-stderr cnai track run -p lr -- touch ran
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --param 'lr' is not KEY=VALUE"
	assert_equal "$(store_state)" "$before"
	[ ! -e ran ]
}

@test "a --tag without '=' is a usage error and nothing is recorded" {
	before=$(store_state)
	run --separate-stderr cnai track run --tag team -- true
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --tag 'team' is not KEY=VALUE"
	assert_equal "$(store_state)" "$before"
}

@test "a param name with a forbidden character is an error and nothing is recorded" {
	before=$(store_state)
	run --separate-stderr cnai track run -p 'l$r=1' -- true
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: param name 'l\$r': character '\$' is not allowed (use letters, digits, '_', '-', '.', ' ', '/', ':')"
	assert_equal "$(store_state)" "$before"
}

@test "one param given two values is an error and nothing is recorded" {
	before=$(store_state)
	run --separate-stderr cnai track run -p lr=1 -p lr=2 -- touch ran
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: param 'lr' given twice: '1' and '2'; params cannot change"
	assert_equal "$(store_state)" "$before"
	[ ! -e ran ]
}

@test "one param given twice with the same value is fine" {
	cnai -q track run --name same -p lr=1 -p lr=1 -- true
	assert_equal "$(run_field same params.lr)" "1"
}

@test "track run without a command is a usage error and nothing is recorded" {
	before=$(store_state)
	run --separate-stderr cnai track run --name none
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: no command to run; usage: cnai track run [--experiment <name>] [--name <name>] [-p <key>=<value>]... [--tag <key>=<value>]... [--input <path>]... -- <command> [<arg>...]"
	assert_equal "$(store_state)" "$before"
}

@test "an empty --name or --experiment is a usage error" {
	before=$(store_state)
	run --separate-stderr cnai track run --name '' -- true
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --name: empty name"
	run --separate-stderr cnai track run --experiment '' -- true
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --experiment: empty name"
	assert_equal "$(store_state)" "$before"
}
