#!/usr/bin/env bats
# cnai track artifacts / cat: listing a run's artifacts and reading one.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	cnai track start --name r >/dev/null
	printf 'model weights\n' >model.bin
	printf 'a\000b\377no newline' >raw.bin
	cnai track log --run r --artifact model.bin --artifact raw.bin:data/raw.bin
}

sha() {
	echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

@test "track artifacts and track cat -h print their synopses outside a store" {
	rm -rf .cnai
	run cnai track artifacts -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai track artifacts <run>"
	run cnai track cat -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai track cat <run> <name>"
}

@test "track artifacts lists name, size, digest and time, by name" {
	run --separate-stderr cnai track artifacts r
	[ "$status" -eq 0 ]
	assert_equal "$(echo "${lines[0]}" | tr -s ' ')" "NAME SIZE DIGEST CREATED"
	assert_equal "$(echo "$output" | awk 'NR > 1 { print $1, $2, $3 }')" \
		"$(printf 'data/raw.bin 14 %s\nmodel.bin 14 %s' "$(sha raw.bin)" "$(sha model.bin)")"
	[[ "${lines[1]}" =~ [0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}$ ]]
}

@test "track artifacts --json gives name, digest, size and created" {
	run cnai track artifacts r --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '[.[] | [.name, .size, .digest]]')" \
		"[[\"data/raw.bin\",14,\"$(sha raw.bin)\"],[\"model.bin\",14,\"$(sha model.bin)\"]]"
	assert_equal "$(echo "$output" | jq -c '.[0] | keys_unsorted')" '["name","digest","size","created"]'
}

@test "track artifacts of a run without artifacts prints the header only" {
	cnai track start --name bare >/dev/null
	run cnai track artifacts bare
	assert_equal "$output" "NAME  SIZE  DIGEST  CREATED"
	run cnai track artifacts bare --json
	assert_equal "$output" "[]"
}

@test "track cat writes the artifact's bytes unchanged" {
	cnai track cat r data/raw.bin >out
	cmp raw.bin out
	cnai track cat r model.bin >out
	cmp model.bin out
}

@test "the stored blob is named by the artifact's sha256" {
	digest=$(sha256sum raw.bin | cut -d' ' -f1)
	cmp raw.bin ".cnai/oci/blobs/sha256/$digest"
}

@test "track cat of an unknown artifact is an error" {
	run --separate-stderr cnai track cat r nothing.bin
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run $(run_id r | cut -c1-12) has no artifact 'nothing.bin'"
	assert_equal "$output" ""
}

@test "track cat of an unknown run is an error" {
	run --separate-stderr cnai track cat nope model.bin
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'nope' not found"
}

@test "track cat needs a run and a name" {
	run --separate-stderr cnai track cat r
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'track cat' needs more arguments; usage: cnai track cat <run> <name>"
	run --separate-stderr cnai track artifacts
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'track artifacts' needs a run; usage: cnai track artifacts <run>"
}

@test "track cat of an artifact whose blob is gone is a runtime error" {
	rm ".cnai/oci/blobs/sha256/$(sha256sum model.bin | cut -d' ' -f1)"
	run --separate-stderr cnai track cat r model.bin
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "cnai: error: blob $(sha model.bin) of artifact 'model.bin': No such file or directory"
}
