#!/usr/bin/env bats
# cnai track ls: the table, --experiment, --order-by, --limit, --columns,
# --json.
load lib

setup() {
	setup_common
	cnai init >/dev/null
}

# run NAME EXPERIMENT LR TEAM ACC STATUS: one ended run.
mkrun() {
	local id
	id=$(cnai track start --name "$1" --experiment "$2" -p "lr=$3" --tag "team=$4")
	cnai track log --run "$id" --metric "acc=$5"
	cnai track end "$id" --status "$6"
}

# Four runs, made in this order (so newest first is r4 r3 r2 r1).
four_runs() {
	mkrun r1 E1 0.01 a 0.95 FINISHED
	mkrun r2 E1 0.1 b 0.80 FAILED
	mkrun r3 E2 0.01 b 0.99 FINISHED
	mkrun r4 E2 0.5 c 0.5 KILLED
}

@test "track ls -h prints its synopsis outside a store" {
	rm -rf .cnai
	run cnai track ls -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai track ls [--experiment <name>] [--filter <expr>] [--order-by '<key> [ASC|DESC]']... [--limit <n>] [--columns <list>]"
}

@test "track ls on an empty store prints the header only" {
	run --separate-stderr cnai track ls
	[ "$status" -eq 0 ]
	assert_equal "$output" "ID  NAME  EXPERIMENT  STATUS  START  DURATION"
}

@test "track ls --json on an empty store prints []" {
	run --separate-stderr cnai track ls --json
	[ "$status" -eq 0 ]
	assert_equal "$output" "[]"
}

