#!/usr/bin/env bats
# cnai track metrics: a run's metric history, as a table, JSON or a chart.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	cnai track start --name r >/dev/null
	cnai track log --run r --metric loss=3@0 --metric loss=1@5 --metric loss=2@10 \
		--metric acc=0.5@1 --metric loss=nan@11
	cnai track log --run r --metric acc=0.75@2
}

@test "track metrics -h prints its synopsis outside a store" {
	rm -rf .cnai
	run cnai track metrics -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai track metrics <run> [<key>] [--plot]"
}

@test "track metrics lists every point by key and step" {
	run --separate-stderr cnai track metrics r
	[ "$status" -eq 0 ]
	assert_equal "$(echo "${lines[0]}" | tr -s ' ')" "KEY STEP VALUE TIME"
	assert_equal "$(echo "$output" | awk 'NR > 1 { print $1, $2, $3 }')" \
		"$(printf 'acc 1 0.5\nacc 2 0.75\nloss 0 3\nloss 5 1\nloss 10 2\nloss 11 nan')"
	[[ "${lines[1]}" =~ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$ ]]
}

@test "track metrics RUN KEY lists one metric's history" {
	run cnai track metrics r acc
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | awk 'NR > 1 { print $1, $2, $3 }')" "$(printf 'acc 1 0.5\nacc 2 0.75')"
}

@test "track metrics --json gives key, value, step and timestamp" {
	run cnai track metrics r loss --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '[.[] | [.key, .step, .value]]')" \
		'[["loss",0,3],["loss",5,1],["loss",10,2],["loss",11,"NaN"]]'
	assert_equal "$(echo "$output" | jq -c '.[0] | keys_unsorted')" '["key","value","step","timestamp"]'
}

@test "track metrics of an unknown key is an error" {
	run --separate-stderr cnai track metrics r nokey
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run $(run_id r | cut -c1-12) has no metric 'nokey'"
	assert_equal "$output" ""
}

@test "track metrics of a run without metrics prints the header only" {
	cnai track start --name empty >/dev/null
	run cnai track metrics empty
	[ "$status" -eq 0 ]
	assert_equal "$output" "KEY  STEP  VALUE  TIME"
	run cnai track metrics empty --json
	assert_equal "$output" "[]"
}

@test "track metrics --plot draws the history between its min and max labels" {
	run --separate-stderr cnai track metrics r loss --plot
	[ "$status" -eq 0 ]
	assert_equal "${#lines[@]}" "15"
	assert_equal "${lines[0]}" "loss"
	# max on the top line, min on the bottom line, the axis below
	[[ "${lines[1]}" =~ ^\ +3\ \|\*\ *$ ]]
	[[ "${lines[12]}" =~ ^\ +1\ \|\ +\*\ *$ ]]
	[[ "${lines[13]}" =~ ^\ +\+-{64}$ ]]
	[[ "${lines[14]}" =~ ^\ +step\ 0\ +step\ 10$ ]]
	# three finite points: NaN is left out
	assert_equal "$(echo "$output" | sed -n '2,13p' | tr -cd '*' | wc -c)" "3"
	# the value 2 at step 10 sits on the right edge, half way up
	[[ "$(echo "$output" | sed -n '7p;8p')" =~ \*$ ]]
}

@test "track metrics --plot without a key draws one chart per metric" {
	run cnai track metrics r --plot
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | grep -cE '^(acc|loss)$')" "2"
	assert_equal "${lines[0]}" "acc"
	assert_equal "${lines[15]}" "loss"
}

@test "track metrics --plot of only non-finite values says so" {
	cnai track start --name nan >/dev/null
	cnai track log --run nan --metric m=nan --metric m=inf@1
	run cnai track metrics nan m --plot
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(printf 'm\n  (no finite values)')"
}

@test "track metrics without a run is a usage error" {
	run --separate-stderr cnai track metrics
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'track metrics' needs a run; usage: cnai track metrics <run> [<key>] [--plot]"
}

@test "track metrics with too many arguments is a usage error" {
	run --separate-stderr cnai track metrics r acc loss
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'track metrics': too many arguments; usage: cnai track metrics <run> [<key>] [--plot]"
}

@test "track metrics of an unknown run is an error" {
	run --separate-stderr cnai track metrics nope
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'nope' not found"
}
