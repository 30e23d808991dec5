#!/usr/bin/env bats
# Registering is one transaction: a missing file, a read-only blob folder, a
# full disk or a kill -9 leave no version, no alias and no dangling blob
# reference, and fsck stays clean. Concurrent registers number their
# versions without gaps or duplicates.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	printf 'weights one\n' >w1.bin
	cnai model register digits w1.bin >/dev/null
	cnai model alias set digits prod 1 >/dev/null
	printf 'weights two\n' >w2.bin
}

teardown() {
	if [ -n "${REG_PID:-}" ]; then
		kill -9 "$REG_PID" 2>/dev/null || true
	fi
	# The read-only test's immutable flag would stop rm -rf.
	chattr -i "$TEST_DIR/.cnai/oci/blobs/sha256" 2>/dev/null || true
	chmod u+w "$TEST_DIR/.cnai/oci/blobs/sha256" 2>/dev/null || true
	teardown_common
}

# The registry's rows, one line per version, alias and alias event.
registry_rows() {
	sqlite3 .cnai/cnai.db \
		"SELECT 'model', name FROM models;
		 SELECT 'version', model, version, manifest FROM model_versions;
		 SELECT 'file', version, path, digest FROM model_files;
		 SELECT 'alias', model, alias, version FROM aliases;
		 SELECT 'event', model, alias, version FROM alias_history;
		 SELECT 'entity', kind, ref FROM entities WHERE kind = 'model_version';"
}

# fsck finds nothing wrong.
assert_fsck_clean() {
	run cnai fsck
	[ "$status" -eq 0 ]
	assert_contains "$output" ": 0 problems"
}

@test "a missing file among several leaves the store as it was, exit 2" {
	before=$(store_state)
	run --separate-stderr cnai model register digits w2.bin gone.bin
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: cannot read 'gone.bin': No such file or directory"
	assert_equal "$(store_state)" "$before"
	assert_fsck_clean
}

# Root ignores file modes, so as root the folder is made immutable
# (chattr +i, which stops root too) instead of chmod a-w. The test is
# skipped where neither makes a file impossible to create there (a file
# system without the flag, no CAP_LINUX_IMMUTABLE).
@test "a read-only blob folder fails the register, exit 3, and leaves no version" {
	blobs=.cnai/oci/blobs/sha256
	if [ "$(id -u)" -ne 0 ]; then
		chmod a-w "$blobs"
	elif ! chattr +i "$blobs" 2>/dev/null; then
		skip "running as root and chattr +i is not supported here"
	fi
	if touch "$blobs/probe" 2>/dev/null; then
		rm -f "$blobs/probe"
		skip "cannot make the blob folder read-only here"
	fi
	before=$(store_state)
	run --separate-stderr cnai model register digits w2.bin
	[ "$status" -eq 3 ]
	assert_contains "$stderr" "cnai: error: cannot create a file in '"
	assert_contains "$stderr" "/oci/blobs/sha256'"
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	chattr -i "$blobs" 2>/dev/null || true
	chmod u+w "$blobs"
	assert_equal "$(store_state)" "$before"
	assert_equal "$(cnai model show digits@prod --json | jq -r .version)" 1
	assert_fsck_clean
}

# A full disk, for real: a 64 KiB tmpfs mounted over the blob folder in a
# private mount namespace (unshare -rm: a user namespace where this user is
# root, so no privilege is needed where unprivileged namespaces are
# allowed). The mount, and whatever reached it, is gone when cnai exits.
@test "a full disk fails the register, exit 3, and leaves no version" {
	if ! unshare -rm sh -c 'mount -t tmpfs -o size=64k tmpfs .cnai/oci/blobs/sha256' 2>/dev/null; then
		skip "unshare -rm and tmpfs mounts are not allowed here"
	fi
	head -c 1048576 /dev/urandom >big.bin
	rows=$(registry_rows)
	run --separate-stderr unshare -rm sh -c \
		'mount -t tmpfs -o size=64k tmpfs .cnai/oci/blobs/sha256 && exec "$0" model register digits big.bin' \
		"$CNAI_BIN"
	[ "$status" -eq 3 ]
	assert_contains "$stderr" "No space left on device"
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	assert_equal "$(registry_rows)" "$rows"
	assert_fsck_clean
}

