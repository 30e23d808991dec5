#!/usr/bin/env bats
# A directory given where a key file belongs is bad input (exit 2, named as
# a directory), not a runtime failure, and nothing is signed or written.
load lib

setup() {
	setup_common
	export COSIGN_PASSWORD=s3cret
	cnai init >/dev/null
	mkdir keys
	echo f >f
}

@test "sign blob --key DIR: exit 2, the directory named, no signature written" {
	before=$(ls -A | sort)
	run --separate-stderr cnai sign blob f --key keys --output-signature f.sig
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'keys' is a directory"
	assert_equal "$output" ""
	assert_equal "$(ls -A | sort)" "$before"
}

@test "sign verify-blob --key DIR: exit 2, the directory named" {
	echo sig >f.sig
	run --separate-stderr cnai sign verify-blob f --key keys --signature f.sig
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'keys' is a directory"
}
