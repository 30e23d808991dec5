#!/usr/bin/env bats
# cnai sign verify / verify-attestation skip an attachment that cannot be
# read as what it claims (a .sig or .att tag naming something that is not
# JSON, over 4 MiB, or not an image manifest; a referrers index that is
# not JSON or not an index): each is said on stderr ("cnai: skipped ...")
# and listed under "skipped" with --json, and the other signatures still
# count: exit 0 when one verifies, 1 when none does. In the store's layout.
load lib

MANIFEST=application/vnd.oci.image.manifest.v1+json
INDEX=application/vnd.oci.image.index.v1+json

setup() {
	setup_common
	export COSIGN_PASSWORD=s3cret
	cnai init >/dev/null
	cnai sign keygen 2>/dev/null
	mkdir m
	echo weights >m/model.onnx
	cnai model register digits m >/dev/null
	IMG=digits:1-modelcar
	DIGEST=$(cnai package digits --format modelcar | cut -d' ' -f2)
	HEX=${DIGEST#sha256:}
}

# tag_file TAG FILE [MEDIA_TYPE]: FILE as a blob of the store's layout,
# tagged TAG in index.json (replacing what TAG named); sets $FD to its
# digest.
tag_file() {
	local oci=.cnai/oci
	FD="sha256:$(sha256sum <"$2" | cut -c1-64)"
	cp "$2" "$oci/blobs/sha256/${FD#sha256:}"
	jq -c --arg t "$1" --arg d "$FD" --argjson s "$(stat -c %s "$2")" --arg mt "${3:-$MANIFEST}" \
		'.manifests = [.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] != $t)]
		  + [{mediaType: $mt, digest: $d, size: $s,
		      annotations: {"org.opencontainers.image.ref.name": $t}}]' \
		"$oci/index.json" >ix.json
	mv ix.json "$oci/index.json"
}

# verified: the stdout of a verify that exited 0, checked: N claims.
verified() {
	[ "$status" -eq 0 ] || { echo "exit $status: $stderr"; return 1; }
	assert_equal "$(jq length <<<"$output")" "$1"
}

@test "a .sig tag that is not JSON is skipped with a line on stderr; the bundle verifies, exit 0" {
	cnai sign image "$IMG" --key cosign.key --format bundle >/dev/null
	echo 'not json' >junk
	tag_file "sha256-$HEX.sig" junk
	run --separate-stderr cnai sign verify "$IMG" --key cosign.pub
	verified 1
	assert_equal "$(jq -r '.[0].critical.type' <<<"$output")" https://sigstore.dev/cosign/sign/v1
	assert_equal "$(grep '^cnai: ' <<<"$stderr")" "cnai: skipped sha256-$HEX.sig: blob '$FD': line 1: '[' or '{' expected near 'not'"
}

@test "a .sig manifest over 4 MiB is skipped; the bundle verifies, exit 0" {
	cnai sign image "$IMG" --key cosign.key --format bundle >/dev/null
	head -c $((5 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >big
	tag_file "sha256-$HEX.sig" big
	run --separate-stderr cnai sign verify "$IMG" --key cosign.pub
	verified 1
	[[ $(grep '^cnai: ' <<<"$stderr") == "cnai: skipped sha256-$HEX.sig: "*"4194304"* ]] || { echo "$stderr"; return 1; }
	[ "$(grep -c '^cnai: ' <<<"$stderr")" -eq 1 ]
}

@test "a .sig tag naming JSON without a layer list is skipped" {
	cnai sign image "$IMG" --key cosign.key --format bundle >/dev/null
	echo '{"schemaVersion":2,"layers":"x"}' >notman
	tag_file "sha256-$HEX.sig" notman
	run --separate-stderr cnai sign verify "$IMG" --key cosign.pub
	verified 1
	assert_equal "$(grep '^cnai: ' <<<"$stderr")" "cnai: skipped sha256-$HEX.sig: manifest 'sha256-$HEX.sig': no \"layers\" array"
}

@test "a malformed layer in the .sig manifest is rejected on its own; the next layer verifies" {
	cnai sign image "$IMG" --key cosign.key >/dev/null
	sig=$(jq -r --arg t "sha256-$HEX.sig" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' .cnai/oci/index.json)
	jq -c '.layers = [.layers[0] | .size = -1] + .layers' ".cnai/oci/blobs/sha256/${sig#sha256:}" >two.json
	tag_file "sha256-$HEX.sig" two.json
	run --separate-stderr cnai sign verify "$IMG" --key cosign.pub
	verified 1
	[ -z "$(grep '^cnai: ' <<<"$stderr")" ]
	COSIGN_PASSWORD=other cnai sign keygen --output-key-prefix other 2>/dev/null
	run --separate-stderr cnai sign verify "$IMG" --key other.pub
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no signature of $IMG verifies: signature 1: descriptor size -1 is negative; signature 2: signature does not verify with this key"
}

@test "a referrers index that is not JSON is skipped; the .sig verifies, exit 0" {
	cnai sign image "$IMG" --key cosign.key >/dev/null
	echo '{"manifests": [' >junk
	tag_file "sha256-$HEX" junk "$INDEX"
	run --separate-stderr cnai sign verify "$IMG" --key cosign.pub
	verified 1
	assert_equal "$(jq -r '.[0].critical.type' <<<"$output")" "cosign container image signature"
	[[ $(grep '^cnai: ' <<<"$stderr") == "cnai: skipped referrers of $DIGEST: blob '$FD': line "* ]] || { echo "$stderr"; return 1; }
}

@test "--json prints cosign's array of what verified; what was skipped goes to stderr" {
	cnai sign image "$IMG" --key cosign.key >/dev/null
	echo 'not json' >junk
	tag_file "sha256-$HEX" junk "$INDEX"
	run --separate-stderr cnai sign verify "$IMG" --key cosign.pub --json
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	assert_equal "$(jq -r 'type' <<<"$output")" array
	assert_equal "$(jq 'length' <<<"$output")" 1
	assert_equal "$(jq -r '.[0].critical.type' <<<"$output")" "cosign container image signature"
	assert_equal "$stderr" "cnai: skipped referrers of $DIGEST: blob '$FD': line 1: '[' or '{' expected near 'not'"
}

@test "when every entry is bad or rejected: exit 1, each one's reason in the message" {
	echo 'not json' >junk
	tag_file "sha256-$HEX.sig" junk
	sigfd=$FD
	echo '[]' >arr
	tag_file "sha256-$HEX" arr "$INDEX"
	before=$(store_state)
	run --separate-stderr cnai sign verify "$IMG" --key cosign.pub
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no signature of $IMG verifies: sha256-$HEX.sig: blob '$sigfd': line 1: '[' or '{' expected near 'not'; referrers of $DIGEST: tag 'sha256-$HEX' is not an image index"
	assert_equal "$output" ""
	assert_equal "$(store_state)" "$before"
}

@test "a signature from another key next to a bad entry: exit 1" {
	COSIGN_PASSWORD=other cnai sign keygen --output-key-prefix other 2>/dev/null
	COSIGN_PASSWORD=other cnai sign image "$IMG" --key other.key >/dev/null
	echo 'not json' >junk
	tag_file "sha256-$HEX" junk "$INDEX"
	run --separate-stderr cnai sign verify "$IMG" --key cosign.pub
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no signature of $IMG verifies: signature 1: signature does not verify with this key; referrers of $DIGEST: blob '$FD': line 1: '[' or '{' expected near 'not'"
}

@test "verify-attestation skips an .att tag that is not JSON; the bundle verifies" {
	echo '{"ok": true}' >pred.json
	cnai sign attest "$IMG" --key cosign.key --predicate pred.json --type custom --format bundle >/dev/null
	echo 'not json' >junk
	tag_file "sha256-$HEX.att" junk
	run --separate-stderr cnai sign verify-attestation "$IMG" --key cosign.pub
	verified 1
	assert_equal "$(grep '^cnai: ' <<<"$stderr")" "cnai: skipped sha256-$HEX.att: blob '$FD': line 1: '[' or '{' expected near 'not'"
}
