#!/usr/bin/env bats
# cosign 3's image signatures: a Sigstore bundle v0.3 (DSSE over an
# in-toto Statement, predicateType https://sigstore.dev/cosign/sign/v1)
# attached as an OCI 1.1 referrer. Debian's docker-registry has no
# referrers API, so what is checked here is the referrers tag schema
# (the "sha256-<hex>" index) cosign falls back to. Checked with tools that
# share no code with cnai: curl and jq read the index, the manifest and
# the bundle; openssl verifies the DSSE signature over its PAE; and the
# reverse: a bundle built with jq and openssl and pushed with curl is
# accepted, tampered ones rejected with their reason.
load sign-lib

BUNDLE=application/vnd.dev.sigstore.bundle.v0.3+json
EMPTY=application/vnd.oci.empty.v1+json
SIGN_V1=https://sigstore.dev/cosign/sign/v1

setup_file() { sign_setup_file cnai-bun; }
teardown_file() { sign_teardown_file; }

setup() {
	NAME="t/b$BATS_TEST_NUMBER"
	sign_setup "$NAME"
}

# statement SUBJECT_HEX [PREDICATE_TYPE]: what cosign 3 signs for an image.
statement() {
	jq -cn --arg n "$REPO" --arg h "$1" --arg p "${2:-$SIGN_V1}" \
		'{_type: "https://in-toto.io/Statement/v1",
		  subject: [{name: $n, digest: {sha256: $h}}],
		  predicateType: $p, predicate: {}}'
}

# attach_bundle STATEMENT_FILE KEY.pem [SUBJECT_DIGEST]: a bundle built
# with jq and openssl, pushed with curl as a referrer of $DIGEST (or
# SUBJECT_DIGEST) and listed in the sha256-$HEX index.
attach_bundle() {
	local sig bd md subject=${3:-$DIGEST}
	pae "$INTOTO" "$1" >pae.bin
	sig=$(openssl dgst -sha256 -sign "$2" pae.bin | base64 -w0)
	jq -cn --arg p "$(base64 -w0 <"$1")" --arg s "$sig" --arg t "$INTOTO" --arg mt "$BUNDLE" \
		'{mediaType: $mt, verificationMaterial: {publicKey: {hint: "x"}},
		  dsseEnvelope: {payload: $p, payloadType: $t, signatures: [{sig: $s}]}}' >bundle.json
	bd=$(push_blob "$NAME" bundle.json)
	printf '{}' >empty.json
	push_blob "$NAME" empty.json >/dev/null
	jq -cn --arg bd "$bd" --argjson bs "$(stat -c %s bundle.json)" --arg sd "$subject" \
		--arg mt "$MANIFEST" --arg bt "$BUNDLE" --arg et "$EMPTY" \
		'{schemaVersion: 2, mediaType: $mt, artifactType: $bt,
		  config: {mediaType: $et, digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", size: 2},
		  layers: [{mediaType: $bt, digest: $bd, size: $bs}],
		  subject: {mediaType: $mt, digest: $sd, size: 1}}' >ref.json
	md="sha256:$(sha256sum <ref.json | cut -c1-64)"
	put_manifest "$NAME" "$md" ref.json
	jq -cn --arg md "$md" --argjson ms "$(stat -c %s ref.json)" --arg mt "$MANIFEST" \
		--arg it "$INDEX" --arg bt "$BUNDLE" \
		'{schemaVersion: 2, mediaType: $it,
		  manifests: [{mediaType: $mt, digest: $md, size: $ms, artifactType: $bt}]}' >index.json
	put_manifest "$NAME" "sha256-$HEX" index.json "$INDEX"
}

