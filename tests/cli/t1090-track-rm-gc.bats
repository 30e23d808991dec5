#!/usr/bin/env bats
# cnai track rm, then cnai gc: a removed run's rows go at once, its blobs
# when gc finds nothing else refers to them.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	printf 'a,b\n1,2\n' >data.csv
	cnai -q track run --name gone -p lr=0.1 --tag team=cv --input data.csv -- \
		sh -c 'echo only-in-gone; echo gone-err >&2' >/dev/null 2>&1
	cnai track log --run gone --metric acc=0.5@1 --metric acc=0.6@2
	cnai -q track run --name kept -p lr=0.2 -- sh -c 'echo kept-out' >/dev/null
}

# Rows that belong to the run with uuid $1, over every per-run table.
rows_of() {
	sqlite3 .cnai/cnai.db "
		SELECT (SELECT count(*) FROM params WHERE run = r.id)
		     + (SELECT count(*) FROM tags WHERE run = r.id)
		     + (SELECT count(*) FROM metrics WHERE run = r.id)
		     + (SELECT count(*) FROM latest_metrics WHERE run = r.id)
		     + (SELECT count(*) FROM artifacts WHERE run = r.id)
		     + 1
		FROM runs r WHERE r.uuid = '$1'
		UNION ALL SELECT 0 LIMIT 1"
}

blob() {
	echo ".cnai/oci/blobs/sha256/$(printf '%s' "$1" | sha256sum | cut -d' ' -f1)"
}

@test "track rm -h prints its synopsis outside a store" {
	rm -rf .cnai
	run cnai track rm -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai track rm <run>..."
}

@test "track rm removes the run and every row it logged" {
	id=$(run_id gone)
	kept=$(run_id kept)
	assert_equal "$(rows_of "$id")" "8"
	run --separate-stderr cnai track rm gone
	[ "$status" -eq 0 ]
	assert_equal "$output" "removed run $id"
	assert_equal "$(rows_of "$id")" "0"
	assert_equal "$(sqlite3 .cnai/cnai.db "SELECT count(*) FROM entities WHERE kind = 'run' AND ref = '$id'")" "0"
	assert_equal "$(sqlite3 .cnai/cnai.db "SELECT count(*) FROM edges e JOIN entities d ON d.id = e.src WHERE d.kind = 'dataset'")" "0"
	assert_equal "$(cnai track ls --json | jq -c '[.[] | .run_id]')" "[\"$kept\"]"
	assert_equal "$(rows_of "$kept")" "4"
}

@test "track rm leaves the blobs until gc removes them" {
	[ -f "$(blob $'only-in-gone\n')" ]
	cnai track rm gone >/dev/null
	[ -f "$(blob $'only-in-gone\n')" ]
	run cnai gc --keep-recent 0
	[ "$status" -eq 0 ]
	[ ! -e "$(blob $'only-in-gone\n')" ]
	[ ! -e "$(blob $'gone-err\n')" ]
	[ -f "$(blob $'kept-out\n')" ]
	cnai track cat kept stdout.log | cmp - <(printf 'kept-out\n')
}

@test "after track rm and gc, fsck finds no problem" {
	cnai track rm gone >/dev/null
	cnai gc --keep-recent 0 >/dev/null
	run --separate-stderr cnai fsck --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '[.blobs, .problems]')" '[2,[]]'
}

@test "gc keeps a blob that another run still refers to" {
	echo shared >shared.txt
	cnai track log --run gone --artifact shared.txt
	cnai track log --run kept --artifact shared.txt
	cnai track rm gone >/dev/null
	cnai gc --keep-recent 0 >/dev/null
	cnai track cat kept shared.txt | cmp shared.txt -
	run cnai fsck
	[ "$status" -eq 0 ]
}

@test "track rm takes several runs and --json lists them" {
	a=$(run_id gone)
	b=$(run_id kept)
	run cnai track rm --json gone kept
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c .removed)" "[\"$a\",\"$b\"]"
	assert_equal "$(cnai track ls --json)" "[]"
}

@test "track rm of an unknown run is an error and removes nothing" {
	before=$(store_state)
	run --separate-stderr cnai track rm nope
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'nope' not found"
	assert_equal "$output" ""
	assert_equal "$(store_state)" "$before"
}

@test "track rm with one unknown run among good ones removes none of them" {
	before=$(store_state)
	run --separate-stderr cnai track rm gone nope kept
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'nope' not found"
	assert_equal "$(store_state)" "$before"
}

@test "track rm without a run is a usage error" {
	before=$(store_state)
	run --separate-stderr cnai track rm
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'track rm' needs a run; usage: cnai track rm <run>..."
	assert_equal "$(store_state)" "$before"
}

@test "a removed run cannot be shown" {
	cnai track rm gone >/dev/null
	run --separate-stderr cnai track show gone
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'gone' not found"
}
