#!/usr/bin/env bats
# Every answer of a registry is read up to a cap: a blob never past its
# descriptor's size (0 included), a manifest 4 MiB, a token 1 MiB; and a
# transfer that stalls (a Content-Length larger than the body) is cut
# after CNAI_REGISTRY_STALL_TIMEOUT seconds instead of holding a pull.
load registry-lib

EMPTY=sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

setup() { fake_setup; }
teardown() { fake_teardown; }

# put_manifest REGISTRY REPO:TAG FILE: PUTs a hand-written manifest.
put_manifest() {
	curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary "@$3" "http://$1/v2/${2%%:*}/manifests/${2#*:}"
}

@test "a blob whose descriptor says 0 bytes is not read past 0 bytes" {
	fake_registry fake.log --anonymous --stream-blobs 3000000
	# the empty blob's own digest and size: a valid descriptor
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":0},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":0}]}' \
		"$EMPTY" "$EMPTY" >m.json
	put_manifest "$FAKE_REG" r/x:v1 m.json
	cnai init >/dev/null
	run --separate-stderr cnai package pull "$FAKE_REG/r/x:v1"
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: blob '$EMPTY' from '$FAKE_REG/r/x' is larger than its descriptor's 0 bytes"
	# nothing kept of it, no temporary left behind
	[ ! -e ".cnai/oci/blobs/sha256/${EMPTY#sha256:}" ]
	[ -z "$(ls -A .cnai/oci/blobs/sha256 | grep '^\.tmp')" ]
}

@test "a manifest over 4 MiB is named as too large" {
	fake_registry fake.log --anonymous --huge-manifests
	run --separate-stderr oci_tool pull "$FAKE_REG/r/x:v1" pulled v1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "oci-tool: error: manifest '$FAKE_REG/r/x:v1' is over 4 MiB"
}

@test "a token answer over 1 MiB is refused" {
	fake_registry fake.log --huge-token
	run --separate-stderr oci_tool pull "$FAKE_REG/r/x:v1" pulled v1
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "oci-tool: error: token server 'http://$FAKE_REG/token' answered more than 1 MiB"
}

@test "a body shorter than its Content-Length is cut after the stall timeout" {
	build_image lay v1 >/dev/null
	fake_registry fake.log --anonymous --short-body
	oci_tool push lay v1 "$FAKE_REG/r/x:v1" >/dev/null
	# (timeout only bounds a failure: 120 s per try before the fix)
	CNAI_REGISTRY_STALL_TIMEOUT=1 run --separate-stderr \
		timeout 60 "$OCI_TOOL" pull --jobs 1 "$FAKE_REG/r/x:v1" pulled v1
	[ "$status" -eq 3 ]
	assert_contains "$stderr" "oci-tool: error: registry '$FAKE_REG' cannot be reached: Operation too slow. Less than 1 bytes/sec transferred the last 1 seconds"
	[ -z "$(ls -A pulled/blobs/sha256 | grep '^\.tmp')" ]
}

@test "a stall timeout that is not a number of seconds is a usage error" {
	cnai init >/dev/null
	before=$(store_state)
	CNAI_REGISTRY_STALL_TIMEOUT=soon run --separate-stderr \
		cnai package pull 127.0.0.1:1/r/x:v1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: CNAI_REGISTRY_STALL_TIMEOUT 'soon': not a number of seconds from 1 to 86400"
	assert_equal "$(store_state)" "$before"
}
