#!/usr/bin/env bats
# cnai sign attest / verify-attestation / provenance against a
# docker-registry: cosign 2's ".att" form (a DSSE envelope layer under
# sha256-<hex>.att) and cosign 3's bundle referrer, read back with curl and
# jq and the envelope's signature checked with openssl over its PAE; the
# reverse (an envelope made with openssl and pushed with curl) accepted,
# tampered ones rejected with their reason; SLSA provenance from the
# lineage of a trained, packaged model.
load sign-lib

DSSE=application/vnd.dsse.envelope.v1+json
CYCLONEDX=https://cyclonedx.org/bom

setup_file() { sign_setup_file cnai-att; }
teardown_file() { sign_teardown_file; }

setup() {
	NAME="t/a$BATS_TEST_NUMBER"
	sign_setup "$NAME"
	echo '{"bomFormat":"CycloneDX","specVersion":"1.5","components":[]}' >bom.json
}

# push_att STATEMENT KEY.pem: an envelope made with openssl, pushed with
# curl as the only layer of $DIGEST's .att manifest, in cosign's shape.
push_att() {
	local sig ed
	pae "$INTOTO" "$1" >pae.bin
	sig=$(openssl dgst -sha256 -sign "$2" pae.bin | base64 -w0)
	jq -cn --arg p "$(base64 -w0 <"$1")" --arg s "$sig" --arg t "$INTOTO" \
		'{payloadType: $t, payload: $p, signatures: [{keyid: "", sig: $s}]}' >env.json
	ed=$(push_blob "$NAME" env.json)
	jq -cn --arg d "$ed" '{architecture: "", os: "", config: {},
		rootfs: {type: "layers", diff_ids: [$d]}}' >att-config.json
	jq -cn --arg cd "$(push_blob "$NAME" att-config.json)" \
		--argjson cs "$(stat -c %s att-config.json)" --arg ed "$ed" \
		--argjson es "$(stat -c %s env.json)" --arg mt "$MANIFEST" --arg dt "$DSSE" \
		'{schemaVersion: 2, mediaType: $mt,
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
		  layers: [{mediaType: $dt, digest: $ed, size: $es,
		    annotations: {predicateType: "https://cyclonedx.org/bom"}}]}' >att.json
	put_manifest "$NAME" "sha256-$HEX.att" att.json
}

# statement HEX: a CycloneDX statement about the image with digest HEX.
statement() {
	jq -cn --arg n "$REPO" --arg h "$1" --arg p "$CYCLONEDX" --slurpfile b bom.json \
		'{_type: "https://in-toto.io/Statement/v1", subject: [{name: $n, digest: {sha256: $h}}],
		  predicateType: $p, predicate: $b[0]}'
}

# ---- what cnai writes ---------------------------------------------------

@test "attest writes a DSSE envelope under .att, and openssl verifies it" {
	run --separate-stderr cnai sign attest "$REPO:v1" --key cosign.key --predicate bom.json --type cyclonedx --json
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	assert_equal "$(jq -r .attestation_tag <<<"$output")" "sha256-$HEX.att"
	assert_equal "$(jq -r .predicate_type <<<"$output")" "$CYCLONEDX"
	get "$NAME/manifests/sha256-$HEX.att" >att.json
	assert_equal "$(jq -r '.layers[0].mediaType' att.json)" "$DSSE"
	assert_equal "$(jq -r '.layers[0].annotations.predicateType' att.json)" "$CYCLONEDX"
	get "$NAME/blobs/$(jq -r '.layers[0].digest' att.json)" >env.json
	dsse_verifies env.json ''
	assert_equal "$(jq -r '.subject[0].digest.sha256' statement.json)" "$HEX"
	assert_equal "$(jq -cS .predicate statement.json)" "$(jq -cS . bom.json)"
}

@test "--format bundle attests as a bundle referrer that verify-attestation reads and verify ignores" {
	run --separate-stderr cnai sign attest "$REPO:v1" --key cosign.key --predicate bom.json --type cyclonedx --format bundle
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	[[ $output == "attested $REPO@$DIGEST ($CYCLONEDX) in a Sigstore bundle, referrer sha256:"* ]]
	assert_equal "$(status_of "$NAME/manifests/sha256-$HEX.att")" 404
	get "$NAME/manifests/sha256-$HEX" "$INDEX" >index.json
	assert_equal "$(jq -r '.manifests[0].annotations["dev.sigstore.bundle.predicateType"]' index.json)" "$CYCLONEDX"
	run --separate-stderr cnai sign verify-attestation "$REPO:v1" --key cosign.pub --type cyclonedx
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	assert_equal "$(jq -r '.[0].predicateType' <<<"$output")" "$CYCLONEDX"
	assert_equal "$(jq -r '.[0].subject[0].digest.sha256' <<<"$output")" "$HEX"
	# an attestation is not a signature
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub
	[ "$status" -eq 1 ]
	[[ $stderr == "cnai: error: no signatures found for $REPO:v1"* ]]
}

@test "--format both: verify-attestation reads both forms; --type filters them" {
	cnai sign attest "$REPO:v1" --key cosign.key --predicate bom.json --type cyclonedx --format both >/dev/null
	run --separate-stderr cnai sign verify-attestation "$REPO:v1" --key cosign.pub
	[ "$status" -eq 0 ]
	assert_equal "$(jq length <<<"$output")" 2
	run --separate-stderr cnai sign verify-attestation "$REPO:v1" --key cosign.pub --type spdxjson
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no attestation of $REPO:v1 verifies: attestation 1: predicateType '$CYCLONEDX'"
}

