#!/usr/bin/env bats
# cnai package export and what is already at its destination: a docker
# archive is not overwritten without --force, and with it replaces a file
# or a symbolic link by renaming over it, never writing through the link;
# an OCI layout whose folders or files are symbolic links is refused.
# Each refusal: exit 2, the message, nothing changed.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	mkdir m
	head -c 5000 /dev/urandom >m/model.onnx
	cnai model register tiny m >/dev/null
	cnai package tiny --format modelcar >/dev/null
	printf 'victim\n' >victim
	mkdir victims
}

# Runs `cnai package export tiny:1-modelcar ARGS...` and checks: exit 2,
# stderr $EXPECT, nothing on stdout, the store, victim and victims/
# unchanged.
refused() {
	local before
	before=$(store_state)
	run --separate-stderr cnai package export tiny:1-modelcar "$@"
	[ "$status" -eq 2 ] || { echo "exit $status: $stderr"; false; }
	assert_equal "$stderr" "$EXPECT"
	[ -z "$output" ]
	assert_equal "$(store_state)" "$before"
	assert_equal "$(cat victim)" victim
	assert_equal "$(find victims)" victims
}

@test "an existing archive is not overwritten without --force" {
	printf 'mine\n' >img.tar
	EXPECT="cnai: error: 'img.tar' exists; use --force to overwrite" refused --docker-archive img.tar
	assert_equal "$(cat img.tar)" mine
}

@test "--force replaces an existing archive with the same bytes a fresh export writes" {
	cnai package export tiny:1-modelcar --docker-archive fresh.tar >/dev/null
	printf 'mine\n' >img.tar
	run --separate-stderr cnai package export tiny:1-modelcar --docker-archive img.tar --force
	[ "$status" -eq 0 ]
	cmp fresh.tar img.tar
	assert_equal "$(tar -tf img.tar | sort | tail -3)" "$(printf 'index.json\nmanifest.json\noci-layout')"
	assert_equal "$(find . -maxdepth 1 -name '.tmp-*')" ""
}

@test "an archive path that is a symbolic link is refused, and with --force the link is replaced, never followed" {
	ln -s victim img.tar
	EXPECT="cnai: error: 'img.tar' exists; use --force to overwrite" refused --docker-archive img.tar
	[ -L img.tar ]
	run --separate-stderr cnai package export tiny:1-modelcar --docker-archive img.tar --force
	[ "$status" -eq 0 ]
	[ ! -L img.tar ]
	assert_equal "$(cat victim)" victim
	tar -tf img.tar | grep -qx manifest.json
	# a dangling link: its target is not created
	ln -s created-through-link dangling.tar
	EXPECT="cnai: error: 'dangling.tar' exists; use --force to overwrite" refused --docker-archive dangling.tar
	run --separate-stderr cnai package export tiny:1-modelcar --docker-archive dangling.tar --force
	[ "$status" -eq 0 ]
	[ ! -L dangling.tar ] && [ ! -e created-through-link ]
}

@test "an archive path that is a folder is exit 2" {
	mkdir img.tar
	EXPECT="cnai: error: 'img.tar' is a folder" refused --docker-archive img.tar --force
	assert_equal "$(find img.tar)" img.tar
}

@test "a layout whose blobs folder is a symbolic link is refused and nothing is written through it" {
	mkdir lay
	ln -s ../victims lay/blobs
	EXPECT="cnai: error: 'lay/blobs' is a symbolic link (not followed below 'lay')" refused --oci-layout lay
	mkdir -p lay2/blobs
	ln -s ../../victims lay2/blobs/sha256
	EXPECT="cnai: error: 'lay2/blobs/sha256' is a symbolic link (not followed below 'lay2')" refused --oci-layout lay2
	assert_equal "$(find lay lay2 | sort)" "$(printf 'lay\nlay/blobs\nlay2\nlay2/blobs\nlay2/blobs/sha256')"
}

@test "a layout whose index.json, oci-layout or a blob is a symbolic link is refused" {
	mkdir lay
	ln -s ../victim lay/index.json
	EXPECT="cnai: error: 'lay/index.json' is a symbolic link (not followed below 'lay')" refused --oci-layout lay
	rm lay/index.json
	ln -s ../victim lay/oci-layout
	EXPECT="cnai: error: 'lay/oci-layout' is a symbolic link (not followed below 'lay')" refused --oci-layout lay
	rm lay/oci-layout
	d=$(cnai package inspect tiny:1-modelcar --json | jq -r .digest)
	mkdir -p lay/blobs/sha256
	ln -s ../../../victim "lay/blobs/sha256/${d#sha256:}"
	before=$(store_state)
	run --separate-stderr cnai package export tiny:1-modelcar --oci-layout lay
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'lay/blobs/sha256/${d#sha256:}' is a symbolic link (not followed below 'lay')"
	assert_equal "$(cat victim)" victim
	assert_equal "$(store_state)" "$before"
}

@test "a layout path that is a file is exit 2, and --force goes with --docker-archive only" {
	EXPECT="cnai: error: 'victim' is not a folder" refused --oci-layout victim
	EXPECT="cnai: error: --force: only with --docker-archive (export adds to a layout, it overwrites nothing there)" refused --oci-layout lay --force
	[ ! -e lay ]
}
