#!/usr/bin/env bats
# cnai model diff: two versions' files, and the params and metrics of the
# runs that produced them.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	export CNAI_RUN_ID
	CNAI_RUN_ID=$(cnai track start --name first -p lr=0.1 -p depth=3)
	cnai track log --metric acc=0.9 --metric loss=0.5
	cnai track end
	CNAI_RUN_ID=$(cnai track start --name second -p lr=0.2 -p batch=64)
	cnai track log --metric acc=0.95 --metric loss=0.5
	cnai track end
	unset CNAI_RUN_ID
	mkdir m1 m2
	printf 'a\n' >m1/a.bin
	printf 'b\n' >m1/b.bin
	printf 'x\n' >m1/x.bin
	printf 'a\n' >m2/a.bin
	printf 'c\n' >m2/b.bin
	printf 'd\n' >m2/d.bin
	cnai model register digits m1 --run first >/dev/null
	cnai model register digits m2 --run second >/dev/null
}

d() {
	echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

@test "model diff -h prints its synopsis and exits 0 outside a store" {
	rm -rf .cnai
	run cnai model diff -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai model diff <model> <model>"
}

@test "diff lists files, params and metrics that were added, removed or changed" {
	run cnai model diff digits@1 digits@2
	[ "$status" -eq 0 ]
	cat >expect <<EOF
--- digits@1
+++ digits@2
~ files.b.bin: $(d m1/b.bin) -> $(d m2/b.bin)
+ files.d.bin: (none) -> $(d m2/d.bin)
- files.x.bin: $(d m1/x.bin) -> (none)
+ params.batch: (none) -> 64
- params.depth: 3 -> (none)
~ params.lr: 0.1 -> 0.2
~ metrics.acc: 0.9 -> 0.95
EOF
	echo "$output" >actual
	diff -u expect actual
}

@test "diff --json gives each difference as a and b, and both digests" {
	run cnai --json model diff digits@1 digits
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '.files | map_values([.a, .b])')" \
		"{\"b.bin\":[\"$(d m1/b.bin)\",\"$(d m2/b.bin)\"],\"d.bin\":[null,\"$(d m2/d.bin)\"],\"x.bin\":[\"$(d m1/x.bin)\",null]}"
	assert_equal "$(echo "$output" | jq -c '.params')" \
		'{"batch":{"a":null,"b":"64"},"depth":{"a":"3","b":null},"lr":{"a":"0.1","b":"0.2"}}'
	assert_equal "$(echo "$output" | jq -c '.metrics')" '{"acc":{"a":0.9,"b":0.95}}'
	assert_equal "$(echo "$output" | jq -r '.a, .b')" \
		"$(cnai model show digits@1 --json | jq -r .digest; cnai model show digits@2 --json | jq -r .digest)"
}

@test "a version compared with itself has no differences" {
	run cnai model diff digits@2 digits@latest
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(printf -- '--- digits@2\n+++ digits@2')"
}

@test "versions of two different models can be compared" {
	cnai model register letters m2 >/dev/null
	run cnai model diff digits@2 letters
	[ "$status" -eq 0 ]
	cat >expect <<'EOF'
--- digits@2
+++ letters@1
- params.batch: 64 -> (none)
- params.lr: 0.2 -> (none)
- metrics.acc: 0.95 -> (none)
- metrics.loss: 0.5 -> (none)
EOF
	echo "$output" >actual
	diff -u expect actual
}

@test "diff with a reference that matches nothing is an error, exit 2, no output" {
	run --separate-stderr cnai model diff digits@1 digits@5
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no version 5"
	[ -z "$output" ]
}

@test "diff takes exactly two references" {
	run --separate-stderr cnai model diff digits@1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: missing arguments; usage: cnai model diff <model> <model>"
	run --separate-stderr cnai model diff digits@1 digits@2 digits@2
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: too many arguments; usage: cnai model diff <model> <model>"
}
