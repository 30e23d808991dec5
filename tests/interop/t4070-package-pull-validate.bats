#!/usr/bin/env bats
# package pull holds what a registry serves to registry/oci.c's manifest
# validator before it stores the manifest or fetches a blob: media types,
# a config, at least one layer for an image, well-formed descriptors, and
# at most 1000 layers (or index entries). The scripted registry
# (tests/tools/fake-registry.py) stores any bytes as a manifest, which
# docker-registry would refuse.
load registry-lib

MANIFEST=application/vnd.oci.image.manifest.v1+json
INDEX=application/vnd.oci.image.index.v1+json
CONFIG=application/vnd.oci.image.config.v1+json
LAYER=application/vnd.oci.image.layer.v1.tar+gzip
D0=sha256:0000000000000000000000000000000000000000000000000000000000000000

setup() {
	setup_common
	export HOME="$TEST_DIR/home" DOCKER_CONFIG="$TEST_DIR/docker"
	mkdir -p "$HOME" "$DOCKER_CONFIG"
	start_fake
	TOKEN=$(curl -fsS "http://$FAKE_REG/token" | jq -r .token)
	cnai init >/dev/null
}

teardown() {
	stop_fake
	teardown_common
}

# put REF FILE [MEDIA_TYPE]: FILE as the manifest t/x:REF.
put() { fake_put t/x "$@"; }

# blob FILE: FILE as a blob of t/x; prints its descriptor's digest.
blob() {
	local d loc
	d="sha256:$(sha256sum <"$1" | cut -c1-64)"
	loc=$(curl -fsS -X POST -D - -o /dev/null -H "Authorization: Bearer $TOKEN" \
		"http://$FAKE_REG/v2/t/x/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //p')
	curl -fsS -X PUT -H "Authorization: Bearer $TOKEN" --data-binary @"$1" \
		"http://$FAKE_REG$loc?digest=$d" >/dev/null
	echo "$d"
}

# layers N: a JSON array of N well-formed layer descriptors.
layers() {
	jq -cn --argjson n "$1" --arg d "$D0" --arg t "$LAYER" \
		'[range($n) | {mediaType: $t, digest: $d, size: 1}]'
}

# manifest CONFIG_JSON LAYERS_JSON: an OCI image manifest.
manifest() {
	jq -cn --arg mt "$MANIFEST" --argjson c "$1" --argjson l "$2" \
		'{schemaVersion: 2, mediaType: $mt, config: $c, layers: $l}'
}

CFG="{\"mediaType\":\"$CONFIG\",\"digest\":\"$D0\",\"size\":2}"

# refused REF MESSAGE: pull exits 2 with MESSAGE, fetches no blob and
# leaves the store as it was.
refused() {
	local before
	before=$(store_state)
	: >fake.log
	run --separate-stderr cnai package pull "$FAKE_REG/t/x:$1" --insecure
	[ "$status" -eq 2 ] || { echo "exit $status: $stderr"; return 1; }
	assert_equal "$stderr" "cnai: error: $2"
	assert_equal "$output" ""
	! grep -q '/blobs/' fake.log || { cat fake.log; return 1; }
	assert_equal "$(store_state)" "$before"
}

# digest FILE
digest() { echo "sha256:$(sha256sum <"$1" | cut -c1-64)"; }

@test "an image manifest without a config is refused before any blob is fetched" {
	jq -cn --arg mt "$MANIFEST" --argjson l "$(layers 1)" \
		'{schemaVersion: 2, mediaType: $mt, layers: $l}' >m.json
	put noconfig m.json
	refused noconfig "manifest '$(digest m.json)' from '$FAKE_REG/t/x': no \"config\""
}

@test "an image manifest without layers is refused" {
	manifest "$CFG" '[]' >m.json
	put nolayers m.json
	refused nolayers "manifest '$(digest m.json)' from '$FAKE_REG/t/x': an image needs at least one of \"layers\""
}

@test "a manifest listing 1001 layers is refused before any layer is fetched" {
	jq -cn --arg mt "$MANIFEST" --argjson c "$CFG" --arg d "$D0" --arg t "$LAYER" \
		'{schemaVersion: 2, mediaType: $mt, config: $c,
		  layers: [range(1001) | {mediaType: $t, digest: $d, size: 1}]}' >m.json
	put many m.json
	refused many "manifest '$(digest m.json)' from '$FAKE_REG/t/x': lists 1001 layers, more than 1000"
}

