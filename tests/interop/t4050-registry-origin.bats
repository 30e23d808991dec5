#!/usr/bin/env bats
# Credentials go only to the origin (scheme, host, port) they are for, as
# docker and containers/image do: an upload Location or a blob redirect
# that names another host gets no Authorization, Basic or Bearer, and a
# 401 from there is not answered with the registry's credentials. Two
# fake registries on 127.0.0.1 (tests/tools/fake-registry.py): the one
# credentials are for, and "another host" on another port that logs every
# Authorization header it gets.
load registry-lib

setup() { fake_setup; }
teardown() { fake_teardown; }

# push_uploading_elsewhere OPTIONS...: pushes make_files' image to a fake
# registry started with OPTIONS (and config.json credentials bob:pw) whose
# upload Locations name another one, on another port, logging to
# other.log; the registry logs to reg.log.
push_uploading_elsewhere() {
	d=$(build_image lay v1)
	fake_registry other.log --anonymous
	fake_registry reg.log "$@" --upload-to "http://$FAKE_REG"
	auths "$FAKE_REG" bob:pw
	run oci_tool push lay v1 "$FAKE_REG/r/x:v1"
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
	# the blobs went up to the other one
	[ "$(grep -c '^PUT /v2/r/x/blobs/uploads/' other.log)" -eq 2 ]
}

@test "an upload Location on another port gets no Basic credentials" {
	push_uploading_elsewhere --basic bob:pw
	assert_equal "$(auth_seen other.log)" "-"
	# while the registry itself got them
	grep -q "^auth Basic $(printf bob:pw | base64)\$" reg.log
}

@test "an upload Location on another port gets no Bearer token" {
	push_uploading_elsewhere --user bob:pw --token secret-token
	assert_equal "$(auth_seen other.log)" "-"
	grep -q '^auth Bearer secret-token$' reg.log
}

# redirecting_blobs OPTIONS...: make_files' image pushed to a fake
# registry started with OPTIONS (logging to other.log, then emptied) and
# to one that wants bob:pw (config.json has them) and redirects blob
# downloads to the first (reg.log).
redirecting_blobs() {
	d=$(build_image lay v1)
	fake_registry other.log "$@"
	other=$FAKE_REG
	oci_tool push lay v1 "$other/r/x:v1" >/dev/null
	fake_registry reg.log --basic bob:pw --redirect-blobs "http://$other"
	auths "$FAKE_REG" bob:pw
	oci_tool push lay v1 "$FAKE_REG/r/x:v1" >/dev/null
	: >other.log
}

@test "a blob redirected to another host is fetched without credentials" {
	# the other host serves the blobs anonymously, as object storage does
	redirecting_blobs --anonymous
	run oci_tool pull "$FAKE_REG/r/x:v1" pulled v1
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
	[ "$(grep -c '^GET /v2/r/x/blobs/' other.log)" -eq 2 ]
	assert_equal "$(auth_seen other.log)" "-"
}

@test "a 401 from a redirect's host is not answered with the registry's credentials" {
	# the other host asks for a Bearer token from its own realm
	redirecting_blobs
	run --separate-stderr oci_tool pull --jobs 1 "$FAKE_REG/r/x:v1" pulled v1
	[ "$status" -eq 3 ]
	assert_contains "$stderr" "oci-tool: error: fetching blob 'sha256:"
	assert_contains "$stderr" "from '$FAKE_REG/r/x': UNAUTHORIZED: authentication required"
	# no token asked there, no credentials sent there
	! grep -q '^token ' other.log
	assert_equal "$(auth_seen other.log)" "-"
	[ -z "$(ls -A pulled/blobs/sha256 | grep '^\.tmp')" ]
}
