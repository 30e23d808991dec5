#!/usr/bin/env bats
# Model references: NAME, NAME@latest, NAME@VERSION, NAME@ALIAS and
# sha256:<prefix>, accepted by every command that takes a model; bad ones
# are one-line errors, exit 2, with nothing written.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	for v in 1 2 3; do
		printf 'weights %s\n' "$v" >w.bin
		cnai model register digits w.bin >/dev/null
	done
	cnai model alias set digits prod 2 >/dev/null
}

# The version number a reference selects, through model show.
version_of() {
	cnai model show "$1" --json | jq -r '"\(.name)@\(.version)"'
}

digest_of() {
	cnai model show "$1" --json | jq -r .digest
}

# Registers versions of model 'amb' until two manifest digests share the
# first 4 hex digits, and prints those 4. A w.bin holding "66" and one
# holding "338" collide (found by running this loop), so it takes two
# registrations unless the manifest format changes; the loop then finds
# another pair (even odds by about 300 versions, near certain by 1500).
ambiguous_prefix() {
	declare -A seen
	local i out hex
	for i in 66 338 $(seq 1 1500); do
		echo "$i" >w.bin
		out=$(cnai model register amb w.bin) || return 1
		case $out in
		registered*) ;;
		*) continue ;;
		esac
		hex=${out##* sha256:}
		hex=${hex:0:4}
		if [ -n "${seen[$hex]:-}" ]; then
			echo "$hex"
			return 0
		fi
		seen[$hex]=$i
	done
	return 1
}

@test "NAME is the latest version" {
	assert_equal "$(version_of digits)" digits@3
}

@test "NAME@latest is the latest version" {
	assert_equal "$(version_of digits@latest)" digits@3
}

@test "NAME@VERSION is that version" {
	assert_equal "$(version_of digits@1)" digits@1
	assert_equal "$(version_of digits@2)" digits@2
}

@test "NAME@ALIAS is the version the alias points at" {
	assert_equal "$(version_of digits@prod)" digits@2
}

@test "a full manifest digest is that version" {
	assert_equal "$(version_of "$(digest_of digits@1)")" digits@1
}

@test "a unique digest prefix of 4 or more hex digits is that version" {
	digest=$(digest_of digits@1)
	for n in 4 5 12 63; do
		assert_equal "$(version_of "${digest:0:$((7 + n))}")" digits@1
	done
}

@test "the latest version moves when a new one is registered" {
	printf 'weights 4\n' >w.bin
	cnai model register digits w.bin >/dev/null
	assert_equal "$(version_of digits)" digits@4
	assert_equal "$(version_of digits@latest)" digits@4
}

@test "export, rm, diff and lineage take every form of reference" {
	prefix=$(digest_of digits@1)
	prefix=${prefix:0:15}
	run cnai model diff digits@prod "$prefix"
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]} ${lines[1]}" "--- digits@2 +++ digits@1"
	run cnai model export "$prefix" out
	[ "$status" -eq 0 ]
	assert_equal "$output" "exported digits@1 (1 file) to out"
	run cnai lineage digits@prod
	[ "$status" -eq 0 ]
	assert_contains "${lines[0]}" "model_version sha256:"
	assert_contains "${lines[0]}" " digits@2"
	run cnai lineage digits
	[ "$status" -eq 0 ]
	assert_contains "${lines[0]}" " digits@3"
	run cnai model rm "$prefix"
	[ "$status" -eq 0 ]
	assert_equal "$output" "removed digits@1"
	run cnai model rm digits@latest
	assert_equal "$output" "removed digits@3"
}

@test "NAME@ALIAS that does not exist names the alias, exit 2, nothing written" {
	before=$(store_state)
	for args in "show digits@nosuchalias" "export digits@nosuchalias out" \
		"rm digits@nosuchalias" "diff digits@1 digits@nosuchalias"; do
		run --separate-stderr cnai model $args
		[ "$status" -eq 2 ]
		assert_equal "$stderr" "cnai: error: model 'digits' has no alias 'nosuchalias'"
		[ -z "$output" ]
	done
	run --separate-stderr cnai lineage digits@nosuchalias
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no alias 'nosuchalias'"
	[ ! -e out ]
	assert_equal "$(store_state)" "$before"
}

