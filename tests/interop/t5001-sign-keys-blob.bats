#!/usr/bin/env bats
# cnai sign keygen/import-key/blob/verify-blob against independent tools:
# a Python reader of the key format (hashlib scrypt + python3-nacl) and
# openssl for ECDSA signatures.
load ../cli/lib

KEYPY="$CNAI_ROOT/tests/interop/cosign_key.py"

setup() {
	setup_common
	export COSIGN_PASSWORD=s3cret
}

@test "keygen writes a 0600 encrypted key and a PEM public key" {
	run cnai sign keygen
	[ "$status" -eq 0 ]
	[ "$(stat -c %a cosign.key)" = 600 ]
	assert_equal "$(head -1 cosign.key)" "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"
	assert_equal "$(head -1 cosign.pub)" "-----BEGIN PUBLIC KEY-----"
	openssl pkey -pubin -in cosign.pub -noout -text | grep -q 'NIST CURVE: P-256'
}

@test "an independent reader decrypts the key and finds the same public key" {
	cnai sign keygen 2>/dev/null
	run --separate-stderr /usr/bin/python3 "$KEYPY" decrypt cosign.key s3cret
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "type=ENCRYPTED SIGSTORE PRIVATE KEY N=32768 r=8 p=1 salt=32 nonce=24"
	/usr/bin/python3 "$KEYPY" decrypt cosign.key s3cret 2>/dev/null >key.der
	openssl pkey -inform DER -in key.der -pubout >derived.pub
	diff -u cosign.pub derived.pub
}

@test "the passphrase never appears in the key file" {
	export COSIGN_PASSWORD=a-very-distinctive-passphrase
	cnai sign keygen 2>/dev/null
	! grep -q a-very-distinctive cosign.key
	! base64 -d < <(sed '1d;$d' cosign.key) | grep -q a-very-distinctive
}

@test "keygen refuses to overwrite and --force replaces" {
	cnai sign keygen 2>/dev/null
	before=$(sha256sum cosign.key)
	run --separate-stderr cnai sign keygen
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'cosign.key' or 'cosign.pub' exists; use --force to overwrite"
	assert_equal "$(sha256sum cosign.key)" "$before"
	run cnai sign keygen --force
	[ "$status" -eq 0 ]
	[ "$(sha256sum cosign.key)" != "$before" ]
}

@test "--key-format cosign-legacy writes the older PEM type, still readable" {
	cnai sign keygen --key-format cosign-legacy --output-key-prefix old 2>/dev/null
	assert_equal "$(head -1 old.key)" "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----"
	echo data >f
	run cnai sign blob f --key old.key
	[ "$status" -eq 0 ]
}

@test "a wrong passphrase is one clear error, exit 2" {
	cnai sign keygen 2>/dev/null
	echo data >f
	COSIGN_PASSWORD=wrong run --separate-stderr cnai sign blob f --key cosign.key
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: incorrect passphrase for cosign.key"
	[ -z "$output" ]
}

@test "a blob signature verifies with openssl" {
	cnai sign keygen 2>/dev/null
	head -c 100000 /dev/urandom >blob.bin
	cnai sign blob blob.bin --key cosign.key --output-signature blob.sig
	base64 -d blob.sig >blob.sig.der
	run openssl dgst -sha256 -verify cosign.pub -signature blob.sig.der blob.bin
	[ "$status" -eq 0 ]
	assert_equal "$output" "Verified OK"
}

@test "verify-blob accepts an openssl signature and rejects a changed file" {
	cnai sign keygen 2>/dev/null
	/usr/bin/python3 "$KEYPY" decrypt cosign.key s3cret 2>/dev/null >key.der
	echo hello >msg
	openssl dgst -sha256 -sign <(openssl pkey -inform DER -in key.der) msg | base64 -w0 >msg.sig
	run cnai sign verify-blob msg --key cosign.pub --signature msg.sig
	[ "$status" -eq 0 ]
	assert_equal "$output" "Verified OK"
	echo hellO >msg
	run --separate-stderr cnai sign verify-blob msg --key cosign.pub --signature msg.sig
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: msg: signature does not verify with cosign.pub"
}

@test "a signature from another key is rejected" {
	cnai sign keygen 2>/dev/null
	cnai sign keygen --output-key-prefix other 2>/dev/null
	echo x >f
	cnai sign blob f --key other.key --output-signature f.sig
	run cnai sign verify-blob f --key cosign.pub --signature f.sig
	[ "$status" -eq 1 ]
}

@test "a bundle verifies, and a bundle for another file is rejected" {
	cnai sign keygen 2>/dev/null
	echo one >a
	echo two >b
	cnai sign blob a --key cosign.key --bundle a.sigstore.json
	run jq -r '.mediaType, .messageSignature.messageDigest.algorithm' a.sigstore.json
	assert_equal "$output" "$(printf 'application/vnd.dev.sigstore.bundle.v0.3+json\nSHA2_256')"
	assert_equal "$(jq -r .messageSignature.messageDigest.digest a.sigstore.json | base64 -d | xxd -p -c 64)" "$(sha256sum a | cut -c1-64)"
	run cnai sign verify-blob a --key cosign.pub --bundle a.sigstore.json
	[ "$status" -eq 0 ]
	run --separate-stderr cnai sign verify-blob b --key cosign.pub --bundle a.sigstore.json
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: a.sigstore.json: the bundle is for a different file (digest mismatch)"
}

