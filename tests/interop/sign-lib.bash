# Shared by the t50xx-sign-* interop tests: a docker-registry with one
# image to sign, cosign keys made by cnai (the private one also decrypted
# to PEM by cosign_key.py, for openssl) and another key; and curl uploads
# that put signatures in a registry without cnai.
load registry-lib

MANIFEST=application/vnd.oci.image.manifest.v1+json
INDEX=application/vnd.oci.image.index.v1+json
INTOTO=application/vnd.in-toto+json

# sign_setup_file PREFIX: the registry, the image layout (digest in
# $FILE_DIR/digest) and the keys, once per file.
sign_setup_file() {
	FILE_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/$1.XXXXXX")
	export FILE_DIR
	start_registry "$FILE_DIR/reg"
	export REG REG_PORT REG_PID
	cd "$FILE_DIR" || return 1
	make_files
	build_image lay v1 >digest
	COSIGN_PASSWORD=s3cret "$CNAI_BIN" sign keygen 2>/dev/null
	/usr/bin/python3 "$CNAI_ROOT/tests/interop/cosign_key.py" decrypt cosign.key s3cret 2>/dev/null >key.der
	openssl pkey -inform DER -in key.der -out key.pem
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.pem 2>/dev/null
	cd / || return 1
}

sign_teardown_file() {
	stop_registry || true
	rm -rf "$FILE_DIR"
}

# sign_setup REPO_PATH: the keys in the test's folder and the image pushed
# to $REG/REPO_PATH ($REPO; its digest $DIGEST, hex $HEX).
sign_setup() {
	setup_common
	export COSIGN_PASSWORD=s3cret
	cp "$FILE_DIR"/cosign.key "$FILE_DIR"/cosign.pub "$FILE_DIR"/key.pem "$FILE_DIR"/other.pem .
	REPO="$REG/$1"
	DIGEST=$(cat "$FILE_DIR/digest")
	HEX=${DIGEST#sha256:}
	oci_tool push "$FILE_DIR/lay" v1 "$REPO:v1" >/dev/null
}

# push_blob REPO FILE: a monolithic upload (POST, then PUT with the
# digest); prints the digest.
push_blob() {
	local d loc
	d="sha256:$(sha256sum <"$2" | cut -c1-64)"
	loc=$(curl -fsS -X POST -D - -o /dev/null "http://$REG/v2/$1/blobs/uploads/" |
		tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	case $loc in /*) loc="http://$REG$loc" ;; esac
	case $loc in *\?*) loc="$loc&" ;; *) loc="$loc?" ;; esac
	curl -fsS -X PUT -H 'Content-Type: application/octet-stream' \
		--data-binary @"$2" "${loc}digest=$d" >/dev/null
	echo "$d"
}

# put_manifest REPO REF FILE [MEDIA_TYPE]
put_manifest() {
	curl -fsS -X PUT -H "Content-Type: ${4:-$MANIFEST}" --data-binary @"$3" \
		"http://$REG/v2/$1/manifests/$2" >/dev/null
}

# store_image: a store here with a model packaged as digits:1-modelcar;
# prints the image's digest.
store_image() {
	mkdir m
	echo weights >m/model.onnx
	cnai init >/dev/null
	cnai model register digits m >/dev/null
	cnai package digits --format modelcar | cut -d' ' -f2
}

# get PATH [ACCEPT]: a body from the registry (a manifest asked for as
# OCI unless ACCEPT says otherwise).
get() { curl -fsS -H "Accept: ${2:-$MANIFEST}" "http://$REG/v2/$1"; }

# status_of PATH: the HTTP status of a manifest GET.
status_of() { curl -s -o /dev/null -w '%{http_code}' -H "Accept: $MANIFEST, $INDEX" "http://$REG/v2/$1"; }

# pae TYPE FILE: DSSE's pre-authentication encoding of FILE's bytes.
pae() {
	printf 'DSSEv1 %d %s %d ' "${#1}" "$1" "$(stat -c %s "$2")"
	cat "$2"
}

# dsse_verifies FILE PATH: the DSSE envelope at jq PATH of FILE is
# in-toto, and openssl verifies its signature with cosign.pub over the
# PAE; its statement is left in statement.json.
dsse_verifies() {
	assert_equal "$(jq -r "$2.payloadType" "$1")" "$INTOTO"
	jq -r "$2.payload" "$1" | base64 -d >statement.json
	assert_equal "$(jq -r ._type statement.json)" https://in-toto.io/Statement/v1
	pae "$INTOTO" statement.json >pae.bin
	jq -r "$2.signatures[0].sig" "$1" | base64 -d >sig.der
	run openssl dgst -sha256 -verify cosign.pub -signature sig.der pae.bin
	assert_equal "$output" "Verified OK"
}
