#!/usr/bin/env bats
# registry/distribution against docker-registry (Debian's distribution
# 2.8) on a free loopback port, with skopeo and umoci as the independent
# readers: what we push they read with the same digest, what they push we
# pull with the same digest, blobs are skipped, chunked, mounted, and a
# failure never leaves a manifest behind.
load registry-lib

setup_file() {
	REG_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cnai-reg.XXXXXX")
	start_registry "$REG_DIR"
	export REG REG_PORT REG_PID REG_DIR
}

teardown_file() {
	stop_registry
	rm -rf "$REG_DIR"
}

setup() {
	setup_common
	make_files
}

# Requests the registry logged since the mark.
log_mark() { wc -l <"$REG_DIR/log" >mark; }
log_since() { tail -n +"$(($(cat mark) + 1))" "$REG_DIR/log"; }

@test "a pushed image reads back in skopeo and umoci with the same digest" {
	d=$(build_image lay v1)
	run oci_tool push lay v1 "$REG/t/one:v1"
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
	assert_equal "$(skopeo_digest "docker://$REG/t/one:v1")" "$d"
	skopeo copy -q --src-tls-verify=false "docker://$REG/t/one:v1" oci:copy:v1
	assert_equal "$(jq -r '.manifests[0].digest' copy/index.json)" "$d"
	umoci unpack --rootless --image copy:v1 bundle >/dev/null
	cmp src/sub/weights.bin bundle/rootfs/models/m/sub/weights.bin
	cmp src/a.txt bundle/rootfs/models/m/a.txt
	cmp src/run.sh bundle/rootfs/bin/run.sh
}

@test "pull brings back the same image, verified" {
	d=$(build_image lay v1)
	oci_tool push lay v1 "$REG/t/two:v1" >/dev/null
	run oci_tool pull "$REG/t/two:v1" pulled got
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
	diff <(cd lay/blobs/sha256 && ls) <(cd pulled/blobs/sha256 && ls)
	umoci unpack --rootless --image pulled:got bundle >/dev/null
	cmp src/sub/weights.bin bundle/rootfs/models/m/sub/weights.bin
}

@test "an image skopeo pushed is pulled with skopeo's digest" {
	build_image lay v1 --label by=skopeo >/dev/null
	skopeo copy -q --dest-tls-verify=false oci:lay:v1 "docker://$REG/t/sk:oci"
	skopeo copy -q --dest-tls-verify=false --format v2s2 oci:lay:v1 "docker://$REG/t/sk:v2s2"
	for tag in oci v2s2; do
		want=$(skopeo_digest "docker://$REG/t/sk:$tag")
		run oci_tool pull "$REG/t/sk:$tag" pulled "$tag"
		[ "$status" -eq 0 ]
		assert_equal "$output" "$want"
		run oci_tool resolve pulled "$tag"
		assert_contains "$output" "$want"
	done
	assert_contains "$(oci_tool resolve pulled v2s2)" application/vnd.docker.distribution.manifest.v2+json
	assert_equal "$(skopeo_digest oci:pulled:oci)" "$(skopeo_digest "docker://$REG/t/sk:oci")"
}

