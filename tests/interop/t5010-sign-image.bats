#!/usr/bin/env bats
# cnai sign image / verify against a docker-registry, checked with tools
# that share no code with cnai: curl reads the ".sig" manifest and payload
# field by field, openssl verifies the signature; and the reverse: a
# signature made with openssl (key decrypted by cosign_key.py) and pushed
# with curl is accepted, while each kind of tampering is rejected with its
# reason.
load sign-lib

SIMPLE=application/vnd.dev.cosign.simplesigning.v1+json

setup_file() { sign_setup_file cnai-sig; }
teardown_file() { sign_teardown_file; }

# Each test: the image pushed to a repository of its own.
setup() { sign_setup "t/n$BATS_TEST_NUMBER"; }

# ---- signatures made without cnai ---------------------------------------

# payload REF DIGEST [OPTIONAL]: a simple-signing payload, as cosign
# writes it.
payload() {
	printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"},"optional":%s}' \
		"$1" "$2" "${3:-null}"
}

# sign FILE KEY.pem: the base64 DER ECDSA-SHA256 signature.
sign() { openssl dgst -sha256 -sign "$2" "$1" | base64 -w0; }

# push_sig REPO PAYLOAD_FILE SIGNATURE: the payload as the only layer of
# the .sig manifest of $DIGEST in REPO, in cosign's shape.
push_sig() {
	local pd size
	pd=$(push_blob "$1" "$2")
	size=$(stat -c %s "$2")
	jq -cn --arg d "$pd" '{architecture: "", created: "0001-01-01T00:00:00Z",
		history: [{created: "0001-01-01T00:00:00Z"}], os: "",
		rootfs: {type: "layers", diff_ids: [$d]}, config: {}}' >sig-config.json
	jq -cn --arg cd "$(push_blob "$1" sig-config.json)" \
		--argjson cs "$(stat -c %s sig-config.json)" \
		--arg pd "$pd" --argjson ps "$size" --arg sig "$3" --arg mt "$MANIFEST" \
		--arg st "$SIMPLE" \
		'{schemaVersion: 2, mediaType: $mt,
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs},
		  layers: [{mediaType: $st, digest: $pd, size: $ps,
		    annotations: {"dev.cosignproject.cosign/signature": $sig}}]}' >sig-manifest.json
	put_manifest "$1" "sha256-$HEX.sig" sig-manifest.json
}

# verify_fails REASON: cnai sign verify rejects $REPO:v1 for REASON.
verify_fails() {
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub "${@:2}"
	[ "$status" -eq 1 ] || { echo "exit $status: $stderr"; return 1; }
	assert_equal "$stderr" "cnai: error: no signature of $REPO:v1 verifies: signature 1: $1"
	assert_equal "$output" ""
}

# ---- what cnai writes ---------------------------------------------------

@test "the .sig manifest cnai pushes has cosign's shape, field by field" {
	run --separate-stderr cnai sign image "$REPO:v1" --key cosign.key
	[ "$status" -eq 0 ]
	assert_equal "$output" "signed $REPO@$DIGEST as $REPO (sha256-$HEX.sig)"
	run get "t/n$BATS_TEST_NUMBER/manifests/sha256-$HEX.sig"
	[ "$status" -eq 0 ]
	m=$output
	assert_equal "$(jq -r .schemaVersion <<<"$m")" 2
	assert_equal "$(jq -r .mediaType <<<"$m")" "$MANIFEST"
	assert_equal "$(jq -r .config.mediaType <<<"$m")" application/vnd.oci.image.config.v1+json
	assert_equal "$(jq '.layers | length' <<<"$m")" 1
	assert_equal "$(jq -r '.layers[0].mediaType' <<<"$m")" "$SIMPLE"
	assert_equal "$(jq -r '.layers[0].annotations | keys | join(",")' <<<"$m")" dev.cosignproject.cosign/signature
	sig=$(jq -r '.layers[0].annotations["dev.cosignproject.cosign/signature"]' <<<"$m")
	# standard, padded base64 of a DER SEQUENCE
	[[ "$sig" =~ ^[A-Za-z0-9+/]+=*$ ]]
	assert_equal "$(base64 -d <<<"$sig" | head -c 1 | xxd -p)" 30
	# The config lists the layers' digests as diff_ids.
	cfg=$(get "t/n$BATS_TEST_NUMBER/blobs/$(jq -r .config.digest <<<"$m")")
	assert_equal "$(jq -c '[.rootfs.type, .rootfs.diff_ids]' <<<"$cfg")" "[\"layers\",[$(jq -c '.layers[0].digest' <<<"$m")]]"
	# The layer's size and digest are the payload blob's.
	get "t/n$BATS_TEST_NUMBER/blobs/$(jq -r '.layers[0].digest' <<<"$m")" >payload
	assert_equal "$(stat -c %s payload)" "$(jq -r '.layers[0].size' <<<"$m")"
	assert_equal "sha256:$(sha256sum <payload | cut -c1-64)" "$(jq -r '.layers[0].digest' <<<"$m")"
}

