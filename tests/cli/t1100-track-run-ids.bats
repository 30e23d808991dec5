#!/usr/bin/env bats
# Naming a run: its full id, a unique prefix of 4+ hex digits, or its name;
# ambiguity is an error listing the candidates.
load lib

setup() {
	setup_common
	cnai init >/dev/null
}

# Gives the run named $1 the id $2, so that prefixes can be chosen.
set_id() {
	sqlite3 .cnai/cnai.db "UPDATE runs SET uuid = '$2' WHERE name = '$1'"
}

@test "the full id selects a run" {
	id=$(cnai track start --name full)
	assert_equal "$(run_field "$id" name)" "full"
}

@test "a unique prefix of 4 or more characters selects a run" {
	cnai track start --name one >/dev/null
	cnai track start --name two >/dev/null
	set_id one 1234aaaa000000000000000000000000
	set_id two 1235bbbb000000000000000000000000
	assert_equal "$(run_field 1234 name)" "one"
	assert_equal "$(run_field 1235 name)" "two"
	assert_equal "$(run_field 1234aaaa name)" "one"
	assert_equal "$(run_field 1234aaaa000000000000000000000000 name)" "one"
}

@test "a name selects a run" {
	id=$(cnai track start --name baseline)
	assert_equal "$(run_id baseline)" "$id"
}

@test "every sub-command that takes a run accepts a prefix" {
	cnai track start --name p >/dev/null
	set_id p abcdef00000000000000000000000000
	cnai track log --run abcd --metric m=1
	assert_equal "$(cnai track metrics abcd --json | jq -r '.[0].value')" "1"
	assert_equal "$(cnai track artifacts abcd --json)" "[]"
	cnai track end abcd --status FAILED
	assert_equal "$(run_field abcd status)" "FAILED"
	run cnai track compare abcd abcde
	[ "$status" -eq 0 ]
	run cnai track rm abcd
	assert_equal "$output" "removed run abcdef00000000000000000000000000"
}

@test "an ambiguous prefix is an error listing the candidates" {
	cnai track start --name first >/dev/null
	cnai track start >/dev/null
	set_id first abcd1111000000000000000000000000
	sqlite3 .cnai/cnai.db "UPDATE runs SET uuid = 'abcd2222000000000000000000000000' WHERE name IS NULL"
	before=$(store_state)
	run --separate-stderr cnai track end abcd
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'abcd' is ambiguous: abcd11110000 (first), abcd22220000"
	assert_equal "$(store_state)" "$before"
	assert_equal "$(run_field abcd1 name)" "first"
}

@test "a name two runs share is ambiguous and lists both" {
	a=$(cnai track start --name twin)
	b=$(cnai track start --name twin)
	run --separate-stderr cnai track show twin
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'twin' is ambiguous: ${a:0:12} (twin), ${b:0:12} (twin)"
	assert_equal "$output" ""
	assert_equal "$(run_field "$a" name)" "twin"
}

@test "an ambiguous name in track log writes nothing" {
	cnai track start --name twin >/dev/null
	cnai track start --name twin >/dev/null
	before=$(store_state)
	run --separate-stderr cnai track log --run twin --metric m=1
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "cnai: error: run 'twin' is ambiguous: "
	assert_equal "$(store_state)" "$before"
}

@test "a prefix shorter than 4 characters does not select and says why" {
	cnai track start --name short >/dev/null
	set_id short abc00000000000000000000000000000
	run --separate-stderr cnai track show abc
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'abc' not found (an id prefix needs at least 4 characters)"
}

@test "a reference that matches nothing is not found" {
	cnai track start --name some >/dev/null
	run --separate-stderr cnai track show ffff
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'ffff' not found"
	run --separate-stderr cnai track show no-such-name
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'no-such-name' not found"
}

@test "a prefix in capitals is not an id prefix" {
	cnai track start --name up >/dev/null
	set_id up abcd0000000000000000000000000000
	run --separate-stderr cnai track show ABCD
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'ABCD' not found"
}

@test "a name that looks like an id prefix still selects by name" {
	cnai track start --name beef >/dev/null
	set_id beef 00000000000000000000000000000000
	assert_equal "$(run_field beef run_id)" "00000000000000000000000000000000"
}
