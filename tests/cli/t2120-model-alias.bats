#!/usr/bin/env bats
# cnai model alias set|rm: aliases as the promotion mechanism, moved
# atomically, with a history of who moved them when.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	for v in 1 2 3; do
		printf 'weights %s\n' "$v" >w.bin
		cnai model register digits w.bin >/dev/null
	done
}

# The version an alias reference selects.
version_of() {
	cnai model show "$1" --json | jq -r .version
}

@test "model alias -h prints both synopses and exits 0 outside a store" {
	rm -rf .cnai
	run cnai model alias -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai model alias set <name> <alias> <version>"
	assert_equal "${lines[1]}" "   or: cnai model alias rm <name> <alias>"
}

@test "alias set points NAME@ALIAS at the version" {
	run cnai model alias set digits prod 2
	[ "$status" -eq 0 ]
	assert_equal "$output" "digits@prod -> 2"
	assert_equal "$(version_of digits@prod)" 2
	assert_equal "$(cnai model show digits@2 --json | jq -c .aliases)" '["prod"]'
}

@test "alias set --json reports name, alias and version" {
	run cnai --json model alias set digits prod 2
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c .)" '{"name":"digits","alias":"prod","version":2}'
}

@test "alias set again moves the alias and records each move with user and time" {
	before=$(date +%s%3N)
	cnai model alias set digits prod 1 >/dev/null
	cnai model alias set digits prod 3 >/dev/null
	after=$(date +%s%3N)
	assert_equal "$(version_of digits@prod)" 3
	assert_equal "$(cnai model show digits@1 --json | jq -c .aliases)" '[]'
	run cnai model show digits --json
	assert_equal "$(echo "$output" | jq -c '[.alias_history[] | [.alias, .version, .user]]')" \
		"[[\"prod\",1,\"$(id -un)\"],[\"prod\",3,\"$(id -un)\"]]"
	for t in $(echo "$output" | jq -r '.alias_history[].time'); do
		[ "$before" -le "$t" ] && [ "$t" -le "$after" ]
	done
}

@test "several aliases may point at one version" {
	cnai model alias set digits prod 2 >/dev/null
	cnai model alias set digits canary 2 >/dev/null
	assert_equal "$(cnai model show digits@2 --json | jq -c .aliases)" '["canary","prod"]'
}

@test "aliases belong to one model" {
	printf 'letters\n' >l.bin
	cnai model register letters l.bin >/dev/null
	cnai model alias set digits prod 2 >/dev/null
	run --separate-stderr cnai model show letters@prod
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'letters' has no alias 'prod'"
}

@test "alias rm removes the alias and records the removal" {
	cnai model alias set digits prod 2 >/dev/null
	run cnai model alias rm digits prod
	[ "$status" -eq 0 ]
	assert_equal "$output" "removed alias digits@prod"
	run --separate-stderr cnai model show digits@prod
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no alias 'prod'"
	assert_equal "$(cnai model show digits --json | jq -c '[.alias_history[] | [.alias, .version]]')" \
		'[["prod",2],["prod",null]]'
	run cnai model show digits
	assert_contains "$output" "prod removed  by $(id -un)"
}

@test "alias rm --json reports the removal" {
	cnai model alias set digits prod 2 >/dev/null
	run cnai --json model alias rm digits prod
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c .)" '{"name":"digits","alias":"prod","removed":true}'
}

@test "alias set to a version that does not exist is an error, exit 2, nothing written" {
	before=$(store_state)
	run --separate-stderr cnai model alias set digits prod 9
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no version 9"
	assert_equal "$(store_state)" "$before"
}

@test "alias set on an unknown model is an error, exit 2, nothing written" {
	before=$(store_state)
	run --separate-stderr cnai model alias set nosuch prod 1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'nosuch' not found"
	assert_equal "$(store_state)" "$before"
}

@test "an alias must start with a lowercase letter and cannot be 'latest'" {
	before=$(store_state)
	for alias in Prod latest 1abc 'a b' pr@d ''; do
		run --separate-stderr cnai model alias set digits "$alias" 1
		[ "$status" -eq 2 ]
		assert_equal "$stderr" "cnai: error: '$alias' is not a valid alias (a lowercase letter, then letters, digits, '_', '-'; not 'latest')"
	done
	assert_equal "$(store_state)" "$before"
}

@test "alias set with a version that is not a number is a usage error" {
	before=$(store_state)
	run --separate-stderr cnai model alias set digits prod two
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "cnai: error: "
	assert_contains "$stderr" "two"
	assert_equal "$(store_state)" "$before"
}

@test "alias rm of an alias that does not exist is an error, exit 2, nothing written" {
	before=$(store_state)
	run --separate-stderr cnai model alias rm digits prod
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no alias 'prod'"
	assert_equal "$(store_state)" "$before"
}

@test "alias with a wrong number of arguments or no set/rm is a usage error" {
	run --separate-stderr cnai model alias set digits prod
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: missing arguments; usage: cnai model alias set <name> <alias> <version>"
	run --separate-stderr cnai model alias rm digits
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: usage: cnai model alias rm <name> <alias>"
	run --separate-stderr cnai model alias move digits prod 1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: usage: cnai model alias set <name> <alias> <version> | cnai model alias rm <name> <alias>"
}

@test "concurrent alias moves leave the alias on one of the versions with every move in the history" {
	pids=()
	for v in 1 2 3 1 2 3; do
		cnai model alias set digits prod "$v" >/dev/null &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" # each one exits 0
	done
	v=$(version_of digits@prod)
	history=$(cnai model show digits --json)
	assert_equal "$(echo "$history" | jq '.alias_history | length')" 6
	assert_equal "$(echo "$history" | jq '.alias_history[-1].version')" "$v"
}
