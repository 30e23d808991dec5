#!/usr/bin/env bats
# cnai track show: one run, as text and as JSON.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	printf 'a,b,c\n1,2,3\n4,5,6\n' >data.csv
	printf '#!/bin/sh\necho hi\n"$CNAI_BIN" track log --metric acc=0.5@3\n' >train.sh
	chmod +x train.sh
	cnai -q track run --name shown -p lr=0.1 --tag team=cv --input data.csv -- \
		./train.sh >/dev/null
}

sha() {
	echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

@test "track show -h prints its synopsis outside a store" {
	rm -rf .cnai
	run cnai track show -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai track show <run>"
}

@test "track show prints the run, params, latest metrics, tags, inputs and artifacts" {
	run --separate-stderr cnai track show shown
	[ "$status" -eq 0 ]
	id=$(run_id shown)
	echo hi >hi.txt
	: >empty.txt
	cat >expect <<EOF
run         $id
name        shown
experiment  Default
status      FINISHED (exit 0)
start       T
end         T
duration    T
command     ./train.sh
cwd         $(pwd -P)
host        $(hostname)
user        $(id -un)

params:
  lr = 0.1

metrics (latest):
  acc = 0.5 (step 3)

tags:
  team = cv

inputs:
  $(sha data.csv)  $(pwd -P)/data.csv  2 rows x 3 columns

artifacts:
  stderr.log                    0  $(sha empty.txt)
  stdout.log                    3  $(sha hi.txt)
EOF
	# times vary: checked for their form below
	echo "$output" | sed -E 's/^(start|end|duration)( +).*/\1\2T/' >actual
	diff -u expect actual
	[[ "$(echo "$output" | grep '^start')" =~ ^start\ +[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}$ ]]
}

@test "track show of a run that has not ended shows no end or duration" {
	cnai track start --name open >/dev/null
	run cnai track show open
	assert_contains "$output" "status      RUNNING"
	[ -z "$(echo "$output" | grep -E '^(end|duration|params:) ')" ]
	[ -z "$(echo "$output" | grep -E '^(params|metrics|artifacts)')" ]
}

@test "track show --json has the run, params, metrics, tags, artifacts and inputs" {
	run --separate-stderr cnai track show shown --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c 'keys_unsorted')" \
		'["run_id","name","experiment","status","start_time","end_time","exit_code","user","git_commit","parent_run_id","command","cwd","host","git_branch","git_remote","git_dirty","params","metrics","tags","artifacts","inputs"]'
	assert_equal "$(echo "$output" | jq -c '[.name, .status, .exit_code, .params, .metrics, .tags]')" \
		'["shown","FINISHED",0,{"lr":"0.1"},{"acc":0.5},{"team":"cv"}]'
	echo hi >hi.txt
	assert_equal "$(echo "$output" | jq -c '.artifacts[] | select(.name == "stdout.log") | [.size, .digest]')" \
		"[3,\"$(sha hi.txt)\"]"
	assert_equal "$(echo "$output" | jq -c '[.artifacts[] | .name]')" '["stderr.log","stdout.log"]'
	assert_equal "$(echo "$output" | jq -r '.artifacts[0].created | type')" "number"
	assert_equal "$(echo "$output" | jq -c '.inputs')" \
		"[{\"digest\":\"$(sha data.csv)\",\"path\":\"$(pwd -P)/data.csv\",\"size\":18,\"rows\":2,\"columns\":3}]"
}

@test "cnai --json track show is the same as track show --json" {
	assert_equal "$(cnai --json track show shown)" "$(cnai track show shown --json)"
}

@test "track show without a run shows \$CNAI_RUN_ID" {
	id=$(run_id shown)
	run env CNAI_RUN_ID="$id" "$CNAI_BIN" track show --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r .name)" "shown"
}

@test "track show with no run and no CNAI_RUN_ID is a usage error" {
	run --separate-stderr cnai track show
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: no run given: name one, or set CNAI_RUN_ID (cnai track run sets it)"
}

@test "track show of an unknown run is an error" {
	run --separate-stderr cnai track show nothing-here
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'nothing-here' not found"
	assert_equal "$output" ""
}

@test "track show with two runs is a usage error" {
	run --separate-stderr cnai track show shown shown
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'track show': too many arguments; usage: cnai track show <run>"
}

@test "track show does not accept --plot" {
	run --separate-stderr cnai track show shown --plot
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown option '--plot'"
}
