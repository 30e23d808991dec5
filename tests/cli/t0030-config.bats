#!/usr/bin/env bats
# cnai config: get, set, unset, list of .cnai/config (git-config format).
load lib

setup() {
	setup_common
	cnai init >/dev/null
}

@test "a new store's config lists its format version" {
	run --separate-stderr cnai config list
	[ "$status" -eq 0 ]
	assert_equal "$output" "core.repositoryformatversion=1"
	[ -z "$stderr" ]
}

@test "set then get returns the value; set prints nothing" {
	run --separate-stderr cnai config set user.team vision
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
	run --separate-stderr cnai config get user.team
	[ "$status" -eq 0 ]
	assert_equal "$output" vision
}

@test "set replaces a value, and list shows keys in file order" {
	cnai config set user.team vision
	cnai config set remote.origin.url https://example.com/x
	cnai config set user.team audio
	run --separate-stderr cnai config list
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(printf '%s\n' core.repositoryformatversion=1 \
		user.team=audio remote.origin.url=https://example.com/x)"
}

@test "the file is read by git config, quotes and backslashes included" {
	cnai config set user.name 'Ann "the" Lee \ x'
	cnai config set remote.origin.url https://example.com/x
	run git config -f .cnai/config --get user.name
	[ "$status" -eq 0 ]
	assert_equal "$output" 'Ann "the" Lee \ x'
	run git config -f .cnai/config --get remote.origin.url
	assert_equal "$output" https://example.com/x
	run git config -f .cnai/config --get core.repositoryformatversion
	assert_equal "$output" 1
}

@test "a value git config writes is read by cnai config" {
	git config -f .cnai/config user.email ann@example.com
	run --separate-stderr cnai config get user.email
	[ "$status" -eq 0 ]
	assert_equal "$output" ann@example.com
}

@test "section and name are case-insensitive, as in git" {
	cnai config set User.Team vision
	run --separate-stderr cnai config get user.team
	[ "$status" -eq 0 ]
	assert_equal "$output" vision
	run cnai config get USER.TEAM
	assert_equal "$output" vision
}

@test "unset removes the key" {
	cnai config set user.team vision
	run --separate-stderr cnai config unset user.team
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run --separate-stderr cnai config get user.team
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: config key 'user.team' is not set"
	run git config -f .cnai/config --get user.team
	[ "$status" -eq 1 ]
}

@test "get --json and list --json print objects" {
	cnai config set user.team vision
	run --separate-stderr cnai config get user.team --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c .)" '{"key":"user.team","value":"vision"}'
	run --separate-stderr cnai --json config list
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c .)" \
		'{"core.repositoryformatversion":"1","user.team":"vision"}'
}

@test "a key without a section is exit 2 and writes nothing" {
	before=$(cat .cnai/config)
	for key in team .team team.; do
		run --separate-stderr cnai config set "$key" x
		[ "$status" -eq 2 ]
		assert_equal "$stderr" "cnai: error: key '$key' has no section: use section.name (for example core.editor)"
		[ -z "$output" ]
	done
	run --separate-stderr cnai config get team
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: key 'team' has no section: use section.name (for example core.editor)"
	assert_equal "$(cat .cnai/config)" "$before"
}

@test "an invalid key is exit 2 and writes nothing" {
	before=$(cat .cnai/config)
	run --separate-stderr cnai config set 'bad key.x' v
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "cnai: error: $TEST_DIR/.cnai/config: bad key.x: "
	assert_equal "$(cat .cnai/config)" "$before"
}

@test "unset of a key that is not set is exit 2 and writes nothing" {
	before=$(cat .cnai/config)
	run --separate-stderr cnai config unset user.none
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: config key 'user.none' is not set"
	[ -z "$output" ]
	assert_equal "$(cat .cnai/config)" "$before"
}

@test "get of a key that is not set is exit 2" {
	run --separate-stderr cnai config get user.none
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: config key 'user.none' is not set"
	[ -z "$output" ]
}

@test "wrong argument counts are exit 2 and write nothing" {
	before=$(cat .cnai/config)
	run --separate-stderr cnai config get
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'config get' takes 1 argument; see 'cnai config --help'"
	run --separate-stderr cnai config get a.b c.d
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'config get' takes 1 argument; see 'cnai config --help'"
	run --separate-stderr cnai config set a.b
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'config set' takes 2 arguments; see 'cnai config --help'"
	run --separate-stderr cnai config set a.b c d
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'config set' takes 2 arguments; see 'cnai config --help'"
	run --separate-stderr cnai config unset
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'config unset' takes 1 argument; see 'cnai config --help'"
	run --separate-stderr cnai config list extra
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'config list' takes 0 arguments; see 'cnai config --help'"
	[ -z "$output" ]
	assert_equal "$(cat .cnai/config)" "$before"
}

@test "an unknown sub-command is exit 2" {
	run --separate-stderr cnai config frob
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown 'config' sub-command 'frob' (get, set, unset, list)"
	[ -z "$output" ]
}

@test "no sub-command prints the usage on stderr, exit 2" {
	run --separate-stderr cnai config
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_equal "$stderr" "$(cnai config --help)"
}

@test "config works from a subfolder and with --store" {
	mkdir -p a/b
	cnai config set user.team vision
	run --separate-stderr cnai -C a/b config get user.team
	[ "$status" -eq 0 ]
	assert_equal "$output" vision
	cd /
	run --separate-stderr cnai --store "$TEST_DIR" config get user.team
	[ "$status" -eq 0 ]
	assert_equal "$output" vision
}
