#!/usr/bin/env bats
# cnai model register and symbolic links: a link inside the folder is
# registered as the file or folder it points to when that is inside the
# folder too; a link out of it (however it is spelled: "..", an absolute
# path, a chain of links), to nothing, or in a loop is refused by name,
# exit 2, with nothing registered. Paths named on the command line are
# followed.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	mkdir -p m/sub outside
	printf 'weights\n' >m/model.onnx
	printf 'vocab\n' >m/sub/vocab.txt
	printf 'secret\n' >outside/secret
}

# Runs `cnai model register digits m` and checks: exit 2, stderr
# "cnai: error: $1", nothing on stdout, the store unchanged.
refused() {
	local before
	before=$(store_state)
	run --separate-stderr cnai model register digits m
	[ "$status" -eq 2 ] || { echo "exit $status: $stderr"; false; }
	assert_equal "$stderr" "cnai: error: $1"
	[ -z "$output" ]
	assert_equal "$(store_state)" "$before"
}

@test "a link to a file outside the folder is refused by name and nothing is registered" {
	ln -s ../outside/secret m/weights.bin
	refused "symbolic link 'm/weights.bin' points outside 'm' (to '$(realpath outside/secret)')"
	ln -sf /etc/passwd m/weights.bin
	refused "symbolic link 'm/weights.bin' points outside 'm' (to '/etc/passwd')"
}

@test "a link to a folder outside is refused, not walked" {
	ln -s /etc m/sub/etc
	refused "symbolic link 'm/sub/etc' points outside 'm' (to '/etc')"
}

@test "'..' components and chains of links do not hide a way out" {
	ln -s ../sub/../../outside/secret m/sub/dotdot
	refused "symbolic link 'm/sub/dotdot' points outside 'm' (to '$(realpath outside/secret)')"
	rm m/sub/dotdot
	# inside m a single link; the chain runs outside
	ln -s hop2 hop1
	ln -s outside/secret hop2
	ln -s ../hop1 m/chained
	refused "symbolic link 'm/chained' points outside 'm' (to '$(realpath outside/secret)')"
}

@test "a link to nothing is refused by name" {
	ln -s nosuch m/sub/gone
	refused "symbolic link 'm/sub/gone' points to nothing"
}

@test "a link loop is refused by name" {
	ln -s self m/self
	refused "symbolic link 'm/self' is a loop"
}

@test "a link to a folder it is in is refused as a loop" {
	ln -s .. m/sub/up
	refused "symbolic link 'm/sub/up' is a loop (it leads to a folder it is in)"
	rm m/sub/up
	ln -s "$PWD/m" m/sub/top
	refused "symbolic link 'm/sub/top' is a loop (it leads to a folder it is in)"
}

@test "links inside the folder are registered as the files and folders they point to" {
	ln -s model.onnx m/alias.onnx
	ln -s "$PWD/m/sub/vocab.txt" m/abs.txt
	ln -s sub m/subdir
	# out of the folder and back in is inside
	ln -s m/model.onnx back
	ln -s ../back m/back.onnx
	run cnai model register digits m
	[ "$status" -eq 0 ]
	run cnai model show digits --json
	w=$(sha256sum m/model.onnx | cut -d' ' -f1)
	v=$(sha256sum m/sub/vocab.txt | cut -d' ' -f1)
	assert_equal "$(echo "$output" | jq -r '.files[] | "\(.path) \(.digest)"')" \
		"$(printf '%s\n' "abs.txt sha256:$v" "alias.onnx sha256:$w" "back.onnx sha256:$w" \
			"model.onnx sha256:$w" "sub/vocab.txt sha256:$v" "subdir/vocab.txt sha256:$v")"
}

@test "a file or folder named on the command line is followed even when it is a link" {
	ln -s outside/secret named.bin
	ln -s m mlink
	run cnai model register digits named.bin mlink
	[ "$status" -eq 0 ]
	run cnai model show digits --json
	assert_equal "$(echo "$output" | jq -r '.files[] | "\(.path) \(.size)"')" \
		"$(printf '%s\n' 'model.onnx 8' 'named.bin 7' 'sub/vocab.txt 6')"
}