@test "kill -9 while a large file is being stored leaves no version and a clean store" {
	truncate -s 4G big.bin # sparse: costs no disk until copied
	rows=$(registry_rows)
	"$CNAI_BIN" model register digits big.bin w2.bin >/dev/null 2>&1 &
	REG_PID=$!
	# Kill once the blob copy has started (its temporary file exists).
	for _ in $(seq 1000); do
		ls .cnai/oci/blobs/sha256/.tmp-* >/dev/null 2>&1 && break
		sleep 0.01
	done
	ls .cnai/oci/blobs/sha256/.tmp-* >/dev/null
	kill -9 "$REG_PID"
	wait "$REG_PID" || [ $? -eq 137 ]
	REG_PID=
	assert_equal "$(registry_rows)" "$rows"
	assert_fsck_clean
	# gc clears the partial copy; the next register works.
	cnai gc --keep-recent 0 >/dev/null
	assert_equal "$(ls -A .cnai/oci/blobs/sha256 | grep -c '^\.tmp-')" 0
	run cnai model register digits w2.bin
	[ "$status" -eq 0 ]
	assert_contains "$output" "registered digits@2 "
	assert_fsck_clean
}

@test "kill -9 at any moment leaves only whole versions" {
	mkdir m
	for i in $(seq 40); do printf 'file %s\n' "$i" >"m/f$i.bin"; done
	for i in $(seq 15); do
		printf 'round %s\n' "$i" >m/round.bin
		"$CNAI_BIN" model register digits m >/dev/null 2>&1 &
		REG_PID=$!
		sleep "$(printf '0.%03d' $((i * 7)))" # 7 ms to 105 ms
		kill -9 "$REG_PID" 2>/dev/null || true
		wait "$REG_PID" || true
	done
	REG_PID=
	# Some rounds finish, most die storing blobs or committing. Every
	# version that exists has all 41 files; no model_files row
	# without its version; numbers have no duplicates; fsck is clean.
	assert_equal "$(sqlite3 .cnai/cnai.db "SELECT count(*) FROM model_versions v WHERE v.version > 1 AND (SELECT count(*) FROM model_files f WHERE f.version = v.id) != 41")" 0
	assert_equal "$(sqlite3 .cnai/cnai.db 'SELECT count(*) FROM model_files WHERE version NOT IN (SELECT id FROM model_versions)')" 0
	assert_equal "$(sqlite3 .cnai/cnai.db 'SELECT count(*) - count(DISTINCT version) FROM model_versions')" 0
	assert_equal "$(cnai model show digits@prod --json | jq -r .version)" 1
	assert_fsck_clean
}

@test "4 concurrent registers of one name make 4 consecutive versions, no error" {
	pids=()
	for i in 1 2 3 4; do
		printf 'concurrent %s\n' "$i" >"c$i.bin"
	done
	for i in 1 2 3 4; do
		cnai --json model register digits "c$i.bin" >"out$i" 2>"err$i" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p"
	done
	assert_equal "$(cat err1 err2 err3 err4)" ""
	assert_equal "$(jq -s -c 'map(.version) | sort' out1 out2 out3 out4)" '[2,3,4,5]'
	assert_equal "$(jq -s -c 'map(.registered) | unique' out1 out2 out3 out4)" '[true]'
	assert_equal "$(cnai model ls digits --json | jq -c 'map(.version)')" '[5,4,3,2,1]'
	assert_equal "$(cnai model ls digits --json | jq '[.[].digest] | unique | length')" 5
	assert_fsck_clean
}

@test "4 concurrent registers of the same content make one version" {
	pids=()
	for i in 1 2 3 4; do
		cnai --json model register digits w2.bin >"out$i" 2>"err$i" &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p"
	done
	assert_equal "$(cat err1 err2 err3 err4)" ""
	assert_equal "$(jq -s -c 'map(.version) | unique' out1 out2 out3 out4)" '[2]'
	assert_equal "$(jq -s -c 'map(.registered) | sort' out1 out2 out3 out4)" '[false,false,false,true]'
	assert_equal "$(cnai model ls digits --json | jq -c 'map(.version)')" '[2,1]'
}
