#!/usr/bin/env bats
# registry/distribution against a scripted registry
# (tests/tools/fake-registry.py) for what docker-registry will not do on
# demand: the Bearer token dance, transient 5xx, a refused manifest and a
# blob that does not match its digest.
load registry-lib

setup() {
	setup_common
	make_files
	export HOME="$TEST_DIR/home" DOCKER_CONFIG="$TEST_DIR/docker"
	mkdir -p "$HOME" "$DOCKER_CONFIG"
}

teardown() {
	stop_fake
	teardown_common
}

@test "a Bearer token is fetched from the realm with service and scope" {
	d=$(build_image lay v1)
	start_fake
	run oci_tool push lay v1 "$FAKE_REG/team/model:v1"
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
	grep -q '^token service=fake&scope=repository%3Ateam%2Fmodel%3Apull%2Cpush$' fake.log
	# one token serves every request (and every worker)
	[ "$(grep -c '^token ' fake.log)" -eq 1 ]
	run oci_tool pull "$FAKE_REG/team/model:v1" pulled v1
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
	grep -q 'scope=repository%3Ateam%2Fmodel%3Apull$' fake.log
}

@test "the token endpoint gets the Basic credentials of config.json" {
	build_image lay v1 >/dev/null
	start_fake --user bob:pw
	run --separate-stderr oci_tool push lay v1 "$FAKE_REG/team/model:v1"
	[ "$status" -eq 3 ]
	assert_contains "$stderr" "requires authentication and no credentials were found"
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$FAKE_REG" "$(printf bob:pw | base64)" \
		>"$DOCKER_CONFIG/config.json"
	run oci_tool push lay v1 "$FAKE_REG/team/model:v1"
	[ "$status" -eq 0 ]
}

@test "transient 5xx answers are retried" {
	d=$(build_image lay v1)
	start_fake --fail 2
	run oci_tool push lay v1 "$FAKE_REG/r/x:v1"
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
}

@test "5xx answers that persist fail after three tries" {
	build_image lay v1 >/dev/null
	start_fake --fail 100
	run --separate-stderr oci_tool pull "$FAKE_REG/r/x:v1" pulled v1
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "oci-tool: error: fetching manifest '$FAKE_REG/r/x:v1': UNAVAILABLE: try again"
	[ "$(grep -c '^GET /v2/r/x/manifests/v1' fake.log)" -eq 3 ]
}

@test "a refused manifest shows the registry's code and message" {
	build_image lay v1 >/dev/null
	start_fake --reject-manifest
	run --separate-stderr oci_tool push lay v1 "$FAKE_REG/r/x:v1"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "oci-tool: error: pushing manifest '$FAKE_REG/r/x:v1': MANIFEST_INVALID: manifest invalid"
	# the blobs went first, all of them
	[ "$(grep -c '^PUT /v2/r/x/blobs/uploads/' fake.log)" -eq 2 ]
}

@test "a blob that does not match its digest is not kept" {
	build_image lay v1 >/dev/null
	start_fake --corrupt-blobs
	oci_tool push lay v1 "$FAKE_REG/r/x:v1" >/dev/null
	run --separate-stderr oci_tool pull --jobs 1 "$FAKE_REG/r/x:v1" pulled v1
	[ "$status" -eq 1 ]
	assert_contains "$stderr" "does not match its descriptor"
	# nothing under a digest name but the manifest; no temporary left
	[ "$(ls pulled/blobs/sha256 | wc -l)" -eq 1 ]
	[ -z "$(ls -A pulled/blobs/sha256 | grep '^\.tmp')" ]
	assert_equal "$(jq '.manifests | length' pulled/index.json)" 0
}