# replace_bundle FILE: FILE becomes the bundle of the referrer
# attach_bundle made (new blob, new manifest, new index).
replace_bundle() {
	local bd md
	bd=$(push_blob "$NAME" "$1")
	jq --arg bd "$bd" --argjson bs "$(stat -c %s "$1")" '.layers[0].digest = $bd | .layers[0].size = $bs' ref.json >r2.json
	md="sha256:$(sha256sum <r2.json | cut -c1-64)"
	put_manifest "$NAME" "$md" r2.json
	jq --arg md "$md" --argjson ms "$(stat -c %s r2.json)" '.manifests[0].digest = $md | .manifests[0].size = $ms' index.json >i2.json
	put_manifest "$NAME" "sha256-$HEX" i2.json "$INDEX"
}

# verify_fails REASON: cnai sign verify rejects $REPO:v1 for REASON.
verify_fails() {
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub
	[ "$status" -eq 1 ] || { echo "exit $status: $stderr"; return 1; }
	[[ $stderr == "cnai: error: no signature of $REPO:v1 verifies: bundle sha256:"*": $1" ]] ||
		{ echo "stderr: $stderr"; return 1; }
	assert_equal "$output" ""
}

# ---- what cnai writes ---------------------------------------------------

@test "--format bundle attaches a bundle referrer in cosign 3's shape, and no .sig" {
	run --separate-stderr cnai sign image "$REPO:v1" --key cosign.key --format bundle -a env=prod --json
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	ref=$(jq -r .bundle_manifest <<<"$output")
	assert_equal "$(jq -r '.signature_tag // "none"' <<<"$output")" none
	assert_equal "$(status_of "$NAME/manifests/sha256-$HEX.sig")" 404
	# the referrers tag schema's index, with artifactType and annotations lifted
	get "$NAME/manifests/sha256-$HEX" "$INDEX" >index.json
	assert_equal "$(jq -r .mediaType index.json)" "$INDEX"
	assert_equal "$(jq -r '.manifests | length' index.json)" 1
	assert_equal "$(jq -r '.manifests[0].digest' index.json)" "$ref"
	assert_equal "$(jq -r '.manifests[0].artifactType' index.json)" "$BUNDLE"
	assert_equal "$(jq -r '.manifests[0].annotations["dev.sigstore.bundle.content"]' index.json)" dsse-envelope
	# the referrer manifest
	get "$NAME/manifests/$ref" >ref.json
	assert_equal "sha256:$(sha256sum <ref.json | cut -c1-64)" "$ref"
	assert_equal "$(jq -r .artifactType ref.json)" "$BUNDLE"
	assert_equal "$(jq -r .config.mediaType ref.json)" "$EMPTY"
	assert_equal "$(jq -r .config.digest ref.json)" sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
	assert_equal "$(jq -r .subject.digest ref.json)" "$DIGEST"
	assert_equal "$(jq -r '.layers | length' ref.json)" 1
	assert_equal "$(jq -r '.layers[0].mediaType' ref.json)" "$BUNDLE"
	bd=$(jq -r '.layers[0].digest' ref.json)
	assert_equal "$(jq -r '.layers[0].annotations["org.opencontainers.image.title"]' ref.json)" "sha256-${bd#sha256:}.sigstore.json"
	assert_equal "$(jq -r '.annotations["dev.sigstore.bundle.predicateType"]' ref.json)" "$SIGN_V1"
	[[ $(jq -r '.annotations["org.opencontainers.image.created"]' ref.json) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]
}

@test "the bundle's statement names the image, and openssl verifies its DSSE signature" {
	cnai sign image "$REPO:v1" --key cosign.key --format bundle -a env=prod >/dev/null
	ref=$(get "$NAME/manifests/sha256-$HEX" "$INDEX" | jq -r '.manifests[0].digest')
	bd=$(get "$NAME/manifests/$ref" | jq -r '.layers[0].digest')
	get "$NAME/blobs/$bd" >bundle.json
	assert_equal "$(jq -r .mediaType bundle.json)" "$BUNDLE"
	[ -n "$(jq -r .verificationMaterial.publicKey.hint bundle.json)" ]
	dsse_verifies bundle.json .dsseEnvelope
	assert_equal "$(jq -r .predicateType statement.json)" "$SIGN_V1"
	assert_equal "$(jq -r '.subject[0].digest.sha256' statement.json)" "$HEX"
	assert_equal "$(jq -r '.subject[0].name' statement.json)" "$REPO"
	assert_equal "$(jq -c '.subject[0].annotations' statement.json)" '{"env":"prod"}'
}

@test "cnai verifies a bundle-only image as cosign 3 reports it" {
	cnai sign image "$REPO:v1" --key cosign.key --format bundle -a env=prod >/dev/null
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub -a env=prod
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	assert_equal "$(jq -c . <<<"$output")" "[{\"critical\":{\"identity\":{\"docker-reference\":\"$REPO\"},\"image\":{\"docker-manifest-digest\":\"$DIGEST\"},\"type\":\"$SIGN_V1\"},\"optional\":{\"env\":\"prod\"}}]"
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub -a env=dev
	[ "$status" -eq 1 ]
	[[ $stderr == *"bundle sha256:"*": required annotation 'env' is not in the statement" ]]
}

@test "--format both writes both forms, verify reads both, and a second bundle joins the index" {
	run --separate-stderr cnai sign image "$REPO:v1" --key cosign.key --format both
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "signed $REPO@$DIGEST as $REPO (sha256-$HEX.sig)"
	[[ ${lines[1]} == "signed $REPO@$DIGEST as $REPO (Sigstore bundle, referrer sha256:"*")" ]]
	assert_equal "$(status_of "$NAME/manifests/sha256-$HEX.sig")" 200
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '.[].critical.type' <<<"$output" | sort | tr '\n' ' ')" "cosign container image signature $SIGN_V1 "
	cnai sign image "$REPO:v1" --key cosign.key --format bundle >/dev/null
	assert_equal "$(get "$NAME/manifests/sha256-$HEX" "$INDEX" | jq -r '.manifests | length')" 2
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub --json
	assert_equal "$(jq 'length' <<<"$output")" 3
	assert_equal "$stderr" ""
}