@test "NAME@VERSION that does not exist names the version, exit 2" {
	run --separate-stderr cnai model show digits@9
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no version 9"
}

@test "an unknown NAME names the model, exit 2" {
	for ref in letters letters@1 letters@prod letters@latest; do
		run --separate-stderr cnai model show "$ref"
		[ "$status" -eq 2 ]
		assert_equal "$stderr" "cnai: error: model 'letters' not found"
	done
}

@test "'@' alone, '@ALIAS' and 'NAME@' are not references, exit 2, nothing written" {
	before=$(store_state)
	for ref in @ @prod digits@; do
		run --separate-stderr cnai model show "$ref"
		[ "$status" -eq 2 ]
		assert_equal "$stderr" "cnai: error: '$ref' is not a model reference (NAME, NAME@VERSION, NAME@ALIAS or sha256:...)"
		[ -z "$output" ]
		run --separate-stderr cnai model rm "$ref"
		[ "$status" -eq 2 ]
		assert_equal "${#lines[@]}" 0
	done
	run --separate-stderr cnai lineage @
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: '@' is not a model reference (NAME, NAME@VERSION, NAME@ALIAS or sha256:...)"
	assert_equal "$(store_state)" "$before"
}

@test "an invalid model name in a reference is refused, exit 2" {
	run --separate-stderr cnai model show Digits@1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'Digits' is not a valid model name"
}

@test "an ambiguous digest prefix lists the versions it matches, exit 2, nothing written" {
	prefix=$(ambiguous_prefix)
	[ -n "$prefix" ]
	matches=$(cnai model ls amb --json | jq -r --arg p "sha256:$prefix" \
		'[.[] | select(.digest | startswith($p)) | "amb@\(.version)"] | reverse | join(", ")')
	before=$(store_state)
	run --separate-stderr cnai model show "sha256:$prefix"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: digest 'sha256:$prefix' is ambiguous: $matches"
	[ -z "$output" ]
	run --separate-stderr cnai model rm "sha256:$prefix"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: digest 'sha256:$prefix' is ambiguous: $matches"
	assert_equal "$(store_state)" "$before"
	# One more digit tells them apart (or they share that too: keep going).
	digest=$(cnai model ls amb --json | jq -r --arg p "sha256:$prefix" '[.[] | select(.digest | startswith($p))][0].digest')
	for n in $(seq 5 64); do
		run cnai model show "${digest:0:$((7 + n))}" --json
		[ "$status" -eq 0 ] && break
	done
	assert_equal "$(echo "$output" | jq -r .digest)" "$digest"
}

@test "a digest prefix under 4 hex digits is refused, exit 2" {
	for ref in sha256: sha256:a sha256:abc; do
		run --separate-stderr cnai model show "$ref"
		[ "$status" -eq 2 ]
		assert_equal "$stderr" "cnai: error: digest prefix '$ref' is too short (4 hex digits at least)"
	done
}

@test "a digest with characters that are not lowercase hex is refused, exit 2" {
	for ref in sha256:zzzz sha256:ABCD sha256:12-4; do
		run --separate-stderr cnai model show "$ref"
		[ "$status" -eq 2 ]
		assert_equal "$stderr" "cnai: error: '$ref' is not a sha256 digest"
	done
}

@test "a digest prefix that matches no version names it, exit 2" {
	d1=$(digest_of digits@1)
	d2=$(digest_of digits@2)
	d3=$(digest_of digits@3)
	for p in 0000 1111 2222 3333 4444 5555 6666 7777 8888 9999 aaaa bbbb; do
		case "$d1 $d2 $d3" in *sha256:$p*) continue ;; esac
		run --separate-stderr cnai model show "sha256:$p"
		[ "$status" -eq 2 ]
		assert_equal "$stderr" "cnai: error: no model version has digest 'sha256:$p'"
		return 0
	done
	false
}