@test "the payload is strict simple signing for the repository, and openssl verifies it" {
	cnai sign image "$REPO:v1" --key cosign.key >/dev/null
	m=$(get "t/n$BATS_TEST_NUMBER/manifests/sha256-$HEX.sig")
	get "t/n$BATS_TEST_NUMBER/blobs/$(jq -r '.layers[0].digest' <<<"$m")" >payload
	# Exactly critical{identity,image,type} and optional.
	assert_equal "$(jq -c '[keys, (.critical | keys)]' payload)" '[["critical","optional"],["identity","image","type"]]'
	assert_equal "$(jq -c .critical.identity payload)" "{\"docker-reference\":\"$REPO\"}"
	assert_equal "$(jq -c .critical.image payload)" "{\"docker-manifest-digest\":\"$DIGEST\"}"
	assert_equal "$(jq -r .critical.type payload)" "cosign container image signature"
	assert_equal "$(jq -c .optional payload)" null
	assert_equal "$(cat payload)" "$(payload "$REPO" "$DIGEST")"
	sig=$(jq -r '.layers[0].annotations["dev.cosignproject.cosign/signature"]' <<<"$m")
	run openssl dgst -sha256 -verify cosign.pub -signature <(base64 -d <<<"$sig") payload
	[ "$status" -eq 0 ]
	assert_equal "$output" "Verified OK"
}

@test "--identity-tag names repo:tag and -a annotations go into optional" {
	run --separate-stderr cnai sign image "$REPO:v1" --key cosign.key --identity-tag -a env=prod -a team=ml
	[ "$status" -eq 0 ]
	assert_equal "$output" "signed $REPO@$DIGEST as $REPO:v1 (sha256-$HEX.sig)"
	m=$(get "t/n$BATS_TEST_NUMBER/manifests/sha256-$HEX.sig")
	get "t/n$BATS_TEST_NUMBER/blobs/$(jq -r '.layers[0].digest' <<<"$m")" >payload
	assert_equal "$(jq -r '.critical.identity["docker-reference"]' payload)" "$REPO:v1"
	assert_equal "$(jq -c .optional payload)" '{"env":"prod","team":"ml"}'
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub -a env=prod
	[ "$status" -eq 0 ]
	assert_equal "$(jq -c . <<<"$output")" "[$(cat payload)]"
	# A repo:tag identity holds for that tag only.
	run --separate-stderr cnai sign verify "$REPO@$DIGEST" --key cosign.pub
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no signature of $REPO@$DIGEST verifies: signature 1: identity '$REPO:v1' does not match '$REPO'"
}

@test "signing twice keeps both signatures, and both verify" {
	cnai sign image "$REPO:v1" --key cosign.key >/dev/null
	cnai sign image "$REPO:v1" --key cosign.key -a n=2 >/dev/null
	m=$(get "t/n$BATS_TEST_NUMBER/manifests/sha256-$HEX.sig")
	assert_equal "$(jq '.layers | length' <<<"$m")" 2
	assert_equal "$(jq -r '[.layers[].mediaType] | unique | join(",")' <<<"$m")" "$SIMPLE"
	cfg=$(get "t/n$BATS_TEST_NUMBER/blobs/$(jq -r .config.digest <<<"$m")")
	assert_equal "$(jq -c .rootfs.diff_ids <<<"$cfg")" "$(jq -c '[.layers[].digest]' <<<"$m")"
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub
	[ "$status" -eq 0 ]
	assert_equal "$(jq -c '[.[].optional]' <<<"$output")" '[null,{"n":"2"}]'
}

@test "an image without signatures is exit 1, no signatures found" {
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: no signatures found for $REPO:v1 (no sha256-$HEX.sig tag, no Sigstore bundle referrers)"
	assert_equal "$output" ""
}

# ---- signatures made with openssl and curl ------------------------------

@test "a signature made with openssl and pushed with curl is accepted" {
	payload "$REPO" "$DIGEST" '{"by":"openssl"}' >payload
	push_sig "t/n$BATS_TEST_NUMBER" payload "$(sign payload key.pem)"
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub
	[ "$status" -eq 0 ]
	assert_equal "$(jq -c . <<<"$output")" "[$(cat payload)]"
	assert_equal "$stderr" "Verification for $REPO:v1 --
The following checks were performed on each of these signatures:
  - The signatures were verified against the specified public key
  - The payload's manifest digest matches $DIGEST"
	# and by digest, as the repository form names no tag
	run --separate-stderr cnai sign verify "$REPO@$DIGEST" --key cosign.pub
	[ "$status" -eq 0 ]
}