@test "a bad --format is a usage error and writes nothing; verify takes no --format" {
	run --separate-stderr cnai sign image "$REPO:v1" --key cosign.key --format cosign3
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --format: 'cosign3' is not sig, bundle or both"
	assert_equal "$(status_of "$NAME/manifests/sha256-$HEX")" 404
	assert_equal "$(status_of "$NAME/manifests/sha256-$HEX.sig")" 404
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub --format bundle
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --format is for signing; verify reads both forms"
}

@test "SOURCE_DATE_EPOCH dates the bundle; a malformed one is refused before anything is written" {
	SOURCE_DATE_EPOCH=86400 cnai sign image "$REPO:v1" --key cosign.key --format bundle >/dev/null
	ref=$(get "$NAME/manifests/sha256-$HEX" "$INDEX" | jq -r '.manifests[0].digest')
	assert_equal "$(get "$NAME/manifests/$ref" | jq -r '.annotations["org.opencontainers.image.created"]')" 1970-01-02T00:00:00Z
	run --separate-stderr env SOURCE_DATE_EPOCH=soon "$CNAI_BIN" sign image "$REPO:v1" --key cosign.key --format both
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: SOURCE_DATE_EPOCH 'soon' is not a number of seconds"
	assert_equal "$(status_of "$NAME/manifests/sha256-$HEX.sig")" 404
	assert_equal "$(get "$NAME/manifests/sha256-$HEX" "$INDEX" | jq '.manifests | length')" 1
}

@test "a sha256-<hex> tag that is not an index is refused by sign, not overwritten, and skipped by verify" {
	get "$NAME/manifests/v1" >squatter.json
	put_manifest "$NAME" "sha256-$HEX" squatter.json
	run --separate-stderr cnai sign image "$REPO:v1" --key cosign.key --format bundle
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: tag 'sha256-$HEX' is not an image index"
	assert_equal "$(get "$NAME/manifests/sha256-$HEX" | sha256sum | cut -c1-64)" "$(sha256sum <squatter.json | cut -c1-64)"
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no signature of $REPO:v1 verifies: referrers of $DIGEST: tag 'sha256-$HEX' is not an image index"
	cnai sign image "$REPO:v1" --key cosign.key >/dev/null
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub
	[ "$status" -eq 0 ]
	assert_equal "$(grep '^cnai: ' <<<"$stderr")" "cnai: skipped referrers of $DIGEST: tag 'sha256-$HEX' is not an image index"
}