@test "malformed descriptors are refused, naming the field" {
	manifest "$CFG" "[{\"mediaType\":\"$LAYER\",\"digest\":\"$D0\",\"size\":-1}]" >m.json
	put neg m.json
	refused neg "manifest '$(digest m.json)' from '$FAKE_REG/t/x': layers[0]: size -1 is negative"
	manifest "$CFG" "[{\"mediaType\":\"$LAYER\",\"digest\":\"sha256:../../x\",\"size\":1}]" >m.json
	put dig m.json
	refused dig "manifest '$(digest m.json)' from '$FAKE_REG/t/x': layers[0]: digest 'sha256:../../x' is not sha256:<64 hex digits>"
	manifest "{\"mediaType\":\"nonsense\",\"digest\":\"$D0\",\"size\":2}" "$(layers 1)" >m.json
	put mt m.json
	refused mt "manifest '$(digest m.json)' from '$FAKE_REG/t/x': config: media type 'nonsense' is not type/subtype"
	manifest "$CFG" '[{"size":1}]' >m.json
	put none m.json
	refused none "manifest '$(digest m.json)' from '$FAKE_REG/t/x': layers[0]: media type '' is not type/subtype"
}

@test "a manifest of another media type, or one that contradicts its type, is refused" {
	manifest "$CFG" "$(layers 1)" | jq -c '.mediaType = "application/vnd.example+json"' >m.json
	put other m.json application/vnd.example+json
	refused other "manifest '$(digest m.json)' from '$FAKE_REG/t/x': media type 'application/vnd.example+json' is not an image manifest or index"
	manifest "$CFG" "$(layers 1)" | jq -c ".manifests = []" >m.json
	put both m.json
	refused both "manifest '$(digest m.json)' from '$FAKE_REG/t/x': a manifest with \"manifests\""
	manifest "$CFG" "$(layers 1)" | jq -c ".schemaVersion = 1" >m.json
	put v1 m.json
	refused v1 "manifest '$(digest m.json)' from '$FAKE_REG/t/x': \"schemaVersion\" is not 2"
}

@test "an index listing 1001 manifests is refused, and an index with layers too" {
	jq -cn --arg mt "$INDEX" --arg m "$MANIFEST" --arg d "$D0" \
		'{schemaVersion: 2, mediaType: $mt,
		  manifests: [range(1001) | {mediaType: $m, digest: $d, size: 1}]}' >i.json
	put idx i.json "$INDEX"
	refused idx "manifest '$(digest i.json)' from '$FAKE_REG/t/x': lists 1001 manifests, more than 1000"
	jq -c --argjson l "$(layers 1)" '.manifests = .manifests[:1] | .layers = $l' i.json >i2.json
	put idx2 i2.json "$INDEX"
	refused idx2 "manifest '$(digest i2.json)' from '$FAKE_REG/t/x': an index with \"config\" or \"layers\""
}

@test "an index whose entry is malformed is refused before the entry is fetched" {
	jq -cn --arg mt "$INDEX" --arg m "$MANIFEST" \
		'{schemaVersion: 2, mediaType: $mt,
		  manifests: [{mediaType: $m, digest: "sha256:abc", size: 1}]}' >i.json
	put bad i.json "$INDEX"
	refused bad "manifest '$(digest i.json)' from '$FAKE_REG/t/x': manifests[0]: digest 'sha256:abc' is not sha256:<64 hex digits>"
	! grep -q 'manifests/sha256:abc' fake.log
}

@test "a well-formed image and an artifact without layers are pulled" {
	printf '{}' >cfg.json
	cd_=$(blob cfg.json)
	printf 'layer' >l.bin
	ld=$(blob l.bin)
	manifest "{\"mediaType\":\"$CONFIG\",\"digest\":\"$cd_\",\"size\":2}" \
		"[{\"mediaType\":\"$LAYER\",\"digest\":\"$ld\",\"size\":5}]" >m.json
	put good m.json
	run --separate-stderr cnai package pull "$FAKE_REG/t/x:good" --insecure
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	assert_equal "$output" "$FAKE_REG/t/x:good $(digest m.json)"
	jq -cn --arg mt "$MANIFEST" --arg e application/vnd.oci.empty.v1+json --arg d "$cd_" \
		'{schemaVersion: 2, mediaType: $mt, artifactType: "application/vnd.example.thing",
		  config: {mediaType: $e, digest: $d, size: 2}, layers: []}' >a.json
	put art a.json
	run --separate-stderr cnai package pull "$FAKE_REG/t/x:art" --insecure
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	assert_equal "$output" "$FAKE_REG/t/x:art $(digest a.json)"
}

@test "a manifest over 4 MiB is bad input, exit 2, not an unreachable registry" {
	manifest "$CFG" "$(layers 1)" >m.json
	head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >>m.json
	put big m.json
	refused big "manifest '$FAKE_REG/t/x:big' is over 4 MiB"
}
