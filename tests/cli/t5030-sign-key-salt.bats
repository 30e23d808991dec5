#!/usr/bin/env bats
# An encrypted cosign key whose scrypt salt is empty or not base64 is
# refused for what it is, exit 2, before any passphrase is tried.
load lib

setup() {
	setup_common
	export COSIGN_PASSWORD=s3cret
	cnai sign keygen 2>/dev/null
	echo f >f
}

# rekey JQ_FILTER OUT: cosign.key with its JSON body rewritten by JQ_FILTER
# (nothing re-encrypted).
rekey() {
	sed '1d;$d' cosign.key | base64 -d | jq -c "$1" | base64 -w64 |
		{ echo "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"; cat; echo "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----"; } >"$2"
}

@test "an empty scrypt salt is named as such" {
	rekey '.kdf.salt = ""' nosalt.key
	run --separate-stderr cnai sign blob f --key nosalt.key
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: nosalt.key: the scrypt salt in the encrypted key is empty"
	assert_equal "$output" ""
}

@test "a salt that is not base64 is a bad salt, and a short ciphertext is still named" {
	rekey '.kdf.salt = "%%%"' badsalt.key
	run --separate-stderr cnai sign blob f --key badsalt.key
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: badsalt.key: bad 'salt' in the encrypted key"
	rekey '.ciphertext = "AAAA"' short.key
	run --separate-stderr cnai sign blob f --key short.key
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: short.key: ciphertext too short"
}