@test "no .sig and no bundle: exit 1, no signatures found" {
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no signatures found for $REPO:v1 (no sha256-$HEX.sig tag, no Sigstore bundle referrers)"
}

# ---- bundles made with jq, openssl and curl -----------------------------

@test "a bundle built with openssl and pushed with curl is accepted" {
	statement "$HEX" >statement.json
	attach_bundle statement.json key.pem
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	assert_equal "$(jq -r '.[0].critical.image["docker-manifest-digest"]' <<<"$output")" "$DIGEST"
	assert_equal "$(jq -r '.[0].optional' <<<"$output")" null
}

@test "a bundle signed by another key is rejected" {
	statement "$HEX" >statement.json
	attach_bundle statement.json other.pem
	verify_fails "bundle signature does not verify with this key"
}

@test "a signed statement about another digest is rejected" {
	statement "$(printf '%064d' 7)" >statement.json
	attach_bundle statement.json key.pem
	verify_fails "the statement's subject is not $DIGEST"
}

@test "a signed statement of another predicate type is rejected" {
	statement "$HEX" https://slsa.dev/provenance/v1 >statement.json
	attach_bundle statement.json key.pem
	verify_fails "predicate type 'https://slsa.dev/provenance/v1' is not a cosign image signature"
}

@test "a statement changed after signing is rejected" {
	statement "$HEX" >statement.json
	attach_bundle statement.json key.pem
	# re-sign nothing: swap the payload for one naming an annotation
	jq -c '.subject[0].annotations = {"x": "y"}' statement.json >changed.json
	jq --arg p "$(base64 -w0 <changed.json)" '.dsseEnvelope.payload = $p' bundle.json >b2.json
	replace_bundle b2.json
	verify_fails "bundle signature does not verify with this key"
}

@test "a referrer whose manifest names another subject is rejected" {
	statement "$HEX" >statement.json
	attach_bundle statement.json key.pem "sha256:$(printf '%064d' 9)"
	verify_fails "bundle manifest's subject is not $DIGEST"
}

@test "a messageSignature bundle is not taken for an image signature" {
	statement "$HEX" >statement.json
	attach_bundle statement.json key.pem
	jq '{mediaType, verificationMaterial, messageSignature: {messageDigest: {algorithm: "SHA2_256", digest: "AA=="}, signature: "AA=="}}' bundle.json >b2.json
	replace_bundle b2.json
	verify_fails "bundle: no dsseEnvelope (a messageSignature bundle)"
}

# ---- the local store ----------------------------------------------------

@test "a bundle made in the store is pushed along and verifies on the registry" {
	d=$(store_image)
	run --separate-stderr cnai sign image digits:1-modelcar --key cosign.key --format bundle --identity "$REPO"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run --separate-stderr cnai sign verify digits:1-modelcar --key cosign.pub
	[ "$status" -eq 1 ] # signed for $REPO, not for "digits"
	[[ $stderr == *"identity '$REPO' does not match"* ]]
	# the layout keeps the referrers tag schema's index; ls does not list it
	idx=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "sha256-'"${d#sha256:}"'") | .digest' .cnai/oci/index.json)
	[ -n "$idx" ]
	assert_equal "$(cnai package ls --json | jq -r '.[].tag')" digits:1-modelcar
	run cnai fsck
	[ "$status" -eq 0 ]
	run --separate-stderr cnai package push digits:1-modelcar "$REPO:model"
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	assert_equal "${lines[1]}" "pushed $REPO:sha256-${d#sha256:}@$idx"
	run --separate-stderr cnai sign verify "$REPO:model" --key cosign.pub
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	assert_equal "$(jq -r '.[0].critical.type' <<<"$output")" "$SIGN_V1"
}
