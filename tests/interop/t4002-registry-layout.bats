#!/usr/bin/env bats
# registry/layer + registry/oci against independent readers: an image
# built into an OCI layout is accepted by umoci and skopeo, unpacks to the
# exact files, and is byte-for-byte reproducible.
load registry-lib

setup() {
	setup_common
	make_files
}

@test "umoci and skopeo accept a built image" {
	run build_image lay v1 --label org.example=yes --port 8080 --user 1000
	[ "$status" -eq 0 ]
	digest=$output
	run umoci stat --image lay:v1
	[ "$status" -eq 0 ]
	assert_contains "$output" "oci-tool build"
	assert_contains "$output" "1970-01-01T00:00:00Z"
	assert_equal "$(skopeo_digest oci:lay:v1)" "$digest"
	skopeo inspect --config oci:lay:v1 >config.json
	assert_equal "$(jq -r '.config.User' config.json)" 1000
	assert_equal "$(jq -r '.config.Labels["org.example"]' config.json)" yes
	assert_equal "$(jq -r '.config.ExposedPorts | keys[0]' config.json)" 8080/tcp
	assert_equal "$(jq -r '.history[0].created' config.json)" 1970-01-01T00:00:00Z
}

@test "umoci unpack gives back the exact files" {
	# small gzip blocks: many pigz-style blocks joined into one member
	build_image lay v1 --block 16384 >/dev/null
	layer=$(jq -r '.layers[0].digest' "lay/blobs/sha256/$(jq -r '.manifests[0].digest' lay/index.json | cut -d: -f2)" | cut -d: -f2)
	gzip -t "lay/blobs/sha256/$layer"
	umoci unpack --rootless --image lay:v1 bundle >/dev/null
	cmp src/a.txt bundle/rootfs/models/m/a.txt
	cmp src/sub/weights.bin bundle/rootfs/models/m/sub/weights.bin
	cmp src/run.sh bundle/rootfs/bin/run.sh
	[ -x bundle/rootfs/bin/run.sh ]
	assert_equal "$(stat -c %a bundle/rootfs/models/m/a.txt)" 644
	assert_equal "$(stat -c %Y bundle/rootfs/models/m/a.txt)" 0
}

@test "two builds in separate layouts give the same manifest digest" {
	a=$(build_image one v1)
	touch src/a.txt # a new mtime on the source changes nothing
	b=$(build_image two v1 --threads 1)
	assert_equal "$a" "$b"
	diff <(cd one/blobs/sha256 && ls) <(cd two/blobs/sha256 && ls)
	c=$(build_image three v1 --epoch 1700000000)
	[ "$a" != "$c" ]
}

@test "a zstd layer is read back by skopeo" {
	run build_image lay v1 --compression zstd
	[ "$status" -eq 0 ]
	skopeo inspect --raw oci:lay:v1 >m.json
	assert_equal "$(jq -r '.layers[0].mediaType' m.json)" application/vnd.oci.image.layer.v1.tar+zstd
	mkdir out && skopeo copy -q oci:lay:v1 dir:out
	layer=$(jq -r '.layers[0].digest' m.json | cut -d: -f2)
	zstd -dc "out/$layer" | tar t | sort >list
	grep -qx models/m/sub/weights.bin list
}

@test "an artifact manifest has the empty config and raw layers" {
	run oci_tool build lay v1 --artifact application/vnd.cncf.model.manifest.v1+json \
		weights.bin=src/sub/weights.bin
	[ "$status" -eq 0 ]
	skopeo inspect --raw oci:lay:v1 >m.json
	assert_equal "$(jq -r .artifactType m.json)" application/vnd.cncf.model.manifest.v1+json
	assert_equal "$(jq -r .config.digest m.json)" sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
	assert_equal "$(jq -r .config.mediaType m.json)" application/vnd.oci.empty.v1+json
	assert_equal "$(jq -r .layers[0].digest m.json)" "sha256:$(sha256sum src/sub/weights.bin | cut -d' ' -f1)"
	assert_equal "$(cat lay/blobs/sha256/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a)" "{}"
}

@test "a tag that moves leaves one entry in index.json" {
	build_image lay v1 >/dev/null
	d2=$(build_image lay v1 --label x=y)
	assert_equal "$(jq '.manifests | length' lay/index.json)" 1
	assert_equal "$(jq -r '.manifests[0].digest' lay/index.json)" "$d2"
	assert_equal "$(skopeo_digest oci:lay:v1)" "$d2"
}

@test "an index picks its platform" {
	a=$(build_image lay amd)
	b=$(build_image lay arm --platform linux/arm64)
	oci_tool index lay multi amd=linux/amd64 arm=linux/arm64 >/dev/null
	run oci_tool resolve lay multi linux/arm64
	[ "$status" -eq 0 ]
	assert_contains "$output" "$b"
	run oci_tool resolve lay multi linux/ppc64le
	[ "$status" -eq 2 ]
	assert_contains "$output" "(it has: linux/amd64, linux/arm64)"
	assert_equal "$(skopeo inspect --override-arch arm64 --config oci:lay:multi | jq -r .architecture)" arm64
	assert_equal "$(skopeo inspect --override-arch amd64 --config oci:lay:multi | jq -r .architecture)" amd64
}
