#!/usr/bin/env bats
# Tokens and credentials become HTTP headers: one with a control character
# (a CR LF would start a header of the sender's choosing) is refused
# wherever it comes from (a token server, config.json, a credential
# helper, --username/--password-stdin), with a message that never shows
# it. And a Bearer challenge without a realm is named as such.
load registry-lib

setup() { fake_setup; }
teardown() { fake_teardown; }

@test "a token with CR LF is refused, not sent as a header" {
	build_image lay v1 >/dev/null
	fake_registry fake.log --token $'abc\r\nX-Injected: 1'
	run --separate-stderr oci_tool push lay v1 "$FAKE_REG/r/x:v1"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "oci-tool: error: token server 'http://$FAKE_REG/token' answered a token with control characters"
	! grep -q '^injected$' fake.log
	# one request asked for it; nothing was sent with it
	assert_equal "$(auth_seen fake.log)" "-"
}

@test "config.json credentials with control characters are refused unshown" {
	build_image lay v1 >/dev/null
	fake_registry fake.log --user bob:pw
	auths "$FAKE_REG" $'bob:s3cret\r\nX-Injected: 1'
	run --separate-stderr oci_tool push lay v1 "$FAKE_REG/r/x:v1"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "oci-tool: error: $DOCKER_CONFIG/config.json: auths '$FAKE_REG': the credentials have control characters"
	assert_equal "$(auth_seen fake.log)" "-"
}

@test "a credential helper's credentials with control characters are refused" {
	build_image lay v1 >/dev/null
	fake_registry fake.log --user bob:pw
	mkdir bin
	cat >bin/docker-credential-evil <<'EOF'
#!/bin/sh
cat >/dev/null
printf '{"Username":"bob","Secret":"s3cret\\r\\nX-Injected: 1"}'
EOF
	chmod +x bin/docker-credential-evil
	printf '{"credsStore":"evil"}' >"$DOCKER_CONFIG/config.json"
	PATH="$PWD/bin:$PATH" run --separate-stderr oci_tool push lay v1 "$FAKE_REG/r/x:v1"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "oci-tool: error: credential helper 'docker-credential-evil': the credentials have control characters"
	assert_equal "$(auth_seen fake.log)" "-"
}

@test "a password from stdin with a control character is refused before any request" {
	fake_registry fake.log --user bob:pw
	cnai init >/dev/null
	before=$(store_state)
	run --separate-stderr cnai package pull --username bob --password-stdin \
		"$FAKE_REG/r/x:v1" < <(printf 's3\033cret\n')
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: the credentials given for '$FAKE_REG' have control characters"
	[ ! -s fake.log ]
	assert_equal "$(store_state)" "$before"
}

@test "a Bearer challenge without a realm says so" {
	build_image lay v1 >/dev/null
	fake_registry fake.log --no-realm
	run --separate-stderr oci_tool push lay v1 "$FAKE_REG/r/x:v1"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "oci-tool: error: registry '$FAKE_REG' asks for Bearer authentication without a realm (the token server's URL)"
}
