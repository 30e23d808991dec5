#!/usr/bin/env bats
# Basic auth against docker-registry with an htpasswd file: no credentials
# says how to log in, config.json "auths", a credential helper and
# --username/--password-stdin all work, wrong ones are named as refused.
load registry-lib

setup_file() {
	REG_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cnai-reg.XXXXXX")
	htpasswd -Bbn alice s3cret >"$REG_DIR/htpasswd"
	start_registry "$REG_DIR" "$REG_DIR/htpasswd"
	export REG REG_PORT REG_PID REG_DIR
}

teardown_file() {
	stop_registry
	rm -rf "$REG_DIR"
}

setup() {
	setup_common
	make_files
	export HOME="$TEST_DIR/home"
	export DOCKER_CONFIG="$TEST_DIR/docker"
	mkdir -p "$HOME" "$DOCKER_CONFIG"
}

@test "a 401 without credentials says how to log in" {
	build_image lay v1 >/dev/null
	run --separate-stderr oci_tool push lay v1 "$REG/a/b:v1"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "oci-tool: error: registry '$REG' requires authentication and no credentials were found: log in with 'docker login $REG', put them in \$DOCKER_CONFIG/config.json or ~/.docker/config.json, or pass --username and --password-stdin"
}

@test "credentials from DOCKER_CONFIG auths push and skopeo reads them back" {
	d=$(build_image lay v1)
	auths "$REG" alice:s3cret
	run oci_tool push lay v1 "$REG/a/b:v1"
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
	assert_equal "$(skopeo inspect --tls-verify=false --creds alice:s3cret "docker://$REG/a/b:v1" | jq -r .Digest)" "$d"
}

@test "an auths key written as a URL matches too" {
	build_image lay v1 >/dev/null
	auths "http://$REG/v2/" alice:s3cret
	run oci_tool push lay v1 "$REG/a/url:v1"
	[ "$status" -eq 0 ]
}

@test "wrong credentials are reported as refused, without the password" {
	build_image lay v1 >/dev/null
	auths "$REG" alice:not-the-password
	run --separate-stderr oci_tool push lay v1 "$REG/a/b:v1"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "oci-tool: error: registry '$REG' refused the credentials of 'alice': UNAUTHORIZED: authentication required"
	! grep -q not-the-password <<<"$stderr"
}

@test "--username and --password-stdin pull without a config" {
	d=$(build_image lay v1)
	auths "$REG" alice:s3cret
	oci_tool push lay v1 "$REG/a/c:v1" >/dev/null
	rm "$DOCKER_CONFIG/config.json"
	run oci_tool pull --username alice --password-stdin "$REG/a/c:v1" pulled x <<<"s3cret"
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
}

@test "a credential helper named by credsStore is asked" {
	d=$(build_image lay v1)
	mkdir bin
	cat >bin/docker-credential-cnaitest <<-'SH'
	#!/bin/sh
	read -r server
	echo "$1 $server" >>"$DOCKER_CONFIG/helper.log"
	printf '{"ServerURL":"%s","Username":"alice","Secret":"s3cret"}' "$server"
	SH
	chmod +x bin/docker-credential-cnaitest
	printf '{"credsStore":"cnaitest"}' >"$DOCKER_CONFIG/config.json"
	PATH="$PWD/bin:$PATH" run oci_tool push lay v1 "$REG/a/helper:v1"
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
	assert_equal "$(sort -u "$DOCKER_CONFIG/helper.log")" "get $REG"
}
