#!/usr/bin/env bats
# cnai model export into a folder that holds symbolic links: no link below
# the destination is followed. A link where a file goes is a file that
# exists (replaced by --force, never written through); a link, or a file,
# where a folder goes is refused by name, exit 2, with nothing written.
# The destination itself was named by the user and is followed.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	mkdir -p m/sub
	printf 'weights\n' >m/model.onnx
	printf 'vocab\n' >m/sub/vocab.txt
	cnai model register digits m >/dev/null
	mkdir victims out
	printf 'victim\n' >victims/vocab.txt
	printf 'victim\n' >victim
}

# Runs `cnai model export ARGS...` and checks: exit 2, stderr $EXPECT,
# nothing on stdout, the store unchanged, the victims unchanged.
refused() {
	local before
	before=$(store_state)
	run --separate-stderr cnai model export "$@"
	[ "$status" -eq 2 ] || { echo "exit $status: $stderr"; false; }
	assert_equal "$stderr" "$EXPECT"
	[ -z "$output" ]
	assert_equal "$(store_state)" "$before"
	assert_equal "$(cat victim)" victim
	assert_equal "$(ls victims)" vocab.txt
	assert_equal "$(cat victims/vocab.txt)" victim
}

@test "a link where a folder of the model goes is refused and nothing is written through it" {
	ln -s ../victims out/sub
	EXPECT="cnai: error: 'out/sub' is a symbolic link (not followed below 'out')" refused digits out --force
	[ ! -e out/model.onnx ]
	rm victims/vocab.txt
	printf 'victim\n' >victims/vocab.txt
	EXPECT="cnai: error: 'out/sub' is a symbolic link (not followed below 'out')" refused digits out
	assert_equal "$(find out | sort)" "$(printf 'out\nout/sub')"
}

@test "a link where a file goes exists: refused without --force, replaced (not followed) with it" {
	ln -s ../victim out/model.onnx
	EXPECT="cnai: error: 'out/model.onnx' exists; use --force to overwrite" refused digits out
	[ -L out/model.onnx ]
	run cnai model export digits out --force
	[ "$status" -eq 0 ]
	[ ! -L out/model.onnx ]
	cmp m/model.onnx out/model.onnx
	assert_equal "$(cat victim)" victim
}

@test "a dangling link where a file goes is replaced, its target never created" {
	ln -s ../created-through-link out/model.onnx
	EXPECT="cnai: error: 'out/model.onnx' exists; use --force to overwrite" refused digits out
	run cnai model export digits out --force
	[ "$status" -eq 0 ]
	[ ! -L out/model.onnx ]
	cmp m/model.onnx out/model.onnx
	[ ! -e created-through-link ]
}

@test "a folder where a file goes, or a file where a folder goes, is exit 2" {
	mkdir out/model.onnx
	EXPECT="cnai: error: 'out/model.onnx' is a folder" refused digits out --force
	rmdir out/model.onnx
	printf 'mine\n' >out/sub
	EXPECT="cnai: error: 'out/sub' is not a folder" refused digits out --force
	assert_equal "$(cat out/sub)" mine
	[ ! -e out/model.onnx ]
}

@test "a destination that is itself a link to a folder is followed" {
	ln -s out dest
	run cnai model export digits dest
	[ "$status" -eq 0 ]
	assert_equal "$output" "exported digits@1 (2 files) to dest"
	cmp m/model.onnx out/model.onnx
	cmp m/sub/vocab.txt out/sub/vocab.txt
}