@test "track ls shows id, name, experiment, status, start and duration, newest first" {
	four_runs
	running=$(cnai track start)
	run cnai track ls
	[ "$status" -eq 0 ]
	assert_equal "${#lines[@]}" "6"
	assert_equal "$(echo "${lines[0]}" | tr -s ' ')" "ID NAME EXPERIMENT STATUS START DURATION"
	assert_equal "$(printf '%s\n' "${lines[@]:1}" | awk '{ print $2, $3, $4 }')" \
		"$(printf -- '- Default RUNNING\nr4 E2 KILLED\nr3 E2 FINISHED\nr2 E1 FAILED\nr1 E1 FINISHED')"
	# a 12-digit id, a date and time, and no duration while running
	[[ "${lines[1]}" =~ ^${running:0:12}\ +-\ +Default\ +RUNNING\ +[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ +-$ ]]
	[[ "${lines[2]}" =~ \ [0-9.]+s$ ]]
}

@test "track ls --experiment lists only that experiment's runs" {
	four_runs
	run cnai track ls --experiment E1 --columns name,experiment
	assert_equal "$output" "$(printf 'NAME  EXPERIMENT\nr2    E1\nr1    E1')"
}

@test "track ls --experiment of an unknown experiment lists nothing" {
	four_runs
	run cnai track ls --experiment nope --json
	[ "$status" -eq 0 ]
	assert_equal "$output" "[]"
}

@test "track ls --columns picks and orders columns, keys as written" {
	four_runs
	run cnai track ls --columns 'name, metrics.acc,params.lr,tags.team,exit_code,status'
	[ "$status" -eq 0 ]
	cat >expect <<'EOF'
NAME  metrics.acc  params.lr  tags.team  EXIT_CODE  STATUS
r4    0.5          0.5        c          -          KILLED
r3    0.99         0.01       b          -          FINISHED
r2    0.8          0.1        b          -          FAILED
r1    0.95         0.01       a          -          FINISHED
EOF
	echo "$output" >actual
	diff -u expect actual
}

@test "track ls --columns shows end, user, exit code and git commit" {
	cnai -q track run --name done -- sh -c 'exit 4' || true
	run cnai track ls --columns name,exit_code,user,git_commit,end
	assert_equal "$(echo "${lines[1]}" | awk '{ print $1, $2, $3, $4 }')" "done 4 $(id -un) -"
	[[ "${lines[1]}" =~ [0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}$ ]]
}

@test "an unknown --columns entry is a usage error" {
	run --separate-stderr cnai track ls --columns name,bogus
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --columns: unknown column 'bogus' (id, name, experiment, status, start, end, duration, exit_code, user, git_commit, metrics.<key>, params.<key>, tags.<key>)"
	run --separate-stderr cnai track ls --columns ,
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --columns: no columns"
}

@test "track ls --order-by 'metrics.acc DESC' sorts by the latest metric" {
	four_runs
	run cnai track ls --order-by 'metrics.acc DESC' --columns name,metrics.acc
	assert_equal "$output" "$(printf 'NAME  metrics.acc\nr3    0.99\nr1    0.95\nr2    0.8\nr4    0.5')"
	run cnai track ls --order-by 'metrics.acc' --columns name
	assert_equal "$(echo "$output" | tail -n +2 | tr '\n' ' ')" "r4 r2 r1 r3 "
}

@test "several --order-by keys sort by the first, then the next" {
	four_runs
	run cnai track ls --order-by 'params.lr ASC' --order-by 'metrics.acc DESC' --columns name,params.lr,metrics.acc
	cat >expect <<'EOF'
NAME  params.lr  metrics.acc
r3    0.01       0.99
r1    0.01       0.95
r2    0.1        0.8
r4    0.5        0.5
EOF
	echo "$output" >actual
	diff -u expect actual
}

@test "track ls --order-by an attribute sorts by it" {
	four_runs
	run cnai track ls --order-by 'attributes.start_time ASC' --columns name
	assert_equal "$(echo "$output" | tail -n +2 | tr '\n' ' ')" "r1 r2 r3 r4 "
	run cnai track ls --order-by 'attributes.run_name DESC' --columns name
	assert_equal "$(echo "$output" | tail -n +2 | tr '\n' ' ')" "r4 r3 r2 r1 "
}

@test "a bad --order-by is a usage error pointing at the column" {
	run --separate-stderr cnai track ls --order-by 'metrics.acc SIDEWAYS'
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: order-by: column 13: expected ASC, DESC or end of order-by, found 'SIDEWAYS'"
	run --separate-stderr cnai track ls --order-by 'bogus'
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: order-by: column 1: unknown attribute 'bogus' (expected end_time, exit_code, experiment, git_branch, git_commit, host, run_id, run_name, start_time, status or user)"
}

@test "track ls --limit shows at most n runs" {
	four_runs
	run cnai track ls --limit 2 --columns name
	assert_equal "$output" "$(printf 'NAME\nr4\nr3')"
	run cnai track ls --limit 1 --order-by 'metrics.acc DESC' --json
	assert_equal "$(echo "$output" | jq -c '[.[] | .name]')" '["r3"]'
}

@test "a --limit below 1 or not a number is a usage error" {
	run --separate-stderr cnai track ls --limit 0
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --limit: must be at least 1"
	run --separate-stderr cnai track ls --limit ten
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --limit: 'ten' is not a whole number"
}

@test "track ls --json is an array of runs with stable field names" {
	four_runs
	run --separate-stderr cnai track ls --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq length)" "4"
	assert_equal "$(echo "$output" | jq -c '.[0] | keys_unsorted')" \
		'["run_id","name","experiment","status","start_time","end_time","exit_code","user","git_commit","parent_run_id","params","metrics","tags"]'
	assert_equal "$(echo "$output" | jq -c '.[3] | [.name, .experiment, .status, .params, .metrics, .tags, .exit_code, .parent_run_id, .git_commit]')" \
		'["r1","E1","FINISHED",{"lr":"0.01"},{"acc":0.95},{"team":"a"},null,null,null]'
	[[ "$(echo "$output" | jq -r '.[0].run_id')" =~ ^[0-9a-f]{32}$ ]]
	assert_equal "$(echo "$output" | jq -r '.[0] | (.end_time >= .start_time)')" "true"
}

@test "cnai --json track ls prints the same as track ls --json" {
	four_runs
	a=$(cnai --json track ls --filter "params.lr = '0.01'")
	b=$(cnai track ls --filter "params.lr = '0.01'" --json)
	assert_equal "$a" "$b"
	assert_equal "$(echo "$a" | jq length)" "2"
}

@test "track ls with an argument is a usage error" {
	run --separate-stderr cnai track ls r1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'track ls': too many arguments; usage: cnai track ls [--experiment <name>] [--filter <expr>] [--order-by '<key> [ASC|DESC]']... [--limit <n>] [--columns <list>]"
}

@test "track ls does not write to the store" {
	four_runs
	before=$(store_state)
	cnai track ls >/dev/null
	cnai track ls --json --filter 'metrics.acc > 0' >/dev/null
	assert_equal "$(store_state)" "$before"
}