@test "no attestations at all: exit 1, no attestations found" {
	run --separate-stderr cnai sign verify-attestation "$REPO:v1" --key cosign.pub
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no attestations found for $REPO:v1 (no sha256-$HEX.att tag, no Sigstore bundle referrers)"
}

@test "bad input is a usage error and attaches nothing" {
	run --separate-stderr cnai sign attest "$REPO:v1" --key cosign.key
	[ "$status" -eq 2 ]
	[[ $stderr == "cnai: error: usage: cnai sign attest "* ]]
	run --separate-stderr cnai sign attest "$REPO:v1" --key cosign.key --predicate bom.json --type nope
	[ "$status" -eq 2 ]
	[[ $stderr == "cnai: error: --type: 'nope' is not slsaprovenance, "* ]]
	run --separate-stderr cnai sign attest "$REPO:v1" --key cosign.key --predicate bom.json --format sig
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --format: 'sig' is not att, bundle or both"
	printf '{"broken": ' >bad.json
	run --separate-stderr cnai sign attest "$REPO:v1" --key cosign.key --predicate bad.json
	[ "$status" -eq 2 ]
	[[ $stderr == "cnai: error: bad.json:1: "* ]]
	assert_equal "$(status_of "$NAME/manifests/sha256-$HEX.att")" 404
	assert_equal "$(status_of "$NAME/manifests/sha256-$HEX")" 404
}

# ---- envelopes made with openssl and curl -------------------------------

@test "an envelope made with openssl and pushed with curl is accepted" {
	statement "$HEX" >statement.json
	push_att statement.json key.pem
	run --separate-stderr cnai sign verify-attestation "$REPO:v1" --key cosign.pub --type cyclonedx
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	assert_equal "$(jq -c '.[0]' <<<"$output")" "$(jq -c . statement.json)"
}

@test "an envelope from another key is rejected" {
	statement "$HEX" >statement.json
	push_att statement.json other.pem
	run --separate-stderr cnai sign verify-attestation "$REPO:v1" --key cosign.pub
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no attestation of $REPO:v1 verifies: attestation 1: signature does not verify with this key"
}

@test "a signed statement about another image is rejected" {
	statement "$(printf '%064d' 3)" >statement.json
	push_att statement.json key.pem
	run --separate-stderr cnai sign verify-attestation "$REPO:v1" --key cosign.pub
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no attestation of $REPO:v1 verifies: attestation 1: subject is not $DIGEST"
}

@test "a statement changed after signing is rejected" {
	statement "$HEX" >statement.json
	push_att statement.json key.pem
	sig=$(jq -r '.signatures[0].sig' env.json)
	jq -c '.predicate.specVersion = "9"' statement.json >changed.json
	jq -cn --arg p "$(base64 -w0 <changed.json)" --arg s "$sig" --arg t "$INTOTO" \
		'{payloadType: $t, payload: $p, signatures: [{keyid: "", sig: $s}]}' >env2.json
	ed=$(push_blob "$NAME" env2.json)
	jq --arg ed "$ed" --argjson es "$(stat -c %s env2.json)" '.layers[0].digest = $ed | .layers[0].size = $es' att.json >att2.json
	put_manifest "$NAME" "sha256-$HEX.att" att2.json
	run --separate-stderr cnai sign verify-attestation "$REPO:v1" --key cosign.pub
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no attestation of $REPO:v1 verifies: attestation 1: signature does not verify with this key"
}

# ---- provenance from the lineage graph ----------------------------------

@test "provenance names the builder, the run's parameters, the data and the model; attest --provenance verifies" {
	cnai init >/dev/null
	cnai -q train --data "$CNAI_ROOT/examples/data/iris.csv" --target target --epochs 2 --seed 1 --register iris -o model >/dev/null 2>&1
	cnai -q package iris >/dev/null
	d=$(cnai package inspect iris:1 --json | jq -r .digest)
	run --separate-stderr cnai sign provenance iris:1
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	echo "$output" >prov.json
	assert_equal "$(jq -r .buildDefinition.buildType prov.json)" https://cnai.dev/package/v1
	assert_equal "$(jq -r .buildDefinition.externalParameters.run_params.seed prov.json)" 1
	assert_equal "$(jq -r .buildDefinition.externalParameters.model prov.json)" iris@1
	data_sha=$(sha256sum "$CNAI_ROOT/examples/data/iris.csv" | cut -c1-64)
	assert_equal "$(jq -r '.buildDefinition.resolvedDependencies[] | select(.name == "iris.csv") | .digest.sha256' prov.json)" "$data_sha"
	[[ $(jq -r .runDetails.builder.id prov.json) == https://cnai.dev/cnai@* ]]
	run --separate-stderr cnai sign attest iris:1 --key cosign.key --provenance --format both
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	run --separate-stderr cnai sign verify-attestation iris:1 --key cosign.pub --type slsaprovenance1
	[ "$status" -eq 0 ] || { echo "$stderr"; return 1; }
	assert_equal "$(jq length <<<"$output")" 2
	assert_equal "$(jq -r '.[1].predicateType' <<<"$output")" https://slsa.dev/provenance/v1
	assert_equal "$(jq -r '.[1].subject[0].digest.sha256' <<<"$output")" "${d#sha256:}"
	# both are in the image's lineage
	assert_equal "$(cnai lineage iris:1 --json | jq '[.. | objects | select(.kind? == "attestation")] | length')" 2
}
