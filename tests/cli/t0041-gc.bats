#!/usr/bin/env bats
# cnai gc: removes unreferenced blobs (older than --keep-recent) and stale
# temporary files, keeps referenced ones, checkpoints the WAL.
load lib

setup() {
	setup_common
	cnai init >/dev/null
}

blob_of() {
	echo ".cnai/oci/blobs/sha256/$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"
}

digest_of() {
	echo "sha256:$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"
}

# Run "keep" with artifact keep.txt and run "drop" with drop.txt, then
# "drop" removed: drop.txt's blob is unreferenced. Every blob is made an
# hour old.
make_garbage() {
	printf 'keep me' >keep.txt
	printf 'drop me' >drop.txt
	cnai -q track start --name keep >/dev/null
	cnai -q track start --name drop >/dev/null
	cnai track log --run keep --artifact keep.txt
	cnai track log --run drop --artifact drop.txt
	cnai track rm drop >/dev/null
	touch -d '1 hour ago' .cnai/oci/blobs/sha256/*
}

@test "gc of a new store removes nothing, exit 0" {
	run --separate-stderr cnai gc
	[ "$status" -eq 0 ]
	assert_equal "$output" "removed 0 unreferenced blobs (0 bytes)"
	[ -z "$stderr" ]
}

@test "gc removes an unreferenced blob older than the grace and keeps the rest" {
	make_garbage
	run --separate-stderr cnai gc
	[ "$status" -eq 0 ]
	assert_equal "$output" "removed 1 unreferenced blob (7 bytes)"
	[ ! -e "$(blob_of 'drop me')" ]
	[ -f "$(blob_of 'keep me')" ]
	run cnai track cat keep keep.txt
	assert_equal "$output" "keep me"
	run --separate-stderr cnai fsck
	[ "$status" -eq 0 ]
	assert_equal "$output" "checked 1 blob and 1 reference: 0 problems"
}

@test "referenced blobs are kept however old, even with --keep-recent 0" {
	make_garbage
	cnai -q track run --name logs -- echo hello
	touch -d '1 day ago' .cnai/oci/blobs/sha256/*
	cnai gc --keep-recent 0 >/dev/null
	[ -f "$(blob_of 'keep me')" ]
	[ -f .cnai/oci/blobs/sha256/5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03 ] # hello\n
	[ -f "$(blob_of '')" ]
	run --separate-stderr cnai fsck
	[ "$status" -eq 0 ]
	assert_equal "$output" "checked 3 blobs and 3 references: 0 problems"
}

@test "an unreferenced blob younger than --keep-recent is kept" {
	make_garbage
	touch "$(blob_of 'drop me')" # written just now
	run --separate-stderr cnai gc
	[ "$status" -eq 0 ]
	assert_equal "$output" "removed 0 unreferenced blobs (0 bytes)"
	[ -f "$(blob_of 'drop me')" ]
	run --separate-stderr cnai gc --keep-recent 7200
	assert_equal "$output" "removed 0 unreferenced blobs (0 bytes)"
	run --separate-stderr cnai gc --keep-recent 0
	[ "$status" -eq 0 ]
	assert_equal "$output" "removed 1 unreferenced blob (7 bytes)"
	[ ! -e "$(blob_of 'drop me')" ]
}

@test "--keep-recent is in seconds" {
	make_garbage
	touch -d '20 minutes ago' "$(blob_of 'drop me')"
	run cnai gc --keep-recent 1800
	assert_equal "$output" "removed 0 unreferenced blobs (0 bytes)"
	run cnai gc --keep-recent 600
	assert_equal "$output" "removed 1 unreferenced blob (7 bytes)"
}

@test "--dry-run lists what would go and removes nothing" {
	make_garbage
	printf 'more garbage' >g.txt
	cnai -q track start --name g >/dev/null
	cnai track log --run g --artifact g.txt
	cnai track rm g >/dev/null
	touch -d '1 hour ago' .cnai/oci/blobs/sha256/*
	before=$(store_state)
	ls -l .cnai/oci/blobs/sha256 >listing.before
	run --separate-stderr cnai gc --dry-run
	[ "$status" -eq 0 ]
	expect=$(printf 'would remove %s\n' "$(digest_of 'drop me')" "$(digest_of 'more garbage')" | sort
		echo "would remove 2 unreferenced blobs (19 bytes)")
	assert_equal "$output" "$expect"
	run --separate-stderr cnai gc -n
	assert_equal "$output" "$expect"
	assert_equal "$(store_state)" "$before"
	diff -u listing.before <(ls -l .cnai/oci/blobs/sha256)
}

@test "--json reports dry_run, count, bytes and the removed digests" {
	make_garbage
	run --separate-stderr cnai gc --dry-run --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c .)" \
		"{\"dry_run\":true,\"count\":1,\"bytes\":7,\"removed\":[\"$(digest_of 'drop me')\"]}"
	run --separate-stderr cnai --json gc
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c .)" \
		"{\"dry_run\":false,\"count\":1,\"bytes\":7,\"removed\":[\"$(digest_of 'drop me')\"]}"
	run cnai gc --json
	assert_equal "$(echo "$output" | jq -c .)" '{"dry_run":false,"count":0,"bytes":0,"removed":[]}'
}

@test "stale temporary files are removed, fresh ones kept" {
	dir=.cnai/oci/blobs/sha256
	printf 'partial' >$dir/.tmp-Stale1
	printf 'writing' >$dir/.tmp-Fresh1
	touch -d '2 hours ago' $dir/.tmp-Stale1
	run --separate-stderr cnai gc --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '[.count, .bytes, .removed]')" \
		"[1,7,[\"$TEST_DIR/$dir/.tmp-Stale1\"]]"
	[ ! -e $dir/.tmp-Stale1 ]
	[ -f $dir/.tmp-Fresh1 ]
}

@test "a blob shared by a removed run and a kept run stays" {
	printf 'shared' >s.txt
	cnai -q track start --name one >/dev/null
	cnai -q track start --name two >/dev/null
	cnai track log --run one --artifact s.txt
	cnai track log --run two --artifact s.txt
	cnai track rm one >/dev/null
	run cnai gc --keep-recent 0
	assert_equal "$output" "removed 0 unreferenced blobs (0 bytes)"
	run cnai track cat two s.txt
	assert_equal "$output" shared
}

@test "gc checkpoints the WAL; --dry-run does not" {
	for i in 1 2 3; do cnai -q track start --name "r$i" >/dev/null; done
	[ -s .cnai/cnai.db-wal ]
	cnai gc --dry-run >/dev/null
	[ -s .cnai/cnai.db-wal ]
	cnai gc >/dev/null
	[ ! -s .cnai/cnai.db-wal ]
	run sqlite3 .cnai/cnai.db 'SELECT count(*) FROM runs; PRAGMA integrity_check'
	assert_equal "$output" "$(printf '3\nok')"
}

@test "bad arguments are exit 2 and remove nothing" {
	make_garbage
	before=$(store_state)
	run --separate-stderr cnai gc --keep-recent -1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --keep-recent: must not be negative"
	run --separate-stderr cnai gc --keep-recent soon
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --keep-recent: 'soon' is not a whole number"
	run --separate-stderr cnai gc now
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'gc' takes no arguments"
	[ -z "$output" ]
	assert_equal "$(store_state)" "$before"
}
