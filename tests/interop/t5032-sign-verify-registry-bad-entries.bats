#!/usr/bin/env bats
# cnai sign verify against a registry: a .sig manifest over 4 MiB, or one
# or a referrers index that is not JSON, is skipped (a line on stderr)
# and the other signature still verifies, exit 0. The scripted registry
# (tests/tools/fake-registry.py) stores such manifests, which
# docker-registry refuses.
load registry-lib

MANIFEST=application/vnd.oci.image.manifest.v1+json
INDEX=application/vnd.oci.image.index.v1+json

setup() {
	setup_common
	export HOME="$TEST_DIR/home" DOCKER_CONFIG="$TEST_DIR/docker" COSIGN_PASSWORD=s3cret
	mkdir -p "$HOME" "$DOCKER_CONFIG"
	start_fake
	REPO="$FAKE_REG/t/x"
	make_files
	DIGEST=$(build_image lay v1)
	HEX=${DIGEST#sha256:}
	oci_tool push lay v1 "$REPO:v1" >/dev/null
	cnai sign keygen 2>/dev/null
}

teardown() {
	stop_fake
	teardown_common
}

# put REF FILE [MEDIA_TYPE]: FILE as the manifest REF of t/x.
put() { fake_put t/x "$@"; }

@test "a .sig manifest over 4 MiB is skipped; the bundle verifies, exit 0" {
	cnai sign image "$REPO:v1" --key cosign.key --format bundle --insecure >/dev/null
	head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >big
	put "sha256-$HEX.sig" big
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub --insecure
	[ "$status" -eq 0 ] || { echo "exit $status: $stderr"; return 1; }
	assert_equal "$(jq length <<<"$output")" 1
	assert_equal "$(grep '^cnai: ' <<<"$stderr")" "cnai: skipped sha256-$HEX.sig: manifest '$REPO:sha256-$HEX.sig' is over 4 MiB"
}

@test "a .sig manifest that is not JSON is skipped; the bundle verifies, exit 0" {
	cnai sign image "$REPO:v1" --key cosign.key --format bundle --insecure >/dev/null
	echo 'not json' >junk
	put "sha256-$HEX.sig" junk
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub --insecure
	[ "$status" -eq 0 ] || { echo "exit $status: $stderr"; return 1; }
	assert_equal "$(jq length <<<"$output")" 1
	assert_equal "$(grep '^cnai: ' <<<"$stderr")" "cnai: skipped sha256-$HEX.sig: manifest 'sha256-$HEX.sig': '[' or '{' expected near 'not'"
}

@test "a referrers index that is not JSON is skipped; the .sig verifies, exit 0" {
	cnai sign image "$REPO:v1" --key cosign.key --insecure >/dev/null
	echo 'not json' >junk
	put "sha256-$HEX" junk "$INDEX"
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub --insecure --json
	[ "$status" -eq 0 ] || { echo "exit $status: $stderr"; return 1; }
	assert_equal "$(jq 'length' <<<"$output")" 1
	assert_equal "$(grep '^cnai: ' <<<"$stderr")" "cnai: skipped referrers of $DIGEST: manifest 'sha256-$HEX': '[' or '{' expected near 'not'"
}
