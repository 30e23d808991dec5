#!/usr/bin/env bats
# Global options and store discovery: --store, -C, CNAI_STORE, the nearest
# .cnai upward; --json before or after the command; -q; unknown commands
# and options with a "did you mean".
load lib

# A store in ./proj with one run named "one"; prints nothing.
make_store() {
	mkdir -p proj/sub/deep
	cnai init proj >/dev/null
	(cd proj && cnai -q track run --name one -- true)
}

names() {
	cnai "$@" track ls --columns name
}

@test "--store accepts the .cnai folder and the folder holding it" {
	make_store
	expect=$(printf 'NAME\none')
	run --separate-stderr cnai --store proj/.cnai track ls --columns name
	[ "$status" -eq 0 ]
	assert_equal "$output" "$expect"
	run --separate-stderr cnai --store "$TEST_DIR/proj" track ls --columns name
	[ "$status" -eq 0 ]
	assert_equal "$output" "$expect"
	run --separate-stderr cnai --store=proj track ls --columns name
	[ "$status" -eq 0 ]
	assert_equal "$output" "$expect"
}

@test "--store wins over CNAI_STORE and over the store of the working folder" {
	make_store
	cnai init >/dev/null # an empty store right here
	CNAI_STORE=$TEST_DIR run --separate-stderr cnai --store proj track ls --columns name
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(printf 'NAME\none')"
}

@test "CNAI_STORE names the store when --store is not given" {
	make_store
	CNAI_STORE=$TEST_DIR/proj run --separate-stderr cnai track ls --columns name
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(printf 'NAME\none')"
	CNAI_STORE=$TEST_DIR/proj/.cnai run --separate-stderr cnai track ls --columns name
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(printf 'NAME\none')"
}

@test "the store is found upward from a subfolder, as git finds .git" {
	make_store
	cd proj/sub/deep
	run --separate-stderr cnai track ls --columns name
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(printf 'NAME\none')"
}

@test "-C DIR runs as if started in DIR: discovery and relative paths" {
	make_store
	printf 'a\n' >proj/sub/note.txt
	run --separate-stderr cnai -C proj/sub/deep track ls --columns name
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(printf 'NAME\none')"
	run --separate-stderr cnai -C proj/sub track log --run one --artifact note.txt
	[ "$status" -eq 0 ]
	run cnai -C proj track cat one note.txt
	assert_equal "$output" a
}

@test "-C to a folder that does not exist is exit 2" {
	run --separate-stderr cnai -C nowhere track ls
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: cannot change to 'nowhere': No such file or directory"
	[ -z "$output" ]
}

@test "no store anywhere is exactly one error line, exit 2" {
	mkdir empty && cd empty
	for cmd in "track ls" "config list" "fsck" "gc" "lineage x"; do
		run --separate-stderr cnai $cmd
		[ "$status" -eq 2 ]
		assert_equal "$stderr" "cnai: error: not in a cnai store (or any parent); run 'cnai init'"
		[ -z "$output" ]
	done
	[ -z "$(ls -A)" ]
}

@test "--store or CNAI_STORE naming a folder without a store is exit 2" {
	mkdir plain
	run --separate-stderr cnai --store plain track ls
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'plain' is not a cnai store; run 'cnai init'"
	CNAI_STORE=plain run --separate-stderr cnai track ls
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'plain' is not a cnai store; run 'cnai init'"
	[ -z "$(ls -A plain)" ]
}

@test "--json before or after the command prints the same" {
	make_store
	cd proj
	for cmd in "track ls" "track show one" "config list" "fsck" "lineage one"; do
		before=$(cnai --json $cmd)
		after=$(cnai $cmd --json)
		assert_equal "$after" "$before"
		echo "$before" | jq -e . >/dev/null
	done
}

@test "-q and --quiet silence notices but not errors" {
	cnai init >/dev/null
	run --separate-stderr cnai track run --name loud -- true
	[ "$status" -eq 0 ]
	assert_contains "$stderr" "cnai: run "
	run --separate-stderr cnai -q track run --name quiet -- true
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	run --separate-stderr cnai --quiet track run --name quiet2 -- echo hi
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	assert_equal "$output" hi
	run --separate-stderr cnai -q track show nothing-here
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'nothing-here' not found"
}