@test "large blobs go up in chunks and arrive whole" {
	d=$(build_image lay v1 --compression none)
	log_mark
	run oci_tool push --chunk 65536 --jobs 2 lay v1 "$REG/t/chunked:v1"
	[ "$status" -eq 0 ]
	[ "$(log_since | grep -c '"PATCH /v2/t/chunked/blobs/uploads/')" -ge 5 ]
	rm -rf lay
	run oci_tool pull "$REG/t/chunked:v1" back v1
	[ "$status" -eq 0 ]
	assert_equal "$output" "$d"
}

@test "a second push uploads nothing" {
	build_image lay v1 >/dev/null
	oci_tool push lay v1 "$REG/t/again:v1" >/dev/null
	log_mark
	run oci_tool push lay v1 "$REG/t/again:v1"
	[ "$status" -eq 0 ]
	log_since >since
	! grep -q 'POST /v2/t/again/blobs/uploads' since
	[ "$(grep -c '"HEAD /v2/t/again/blobs/sha256:' since)" -eq 2 ]
}

@test "blobs of another repository are mounted, not uploaded" {
	d=$(build_image lay v1)
	oci_tool push lay v1 "$REG/t/src:v1" >/dev/null
	log_mark
	run oci_tool push --mount-from t/src lay v1 "$REG/t/dst:v1"
	[ "$status" -eq 0 ]
	[ "$(log_since | grep -c 'mount=sha256.*from=t%2Fsrc HTTP/1.1" 201')" -eq 2 ]
	! log_since | grep -q 'PUT /v2/t/dst/blobs/uploads'
	assert_equal "$(skopeo_digest "docker://$REG/t/dst:v1")" "$d"
}

@test "a tampered blob is refused and no manifest is pushed" {
	build_image lay v1 >/dev/null
	layer=$(jq -r '.layers[0].digest' "lay/blobs/sha256/$(jq -r '.manifests[0].digest' lay/index.json | cut -d: -f2)" | cut -d: -f2)
	chmod u+w "lay/blobs/sha256/$layer"
	printf 'X' | dd of="lay/blobs/sha256/$layer" bs=1 seek=100 conv=notrunc 2>/dev/null
	run --separate-stderr oci_tool push lay v1 "$REG/t/tampered:v1"
	[ "$status" -eq 1 ]
	assert_contains "$stderr" "blob 'sha256:$layer' in 'lay' is corrupt: its content hashes to"
	run skopeo inspect --tls-verify=false "docker://$REG/t/tampered:v1"
	[ "$status" -ne 0 ]
	assert_contains "$output" "manifest unknown"
	# in chunks: refused before the closing PUT
	run --separate-stderr oci_tool push --chunk 65536 lay v1 "$REG/t/tampered:v1"
	[ "$status" -eq 1 ]
	assert_contains "$stderr" "is corrupt: its content hashes to"
	run curl -s -o /dev/null -w '%{http_code}' -I "http://$REG/v2/t/tampered/blobs/sha256:$layer"
	assert_equal "$output" 404
}

@test "a multi-platform index is pushed whole and pulled for one platform" {
	build_image lay amd >/dev/null
	arm=$(build_image lay arm --platform linux/arm64)
	ix=$(oci_tool index lay multi amd=linux/amd64 arm=linux/arm64)
	run oci_tool push lay multi "$REG/t/multi:1"
	[ "$status" -eq 0 ]
	assert_equal "$output" "$ix"
	assert_equal "$(skopeo inspect --raw --tls-verify=false "docker://$REG/t/multi:1" | sha256sum | cut -d' ' -f1)" "${ix#sha256:}"
	run oci_tool pull --platform linux/arm64 "$REG/t/multi:1" one arm
	[ "$status" -eq 0 ]
	assert_equal "$output" "$arm"
	assert_equal "$(skopeo inspect --config oci:one:arm | jq -r .architecture)" arm64
	run oci_tool pull "$REG/t/multi:1" all m
	[ "$status" -eq 0 ]
	assert_equal "$output" "$ix"
	assert_equal "$(skopeo inspect --override-arch arm64 --config oci:all:m | jq -r .architecture)" arm64
}

@test "tags are listed" {
	build_image lay v1 >/dev/null
	oci_tool push lay v1 "$REG/t/tags:a" >/dev/null
	oci_tool push lay v1 "$REG/t/tags:b" >/dev/null
	run oci_tool tags "$REG/t/tags"
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | sort | tr '\n' ' ')" "a b "
}

@test "an unknown tag is a registry error with its code" {
	run --separate-stderr oci_tool pull "$REG/t/none:nope" pulled x
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "oci-tool: error: fetching manifest '$REG/t/none:nope': MANIFEST_UNKNOWN: manifest unknown"
}

@test "a registry that is down is a clear error" {
	build_image lay v1 >/dev/null
	port=$(free_port)
	run --separate-stderr oci_tool push lay v1 "127.0.0.1:$port/t/x:v1"
	[ "$status" -eq 3 ]
	assert_contains "$stderr" "oci-tool: error: registry '127.0.0.1:$port' cannot be reached: "
	assert_contains "$stderr" "Couldn't connect to server"
}