@test "a key written by the independent writer (N=65536) is read by cnai" {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER -out k.der
	/usr/bin/python3 "$KEYPY" encrypt k.der s3cret 65536 "ENCRYPTED COSIGN PRIVATE KEY" >py.key
	openssl pkey -inform DER -in k.der -pubout >py.pub
	echo payload >f
	cnai sign blob f --key py.key --output-signature f.sig
	run cnai sign verify-blob f --key py.pub --signature f.sig
	[ "$status" -eq 0 ]
	run cnai sign public-key --key py.key
	assert_equal "$output" "$(cat py.pub)"
}

@test "import-key converts a plain PEM key into the encrypted format" {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out plain.pem
	run cnai sign import-key plain.pem
	[ "$status" -eq 0 ]
	[ "$(stat -c %a import-cosign.key)" = 600 ]
	openssl pkey -in plain.pem -pubout >plain.pub
	diff -u plain.pub import-cosign.pub
}

@test "import-key takes SEC1 EC and RSA keys, whose signatures openssl verifies" {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem
	openssl ec -in ec.pem -out sec1.pem 2>/dev/null
	[ "$(head -1 sec1.pem)" = "-----BEGIN EC PRIVATE KEY-----" ]
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
	echo payload >f
	for k in sec1 rsa; do
		run --separate-stderr cnai sign import-key $k.pem --output-key-prefix $k-cosign
		[ "$status" -eq 0 ]
		assert_equal "$stderr" "Private key written to $k-cosign.key
Public key written to $k-cosign.pub"
		[ "$(stat -c %a $k-cosign.key)" = 600 ]
		openssl pkey -in $k.pem -pubout | diff -u - $k-cosign.pub
		cnai sign blob f --key $k-cosign.key --output-signature f.$k.sig
		base64 -d f.$k.sig >f.$k.der
		run openssl dgst -sha256 -verify $k-cosign.pub -signature f.$k.der f
		assert_equal "$output" "Verified OK"
	done
}

@test "import-key refuses junk, other key types and existing files, writing nothing" {
	echo junk >j.pem
	run --separate-stderr cnai sign import-key j.pem --output-key-prefix j
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: j.pem: not an unencrypted PEM private key (PKCS#8, SEC1 EC or PKCS#1 RSA)"
	openssl genpkey -algorithm ED25519 -out ed.pem
	run --separate-stderr cnai sign import-key ed.pem --output-key-prefix e
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: ed.pem: only EC and RSA keys are supported"
	[ ! -e j.key ] && [ ! -e j.pub ] && [ ! -e e.key ] && [ ! -e e.pub ]
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem
	echo keep >x.key
	run --separate-stderr cnai sign import-key ec.pem --output-key-prefix x
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'x.key' or 'x.pub' exists; use --force to overwrite"
	assert_equal "$(cat x.key)" keep
	[ ! -e x.pub ]
}

@test "hostile and broken key files are refused with a reason" {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -outform DER -out k.der
	/usr/bin/python3 "$KEYPY" encrypt k.der s3cret 16 "ENCRYPTED SIGSTORE PRIVATE KEY" >ok.key
	# N = 2^21: over the limit; rewrite the JSON's N without re-encrypting
	sed '1d;$d' ok.key | base64 -d | jq -c '.kdf.params.N = 2097152' | base64 -w64 |
		{ echo "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"; cat; echo "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----"; } >big.key
	echo f >f
	run --separate-stderr cnai sign blob f --key big.key
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: big.key: scrypt parameters out of range (N=2097152, r=8, p=1; N must be a power of two up to 2^20)"
	head -3 ok.key >trunc.key
	run --separate-stderr cnai sign blob f --key trunc.key
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: trunc.key: truncated PEM (no END line)"
	sed 's/ENCRYPTED SIGSTORE PRIVATE KEY/RSA PRIVATE KEY/' ok.key >type.key
	run --separate-stderr cnai sign blob f --key type.key
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: type.key: PEM type 'RSA PRIVATE KEY' is not an encrypted cosign key ('ENCRYPTED SIGSTORE PRIVATE KEY')"
}

@test "without COSIGN_PASSWORD or a terminal, signing asks for a passphrase source" {
	cnai sign keygen 2>/dev/null
	unset COSIGN_PASSWORD
	echo f >f
	run --separate-stderr setsid "$CNAI_BIN" sign blob f --key cosign.key </dev/null
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: no passphrase: set COSIGN_PASSWORD or use --passphrase-file"
	echo s3cret >pass.txt
	run setsid "$CNAI_BIN" sign blob f --key cosign.key --passphrase-file pass.txt </dev/null
	[ "$status" -eq 0 ]
}