@test "--no-color and NO_COLOR are accepted" {
	cnai init >/dev/null
	run --separate-stderr cnai --no-color track ls
	[ "$status" -eq 0 ]
	assert_equal "$output" "ID  NAME  EXPERIMENT  STATUS  START  DURATION"
	NO_COLOR=1 run --separate-stderr cnai track ls
	[ "$status" -eq 0 ]
	assert_equal "$output" "ID  NAME  EXPERIMENT  STATUS  START  DURATION"
}

@test "an unknown command suggests the nearest one, exit 2" {
	cnai init >/dev/null
	before=$(store_state)
	run --separate-stderr cnai trak
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'trak' is not a cnai command; did you mean 'track'?"
	[ -z "$output" ]
	run --separate-stderr cnai frobnicate
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'frobnicate' is not a cnai command; see 'cnai --help'"
	run --separate-stderr cnai help trak
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'trak' is not a cnai command; did you mean 'track'?"
	assert_equal "$(store_state)" "$before"
}

@test "an unknown command outside a store gets the same message" {
	run --separate-stderr cnai trak
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'trak' is not a cnai command; did you mean 'track'?"
}

@test "an unknown global option suggests the nearest one, exit 2" {
	run --separate-stderr cnai --jsn track ls
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown option '--jsn'; did you mean '--json'?"
	run --separate-stderr cnai --sotre=x track ls
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown option '--sotre=x'; did you mean '--store'?"
	run --separate-stderr cnai --frobnicate track ls
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown option '--frobnicate'; see 'cnai --help'"
	run --separate-stderr cnai -x track ls
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown option '-x'; see 'cnai --help'"
	[ -z "$output" ]
}

@test "an unknown command option suggests the nearest one, exit 2" {
	cnai init >/dev/null
	before=$(store_state)
	run --separate-stderr cnai track ls --limt 3
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown option '--limt'; did you mean '--limit'?"
	run --separate-stderr cnai gc --dryrun
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown option '--dryrun'; did you mean '--dry-run'?"
	run --separate-stderr cnai lineage x --fromat dot
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown option '--fromat'; did you mean '--format'?"
	run --separate-stderr cnai track ls -z
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown option '-z'; see 'cnai track ls --help'"
	run --separate-stderr cnai fsck -z
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown option '-z'; see 'cnai fsck --help'"
	assert_equal "$(store_state)" "$before"
}

@test "a missing option value is exit 2 naming the option" {
	cnai init >/dev/null
	before=$(store_state)
	run --separate-stderr cnai --store
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: option '--store' needs a value"
	run --separate-stderr cnai -C
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: option '-C' needs a value"
	run --separate-stderr cnai track ls --limit
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: option '--limit' needs a value"
	run --separate-stderr cnai gc --keep-recent
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: option '--keep-recent' needs a value"
	assert_equal "$(store_state)" "$before"
}

@test "no command prints the usage on stderr, exit 2" {
	run --separate-stderr cnai
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	expect="$(cnai --help | sed -n '1,/^$/p' | sed '/^$/d')
see 'cnai --help' for the commands"
	assert_equal "$stderr" "$expect"
	run --separate-stderr cnai --json -q
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "$expect"
}

@test "cnai track with an unknown sub-command suggests the nearest, exit 2" {
	cnai init >/dev/null
	before=$(store_state)
	run --separate-stderr cnai track lss
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown 'track' sub-command 'lss'; did you mean 'ls'?"
	run --separate-stderr cnai track rn -- true
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown 'track' sub-command 'rn'; did you mean 'rm'?"
	run --separate-stderr cnai track xyzzyx
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown 'track' sub-command 'xyzzyx'; see 'cnai track --help'"
	[ -z "$output" ]
	assert_equal "$(store_state)" "$before"
}

@test "cnai track with no sub-command prints its usage on stderr, exit 2" {
	cnai init >/dev/null
	run --separate-stderr cnai track
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_equal "$stderr" "$(cnai track --help)"
}
