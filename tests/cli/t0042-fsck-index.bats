#!/usr/bin/env bats
# cnai fsck with a damaged oci/index.json: the index is reported as a
# problem (exit 1) and every other check still runs.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	cnai -q track start --name a >/dev/null
	echo weights >model.bin
	cnai track log --run a --artifact model.bin
	digest=sha256:$(sha256sum model.bin | cut -d' ' -f1)
	blob=.cnai/oci/blobs/sha256/${digest#sha256:}
	run_id=$(cnai track show a --json | jq -r .run_id | cut -c1-12)
	INDEX="$PWD/.cnai/oci/index.json"
}

@test "an index.json that is not JSON is a problem, exit 1, and the other checks go on" {
	echo '{"manifests": [' >"$INDEX"
	# a second problem, found after the index: the artifact's blob is gone
	rm -f "$blob"
	before=$(store_state)
	run --separate-stderr cnai fsck
	[ "$status" -eq 1 ]
	assert_equal "$output" "index: $INDEX:2: ']' expected near end of file
missing: blob $digest is missing (referenced by artifact model.bin of run $run_id)
checked 0 blobs and 1 reference: 2 problems"
	[ -z "$stderr" ]
	assert_equal "$(store_state)" "$before"
}

@test "an index.json without a manifests array is a problem, exit 1" {
	echo '{"manifests": {}}' >"$INDEX"
	run --separate-stderr cnai fsck --json
	[ "$status" -eq 1 ]
	assert_equal "$(jq -c . <<<"$output")" "{\"blobs\":1,\"references\":1,\"problems\":[{\"kind\":\"index\",\"digest\":null,\"message\":\"$INDEX: no \\\"manifests\\\" array\"}]}"
	[ -z "$stderr" ]
}

@test "a missing index.json is a problem, exit 1" {
	rm "$INDEX"
	run --separate-stderr cnai fsck
	[ "$status" -eq 1 ]
	assert_equal "$output" "index: '$PWD/.cnai/oci' is not an OCI image layout: no index.json
checked 1 blob and 1 reference: 1 problem"
	[ -z "$stderr" ]
}
