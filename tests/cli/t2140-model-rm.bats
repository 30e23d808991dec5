#!/usr/bin/env bats
# cnai model rm: removing a version, refused while aliased unless --force;
# numbers are never reused; blobs stay until gc.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	for v in 1 2; do
		printf 'weights %s\n' "$v" >"w$v.bin"
		cnai model register digits "w$v.bin" >/dev/null
	done
}

@test "model rm -h prints its synopsis and exits 0 outside a store" {
	rm -rf .cnai
	run cnai model rm -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai model rm <model> [--force]"
}

@test "rm removes the version from listings and references" {
	run cnai model rm digits@1
	[ "$status" -eq 0 ]
	assert_equal "$output" "removed digits@1"
	assert_equal "$(cnai model ls digits --json | jq -c '[.[].version]')" '[2]'
	run --separate-stderr cnai model show digits@1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no version 1"
}

@test "rm --json reports name, version and digest" {
	digest=$(cnai model show digits@2 --json | jq -r .digest)
	run cnai --json model rm digits
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c .)" "{\"name\":\"digits\",\"version\":2,\"digest\":\"$digest\"}"
}

@test "rm is refused while an alias points at the version, exit 2, nothing written" {
	cnai model alias set digits prod 2 >/dev/null
	cnai model alias set digits canary 2 >/dev/null
	before=$(store_state)
	run --separate-stderr cnai model rm digits@2
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: digits@2 is aliased (canary, prod); move the alias or use --force"
	assert_equal "$(store_state)" "$before"
}

@test "rm --force removes the aliases too and records their removal" {
	cnai model alias set digits prod 2 >/dev/null
	run cnai model rm digits@prod --force
	[ "$status" -eq 0 ]
	assert_equal "$output" "removed digits@2"
	run --separate-stderr cnai model show digits@prod
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no alias 'prod'"
	assert_equal "$(cnai model show digits --json | jq -c '[.alias_history[] | [.alias, .version]]')" \
		'[["prod",2],["prod",null]]'
}

@test "version numbers are never reused after rm" {
	cnai model rm digits@2 >/dev/null
	printf 'weights 3\n' >w3.bin
	run cnai model register digits w3.bin
	assert_contains "$output" "registered digits@3 "
	# The removed content, registered again, is a new version too.
	run cnai model register digits w2.bin
	assert_contains "$output" "registered digits@4 "
	assert_equal "$(cnai model ls digits --json | jq -c '[.[].version]')" '[4,3,1]'
}

@test "the removed version's blobs stay until gc, and fsck stays clean" {
	digest=$(cnai model show digits@2 --json | jq -r .digest)
	cnai model rm digits@2 >/dev/null
	[ -f ".cnai/oci/blobs/sha256/${digest#sha256:}" ]
	run cnai fsck
	[ "$status" -eq 0 ]
	assert_contains "$output" ": 0 problems"
	cnai gc --keep-recent 0 >/dev/null
	[ ! -e ".cnai/oci/blobs/sha256/${digest#sha256:}" ]
	[ ! -e ".cnai/oci/blobs/sha256/$(sha256sum w2.bin | cut -d' ' -f1)" ]
	[ -e ".cnai/oci/blobs/sha256/$(sha256sum w1.bin | cut -d' ' -f1)" ]
	run cnai fsck
	[ "$status" -eq 0 ]
}

@test "rm removes the version from the lineage graph" {
	digest=$(cnai model show digits@2 --json | jq -r .digest)
	cnai model rm digits@2 >/dev/null
	run --separate-stderr cnai lineage "$digest"
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "not found"
}

@test "rm of a reference that matches nothing is an error, exit 2, nothing written" {
	before=$(store_state)
	run --separate-stderr cnai model rm digits@9
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no version 9"
	run --separate-stderr cnai model rm nosuch
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'nosuch' not found"
	assert_equal "$(store_state)" "$before"
}

@test "rm takes exactly one reference" {
	run --separate-stderr cnai model rm digits@1 digits@2
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: too many arguments; usage: cnai model rm <model> [--force]"
	assert_equal "$(cnai model ls digits --json | jq length)" 2
}
