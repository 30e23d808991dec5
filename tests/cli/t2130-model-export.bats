#!/usr/bin/env bats
# cnai model export: materialising a version's files, each digest checked,
# all files or none.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	mkdir -p m/sub
	printf 'weights\n' >m/model.onnx
	printf 'vocab\n' >m/sub/vocab.txt
	cnai model register digits m >/dev/null
}

# The path of the blob holding one file of digits@1.
blob_of() {
	d=$(cnai model show digits --json | jq -r --arg p "$1" '.files[] | select(.path == $p) | .digest')
	echo ".cnai/oci/blobs/sha256/${d#sha256:}"
}

@test "model export -h prints its synopsis and exits 0 outside a store" {
	rm -rf .cnai
	run cnai model export -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai model export <model> <dir> [--force]"
}

@test "export writes every file under DIR with its path in the model" {
	run cnai model export digits@1 out
	[ "$status" -eq 0 ]
	assert_equal "$output" "exported digits@1 (2 files) to out"
	assert_equal "$(cd out && find . -type f | sort)" "$(printf './model.onnx\n./sub/vocab.txt')"
	cmp m/model.onnx out/model.onnx
	cmp m/sub/vocab.txt out/sub/vocab.txt
}

@test "export --json prints the exported version" {
	run cnai --json model export digits out
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '[.name, .version, (.files | map(.path))]')" \
		'["digits",1,["model.onnx","sub/vocab.txt"]]'
}

@test "export into a folder that has files of other names keeps them" {
	mkdir out
	printf 'mine\n' >out/notes
	run cnai model export digits out
	[ "$status" -eq 0 ]
	assert_equal "$(cat out/notes)" mine
	cmp m/model.onnx out/model.onnx
}

@test "export refuses to overwrite a file, exit 2, and writes nothing" {
	mkdir -p out/sub
	printf 'mine\n' >out/sub/vocab.txt
	run --separate-stderr cnai model export digits out
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'out/sub/vocab.txt' exists; use --force to overwrite"
	assert_equal "$(cat out/sub/vocab.txt)" mine
	assert_equal "$(cd out && find . | sort)" "$(printf '.\n./sub\n./sub/vocab.txt')"
}

@test "export --force overwrites files that exist" {
	mkdir -p out/sub
	printf 'mine\n' >out/sub/vocab.txt
	run cnai model export digits out --force
	[ "$status" -eq 0 ]
	cmp m/sub/vocab.txt out/sub/vocab.txt
}

@test "export detects a corrupt blob, exit 1, and writes no file" {
	blob=$(blob_of sub/vocab.txt)
	chmod u+w "$blob"
	printf 'tampered\n' >"$blob"
	run --separate-stderr cnai model export digits out
	[ "$status" -eq 1 ]
	d=$(cnai model show digits --json | jq -r '.files[1].digest')
	assert_equal "$stderr" "cnai: error: 'sub/vocab.txt': blob $d is corrupt (its content hashes to sha256:$(sha256sum "$blob" | cut -d' ' -f1)); nothing exported"
	assert_equal "$(find out -type f)" ""
}

@test "export of a missing blob says to run fsck, exit 2, and writes no file" {
	rm -f "$(blob_of model.onnx)"
	run --separate-stderr cnai model export digits out
	[ "$status" -eq 2 ]
	d=$(cnai model show digits --json | jq -r '.files[0].digest')
	assert_equal "$stderr" "cnai: error: blob $d of 'model.onnx' is missing; run 'cnai fsck'"
	assert_equal "$(find out -type f 2>/dev/null)" ""
}

@test "export of an unknown model is an error and creates no folder" {
	run --separate-stderr cnai model export digits@7 out
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no version 7"
	[ ! -e out ]
}

@test "export to a file that is not a folder is exit 2 and leaves it alone" {
	printf 'mine\n' >afile
	before=$(store_state)
	run --separate-stderr cnai model export digits afile
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'afile' is not a folder"
	[ -z "$output" ]
	assert_equal "$(cat afile)" mine
	assert_equal "$(store_state)" "$before"
}

@test "export needs a model and a folder" {
	run --separate-stderr cnai model export digits
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: missing arguments; usage: cnai model export <model> <dir> [--force]"
	[ -z "$output" ]
}

@test "export writes nothing into the store" {
	before=$(store_state)
	cnai model export digits out >/dev/null
	assert_equal "$(store_state)" "$before"
}
