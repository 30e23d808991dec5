#!/usr/bin/env bats
# TLS: verified by default, --insecure accepts a self-signed certificate
# and falls back to plain HTTP. Loopback registries are always plain HTTP,
# so these registries listen on the machine's first non-loopback address.
load registry-lib

setup_file() {
	REG_HOST=$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -m1 -E '^[0-9]+(\.[0-9]+){3}$' || true)
	export REG_HOST
	[ -n "$REG_HOST" ] || return 0
	REG_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cnai-reg.XXXXXX")
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 2 -subj "/CN=$REG_HOST" -addext "subjectAltName=IP:$REG_HOST" \
		-keyout "$REG_DIR/key.pem" -out "$REG_DIR/cert.pem" 2>/dev/null
	start_registry "$REG_DIR/tls" "" "$REG_DIR"
	TLS_REG=$REG TLS_PID=$REG_PID
	start_registry "$REG_DIR/plain"
	PLAIN_REG=$REG
	export REG_DIR TLS_REG TLS_PID PLAIN_REG REG_PID
}

teardown_file() {
	[ -n "$REG_HOST" ] || return 0
	stop_registry
	REG_PID=$TLS_PID stop_registry
	rm -rf "$REG_DIR"
}

setup() {
	[ -n "$REG_HOST" ] || skip "no non-loopback IPv4 address"
	setup_common
	make_files
}

@test "a self-signed certificate is refused by default" {
	build_image lay v1 >/dev/null
	run --separate-stderr oci_tool push lay v1 "$TLS_REG/t/x:v1"
	[ "$status" -eq 3 ]
	assert_contains "$stderr" "registry '$TLS_REG' cannot be reached: SSL certificate problem"
}

@test "--insecure pushes over unverified TLS" {
	d=$(build_image lay v1)
	run oci_tool push --insecure lay v1 "$TLS_REG/t/x:v1"
	[ "$status" -eq 0 ]
	assert_equal "$(skopeo_digest "docker://$TLS_REG/t/x:v1")" "$d"
}

@test "--insecure falls back to plain HTTP; without it HTTPS is required" {
	d=$(build_image lay v1)
	run oci_tool push lay v1 "$PLAIN_REG/t/x:v1"
	[ "$status" -eq 3 ]
	run oci_tool push --insecure lay v1 "$PLAIN_REG/t/x:v1"
	[ "$status" -eq 0 ]
	run oci_tool pull --insecure "$PLAIN_REG/t/x:v1" pulled v1
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
}