@test "a payload changed after signing is rejected" {
	payload "$REPO" "$DIGEST" >payload
	sig=$(sign payload key.pem)
	payload "$REPO" "$DIGEST" '{"x":"y"}' >payload
	push_sig "t/n$BATS_TEST_NUMBER" payload "$sig"
	verify_fails "signature does not verify with this key"
}

@test "a signature with a byte flipped is rejected" {
	payload "$REPO" "$DIGEST" >payload
	sig=$(sign payload key.pem | base64 -d |
		/usr/bin/python3 -c 'import sys; b = bytearray(sys.stdin.buffer.read()); b[-1] ^= 1; sys.stdout.buffer.write(b)' |
		base64 -w0)
	push_sig "t/n$BATS_TEST_NUMBER" payload "$sig"
	verify_fails "signature does not verify with this key"
}

@test "a signature from another key is rejected" {
	payload "$REPO" "$DIGEST" >payload
	push_sig "t/n$BATS_TEST_NUMBER" payload "$(sign payload other.pem)"
	verify_fails "signature does not verify with this key"
}

@test "a signed payload naming another digest is rejected" {
	other=sha256:$(printf '0%.0s' $(seq 64))
	payload "$REPO" "$other" >payload
	push_sig "t/n$BATS_TEST_NUMBER" payload "$(sign payload key.pem)"
	verify_fails "payload is for $other, not $DIGEST"
}

@test "a signed payload for another repository is rejected" {
	payload "$REG/t/elsewhere" "$DIGEST" >payload
	push_sig "t/n$BATS_TEST_NUMBER" payload "$(sign payload key.pem)"
	verify_fails "identity '$REG/t/elsewhere' does not match '$REPO'"
}

@test "a required annotation that is absent is rejected" {
	payload "$REPO" "$DIGEST" '{"env":"dev"}' >payload
	push_sig "t/n$BATS_TEST_NUMBER" payload "$(sign payload key.pem)"
	verify_fails "required annotation 'env=prod' is not in the payload" -a env=prod
	run --separate-stderr cnai sign verify "$REPO:v1" --key cosign.pub -a env=dev
	[ "$status" -eq 0 ]
}

@test "payloads containers/image would refuse are rejected even when signed" {
	printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature","extra":1},"optional":null}' \
		"$REPO" "$DIGEST" >payload
	push_sig "t/n$BATS_TEST_NUMBER" payload "$(sign payload key.pem)"
	verify_fails "payload: unexpected field 'extra' in critical"
	# "optional" must be there, if only as null
	printf '{"critical":{"identity":{"docker-reference":"%s"},"image":{"docker-manifest-digest":"%s"},"type":"cosign container image signature"}}' \
		"$REPO" "$DIGEST" >payload
	push_sig "t/n$BATS_TEST_NUMBER" payload "$(sign payload key.pem)"
	verify_fails "payload: the payload has no 'optional'"
}

# ---- the local store ----------------------------------------------------

@test "an image signed in the store carries its .sig along when pushed" {
	d=$(store_image)
	run --separate-stderr cnai sign image digits:1-modelcar --key cosign.key
	[ "$status" -eq 0 ]
	assert_equal "$output" "signed digits@$d as digits (sha256-${d#sha256:}.sig)"
	run --separate-stderr cnai sign verify digits:1-modelcar --key cosign.pub
	[ "$status" -eq 0 ]
	local_sig=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "sha256-'"${d#sha256:}"'.sig") | .digest' .cnai/oci/index.json)
	[ -n "$local_sig" ]
	# ls lists images, not their attachments.
	assert_equal "$(cnai package ls --json | jq -r '.[].tag')" digits:1-modelcar
	run --separate-stderr cnai package push digits:1-modelcar "$REPO:model"
	[ "$status" -eq 0 ]
	assert_equal "$output" "pushed $REPO:model@$d
pushed $REPO:sha256-${d#sha256:}.sig@$local_sig"
	run curl -fsS -o /dev/null -w '%{http_code}' -H "Accept: $MANIFEST" "http://$REG/v2/t/n$BATS_TEST_NUMBER/manifests/sha256-${d#sha256:}.sig"
	assert_equal "$output" 200
	assert_equal "$(get "t/n$BATS_TEST_NUMBER/manifests/sha256-${d#sha256:}.sig" | sha256sum | cut -c1-64)" "${local_sig#sha256:}"
}
