#!/usr/bin/env bats
# cnai init: creating a store, and running it again.
load lib

@test "init creates the database, an OCI layout and a config file" {
	run cnai init
	[ "$status" -eq 0 ]
	assert_equal "$output" "Initialized empty cnai store in $TEST_DIR/.cnai"
	[ -f .cnai/cnai.db ]
	[ -f .cnai/config ]
	[ -d .cnai/oci/blobs/sha256 ]
	assert_equal "$(cat .cnai/oci/oci-layout)" '{"imageLayoutVersion":"1.0.0"}'
	run jq -r '.schemaVersion, .mediaType, (.manifests | length)' .cnai/oci/index.json
	assert_equal "$output" "$(printf '2\napplication/vnd.oci.image.index.v1+json\n0')"
}

@test "the database is SQLite in WAL mode that the sqlite3 shell opens" {
	cnai init >/dev/null
	run sqlite3 .cnai/cnai.db 'PRAGMA journal_mode; PRAGMA integrity_check;'
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(printf 'wal\nok')"
	run sqlite3 .cnai/cnai.db 'PRAGMA user_version'
	[ "$output" -ge 1 ]
}

@test "init again says the store exists and changes nothing" {
	cnai init >/dev/null
	before=$(store_state)
	config=$(cat .cnai/config)
	run cnai init
	[ "$status" -eq 0 ]
	assert_equal "$output" "cnai store already exists in $TEST_DIR/.cnai; nothing changed"
	assert_equal "$(store_state)" "$before"
	assert_equal "$(cat .cnai/config)" "$config"
}

@test "init DIR creates the store in that folder" {
	mkdir proj
	run cnai init proj
	[ "$status" -eq 0 ]
	[ -f proj/.cnai/cnai.db ]
	[ ! -e .cnai ]
}

@test "init --json reports the path and whether it was created" {
	run cnai init --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r '.created')" true
	run cnai --json init
	assert_equal "$(echo "$output" | jq -r '.created, .store')" "$(printf 'false\n%s' "$TEST_DIR/.cnai")"
}

@test "init into a folder that does not exist is an error, exit 2" {
	run --separate-stderr cnai init nowhere
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'nowhere' is not a folder"
	[ ! -e nowhere ]
}

@test "a store from a newer cnai is refused with a clear message" {
	cnai init >/dev/null
	sqlite3 .cnai/cnai.db 'PRAGMA user_version = 999'
	run --separate-stderr cnai track ls
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "store schema version 999 is newer than this cnai supports"
	assert_contains "$stderr" "upgrade cnai"
}
