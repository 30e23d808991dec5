#!/usr/bin/env bats
# cnai sign model: a model version's manifest gets a cosign ".sig" in the
# store's layout, recorded in the lineage graph (model version -> signature)
# and shown by `cnai model show`; bad input is exit 2 and writes nothing.
load lib

setup() {
	setup_common
	export COSIGN_PASSWORD=s3cret
	cnai init >/dev/null
	cnai sign keygen 2>/dev/null
	mkdir m
	echo weights >m/model.onnx
	cnai model register digits m >/dev/null
	DIGEST=$(cnai model show digits@1 --json | jq -r .digest)
	HEX=${DIGEST#sha256:}
	FP=$(openssl pkey -pubin -in cosign.pub -outform DER | sha256sum | cut -c1-64)
}

# The digest index.json holds for tag $1.
tagged() {
	jq -r --arg t "$1" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' .cnai/oci/index.json
}

@test "sign model writes a .sig for the version's manifest that openssl verifies" {
	run --separate-stderr cnai sign model digits@1 --key cosign.key
	[ "$status" -eq 0 ]
	assert_equal "$output" "signed models/digits@$DIGEST as models/digits (sha256-$HEX.sig)"
	sig=$(tagged "sha256-$HEX.sig")
	[ -n "$sig" ]
	m=.cnai/oci/blobs/sha256/${sig#sha256:}
	assert_equal "$(jq -r '.layers[0].mediaType' "$m")" application/vnd.dev.cosign.simplesigning.v1+json
	payload=.cnai/oci/blobs/sha256/$(jq -r '.layers[0].digest[7:]' "$m")
	assert_equal "$(jq -c .critical "$payload")" "{\"identity\":{\"docker-reference\":\"models/digits\"},\"image\":{\"docker-manifest-digest\":\"$DIGEST\"},\"type\":\"cosign container image signature\"}"
	jq -r '.layers[0].annotations["dev.cosignproject.cosign/signature"]' "$m" | base64 -d >sig.der
	run openssl dgst -sha256 -verify cosign.pub -signature sig.der "$payload"
	[ "$status" -eq 0 ]
	assert_equal "$output" "Verified OK"
}

@test "the lineage graph and model show name the signature and its key" {
	cnai sign model digits --key cosign.key -a by=ci >/dev/null
	sig=$(tagged "sha256-$HEX.sig")
	# A signature's lineage id is the digest of its base64 text.
	b64=$(jq -r '.layers[0].annotations["dev.cosignproject.cosign/signature"]' ".cnai/oci/blobs/sha256/${sig#sha256:}")
	layer=sha256:$(printf '%s' "$b64" | sha256sum | cut -c1-64)
	run --separate-stderr cnai lineage digits@1 --format json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -c '[.nodes[] | [.kind, .ref, .name]]' <<<"$output")" \
		"[[\"model_version\",\"$DIGEST\",\"digits@1\"],[\"signature\",\"$layer\",\"key ${FP:0:12}\"]]"
	assert_equal "$(jq -c '.edges' <<<"$output")" '[{"from":1,"to":2,"relation":"signed"}]'
	run --separate-stderr cnai lineage digits@1
	[ "$status" -eq 0 ]
	expect="model_version ${DIGEST:0:19} digits@1
  to:
    -> signature ${layer:0:19} key ${FP:0:12}  (signed)"
	assert_equal "$output" "$expect"
	run --separate-stderr cnai model show digits@1 --json
	assert_equal "$(jq -c '[.signatures[] | [.kind, .key_fingerprint, .identity]]' <<<"$output")" \
		"[[\"signature\",\"$FP\",\"models/digits\"]]"
	run --separate-stderr cnai model show digits@1
	assert_contains "$output" "signed:
  signature by key $FP"
}

@test "signing again adds a second signature, both kept" {
	cnai sign model digits@1 --key cosign.key >/dev/null
	cnai sign model digits@1 --key cosign.key >/dev/null
	sig=$(tagged "sha256-$HEX.sig")
	assert_equal "$(jq '.layers | length' ".cnai/oci/blobs/sha256/${sig#sha256:}")" 2
	assert_equal "$(cnai model show digits@1 --json | jq '.signatures | length')" 2
	run --separate-stderr cnai fsck
	[ "$status" -eq 0 ]
}

@test "an unknown model is exit 2 and writes nothing" {
	before=$(store_state)
	run --separate-stderr cnai sign model nosuch --key cosign.key
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'nosuch' not found"
	[ -z "$output" ]
	run --separate-stderr cnai sign model digits@7 --key cosign.key
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no version 7"
	assert_equal "$(store_state)" "$before"
}

@test "no key, a missing key or a wrong passphrase is exit 2 and writes nothing" {
	before=$(store_state)
	run --separate-stderr cnai sign model digits@1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: no key: use --key cosign.key"
	run --separate-stderr cnai sign model digits@1 --key nokey.key
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: cannot read 'nokey.key': No such file or directory"
	COSIGN_PASSWORD=wrong run --separate-stderr cnai sign model digits@1 --key cosign.key
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: incorrect passphrase for cosign.key"
	[ -z "$output" ]
	assert_equal "$(store_state)" "$before"
}

@test "sign model outside a store is exit 2" {
	other=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cnai-nostore.XXXXXX")
	cp cosign.key "$other"
	cd "$other"
	run --separate-stderr cnai sign model digits@1 --key cosign.key
	cd "$TEST_DIR" && rm -rf "$other"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: not in a cnai store (or any parent); run 'cnai init'"
}

@test "cnai-sign.1 EXAMPLES run and exit 0" {
	page=$CNAI_ROOT/man/cnai-sign.1
	[ "$(man_examples "$page" | wc -l)" -ge 10 ]
	cnai_on_path
	mkdir work && cd work
	cnai init >/dev/null
	man_examples_script "$page" >"$TEST_DIR/examples.sh"
	run bash "$TEST_DIR/examples.sh"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	assert_equal "$(cnai model show digits --json | jq '.signatures | length')" 1
}
