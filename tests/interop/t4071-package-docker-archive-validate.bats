#!/usr/bin/env bats
# The docker-archive importer holds the image it builds to the same
# manifest validator and layer cap as package pull (registry/oci.c):
# at least one layer, at most 1000.
load registry-lib

setup() {
	setup_common
	make_model m
	cnai init >/dev/null
	cnai model register digits m >/dev/null
}

# refused ARCHIVE MESSAGE: packaging on ARCHIVE is exit 2 with MESSAGE and
# writes nothing.
refused() {
	local before
	before=$(store_state)
	run --separate-stderr cnai package digits --format modelcar --base "$1"
	[ "$status" -eq 2 ] || { echo "exit $status: $stderr"; return 1; }
	assert_equal "$stderr" "cnai: error: $2"
	[ -z "$output" ]
	assert_equal "$(store_state)" "$before"
}

@test "an archive image without layers is refused, as pull refuses one" {
	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' >c.json
	printf '[{"Config":"c.json","RepoTags":["e:1"],"Layers":[]}]' >manifest.json
	tar -cf zero.tar manifest.json c.json
	refused zero.tar "'zero.tar': the image's manifest: an image needs at least one of \"layers\""
}

@test "an archive image listing 1001 layers is refused: the cap pull applies" {
	printf '{"rootfs":{"type":"layers","diff_ids":[]}}' >c.json
	jq -cn '[{Config: "c.json", Layers: [range(1001) | "l.tar"]}]' >manifest.json
	tar -cf many.tar manifest.json c.json
	refused many.tar "'many.tar': manifest.json: an image needs \"Config\" and at most 1000 \"Layers\""
}
