#!/usr/bin/env bats
# cnai fsck: re-hashes every blob, checks every reference, exit 1 on a
# problem.
load lib

setup() {
	setup_common
	cnai init >/dev/null
}

# A run "a" with one artifact, model.bin ("weights\n"); sets $digest to its
# blob's digest and $blob to its file.
make_artifact() {
	cnai -q track start --name a >/dev/null
	echo weights >model.bin
	cnai track log --run a --artifact model.bin
	digest=sha256:$(sha256sum model.bin | cut -d' ' -f1)
	blob=.cnai/oci/blobs/sha256/${digest#sha256:}
	run_id=$(cnai track show a --json | jq -r .run_id)
	[ -f "$blob" ]
}

@test "fsck of a new store finds no problem, exit 0" {
	run --separate-stderr cnai fsck
	[ "$status" -eq 0 ]
	assert_equal "$output" "checked 0 blobs and 0 references: 0 problems"
	[ -z "$stderr" ]
}

@test "fsck of a store with runs and artifacts counts them, exit 0" {
	make_artifact
	cnai -q track run --name r -- echo hello
	# blobs: model.bin, "hello\n", the empty stderr; references: 1 + 2
	run --separate-stderr cnai fsck
	[ "$status" -eq 0 ]
	assert_equal "$output" "checked 3 blobs and 3 references: 0 problems"
}

@test "fsck --json reports the counts and an empty problem list" {
	make_artifact
	run --separate-stderr cnai fsck --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c .)" '{"blobs":1,"references":1,"problems":[]}'
	run cnai --json fsck
	assert_equal "$(echo "$output" | jq -c .)" '{"blobs":1,"references":1,"problems":[]}'
}

@test "a corrupted blob is reported by digest, exit 1, and left as it is" {
	make_artifact
	chmod u+w "$blob"
	printf 'W' | dd of="$blob" bs=1 seek=0 conv=notrunc status=none
	actual=sha256:$(sha256sum "$blob" | cut -d' ' -f1)
	before=$(store_state)
	run --separate-stderr cnai fsck
	[ "$status" -eq 1 ]
	assert_equal "$output" "corrupt: blob $digest is corrupt: its content hashes to $actual
checked 1 blob and 1 reference: 1 problem"
	[ -z "$stderr" ]
	assert_equal "$(store_state)" "$before"
	assert_equal "$(cat "$blob")" Weights
}

@test "a corrupted blob in --json: kind, digest and message" {
	make_artifact
	chmod u+w "$blob"
	printf 'W' | dd of="$blob" bs=1 seek=0 conv=notrunc status=none
	actual=sha256:$(sha256sum "$blob" | cut -d' ' -f1)
	run --separate-stderr cnai fsck --json
	[ "$status" -eq 1 ]
	assert_equal "$(echo "$output" | jq -r '.blobs, .references, (.problems | length)')" "$(printf '1\n1\n1')"
	assert_equal "$(echo "$output" | jq -r '.problems[0].kind')" corrupt
	assert_equal "$(echo "$output" | jq -r '.problems[0].digest')" "$digest"
	assert_equal "$(echo "$output" | jq -r '.problems[0].message')" \
		"blob $digest is corrupt: its content hashes to $actual"
}

@test "a truncated blob is corrupt too" {
	make_artifact
	chmod u+w "$blob"
	: >"$blob"
	run --separate-stderr cnai fsck
	[ "$status" -eq 1 ]
	assert_contains "$output" "corrupt: blob $digest is corrupt: its content hashes to sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}

@test "a deleted referenced blob is missing, exit 1, naming what refers to it" {
	make_artifact
	rm -f "$blob"
	run --separate-stderr cnai fsck
	[ "$status" -eq 1 ]
	assert_equal "$output" "missing: blob $digest is missing (referenced by artifact model.bin of run ${run_id:0:12})
checked 0 blobs and 1 reference: 1 problem"
	run --separate-stderr cnai fsck --json
	[ "$status" -eq 1 ]
	assert_equal "$(echo "$output" | jq -c '.problems[0] | [.kind, .digest]')" "[\"missing\",\"$digest\"]"
}

@test "an invalid digest in the database is reported, exit 1" {
	make_artifact
	sqlite3 .cnai/cnai.db "UPDATE artifacts SET digest = 'sha256:xyz'"
	run --separate-stderr cnai fsck
	[ "$status" -eq 1 ]
	assert_equal "$output" "invalid: artifact model.bin of run ${run_id:0:12} holds an invalid digest 'sha256:xyz'
checked 1 blob and 1 reference: 1 problem"
	run cnai fsck --json
	assert_equal "$(echo "$output" | jq -c '.problems[0] | [.kind, .digest]')" '["invalid",null]'
}

@test "a descriptor in the OCI index whose blob is missing is reported" {
	gone=sha256:$(printf 'gone' | sha256sum | cut -d' ' -f1)
	jq -c --arg d "$gone" '.manifests = [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: 4}]' \
		.cnai/oci/index.json >index.json && mv index.json .cnai/oci/index.json
	run --separate-stderr cnai fsck
	[ "$status" -eq 1 ]
	assert_equal "$output" "missing: blob $gone is missing (referenced by oci index)
checked 0 blobs and 1 reference: 1 problem"
}

@test "every problem is reported, not only the first" {
	make_artifact
	echo other >other.txt
	cnai track log --run a --artifact other.txt
	other=.cnai/oci/blobs/sha256/$(sha256sum other.txt | cut -d' ' -f1)
	rm -f "$blob"
	chmod u+w "$other"
	echo changed >"$other"
	run --separate-stderr cnai fsck
	[ "$status" -eq 1 ]
	assert_equal "$(echo "$output" | cut -d: -f1 | sort | tr '\n' ' ')" "checked 1 blob and 2 references corrupt missing "
	assert_equal "$(echo "$output" | tail -n 1)" "checked 1 blob and 2 references: 2 problems"
}

@test "temporary files of writes in progress are not checked" {
	make_artifact
	echo partial >.cnai/oci/blobs/sha256/.tmp-AbCdEf
	run --separate-stderr cnai fsck
	[ "$status" -eq 0 ]
	assert_equal "$output" "checked 1 blob and 1 reference: 0 problems"
}

@test "fsck takes no arguments, exit 2" {
	run --separate-stderr cnai fsck extra
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'fsck' takes no arguments"
	[ -z "$output" ]
}
