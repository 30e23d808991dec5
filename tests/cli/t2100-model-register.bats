#!/usr/bin/env bats
# cnai model register: storing files as a new version of a model, the
# version's OCI manifest, idempotence, and every input error.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	printf 'weights one\n' >model.bin
}

# The sha256 of a file, as "sha256:<hex>".
digest_of() {
	echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"
}

# The path of a blob in the store.
blob() {
	echo ".cnai/oci/blobs/sha256/${1#sha256:}"
}

@test "model register -h prints its synopsis and exits 0 outside a store" {
	rm -rf .cnai
	run cnai model register -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai model register <name> <path>... [--run <run>] [--flavor onnx|safetensors|cnai|files] [--description <text>] [--tag <key>=<value>]..."
}

@test "model register makes version 1 and prints its name, number and manifest digest" {
	run cnai model register digits model.bin
	[ "$status" -eq 0 ]
	digest=$(cnai model show digits --json | jq -r .digest)
	assert_equal "$output" "registered digits@1 $digest (1 file)"
	assert_equal "$(digest_of "$(blob "$digest")")" "$digest"
}

@test "the version is an OCI image manifest with the ModelPack artifact type" {
	cnai model register digits model.bin >/dev/null
	mkdir m
	printf 'README\n' >m/README.md
	printf '{"a":1}\n' >m/config.json
	cnai model register digits model.bin m >/dev/null
	digest=$(cnai model show digits@2 --json | jq -r .digest)
	man=$(blob "$digest")
	run jq -r '.schemaVersion, .mediaType, .artifactType, .config.mediaType' "$man"
	assert_equal "$output" "$(printf '%s\n' 2 application/vnd.oci.image.manifest.v1+json \
		application/vnd.cncf.model.manifest.v1+json application/vnd.cncf.model.config.v1+json)"
	run jq -r '.layers[] | [.annotations["org.cncf.model.filepath"], .mediaType, .size] | @tsv' "$man"
	assert_equal "$output" "$(printf '%s\t%s\t%s\n' \
		README.md application/vnd.cncf.model.doc.v1.raw 7 \
		config.json application/vnd.cncf.model.weight.config.v1.raw 8 \
		model.bin application/vnd.cncf.model.weight.v1.raw 12)"
	# Every descriptor's blob exists, hashes to its digest, has its size.
	for d in $(jq -r '.config.digest, .layers[].digest' "$man"); do
		[ -f "$(blob "$d")" ]
		assert_equal "$(digest_of "$(blob "$d")")" "$d"
	done
	run jq -r '(.config, .layers[]) | "\(.digest) \(.size)"' "$man"
	for line in "${lines[@]}"; do
		set -- $line
		assert_equal "$(stat -c %s "$(blob "$1")")" "$2"
	done
	assert_equal "$(jq -r '.layers[] | select(.annotations["org.cncf.model.filepath"] == "model.bin") | .digest' "$man")" \
		"$(digest_of model.bin)"
	assert_equal "$(jq -r '.config.format' "$(blob "$(jq -r .config.digest "$man")")")" files
}

@test "a folder's files keep their relative paths and the flavor is guessed from them" {
	mkdir -p net/sub
	printf 'onnx\n' >net/model.onnx
	printf 'vocab\n' >net/sub/vocab.txt
	run cnai model register digits net
	[ "$status" -eq 0 ]
	run cnai model show digits --json
	assert_equal "$(echo "$output" | jq -r '.flavor')" onnx
	assert_equal "$(echo "$output" | jq -r '.files[] | "\(.path) \(.size) \(.digest)"')" \
		"$(printf 'model.onnx 5 %s\nsub/vocab.txt 6 %s' "$(digest_of net/model.onnx)" "$(digest_of net/sub/vocab.txt)")"
}

@test "registering identical content again reports the existing version and writes nothing" {
	cnai model register digits model.bin >/dev/null
	digest=$(cnai model show digits --json | jq -r .digest)
	before=$(store_state)
	run cnai model register digits model.bin
	[ "$status" -eq 0 ]
	assert_equal "$output" "digits@1 already has this content $digest; nothing registered"
	assert_equal "$(store_state)" "$before"
	run cnai --json model register digits model.bin
	assert_equal "$(echo "$output" | jq -c '[.version, .registered]')" '[1,false]'
}

@test "new content makes the next version" {
	cnai model register digits model.bin >/dev/null
	printf 'weights two\n' >model.bin
	run cnai model register digits model.bin
	[ "$status" -eq 0 ]
	assert_contains "$output" "registered digits@2 sha256:"
	assert_equal "$(cnai model ls digits --json | jq -c '[.[].version]')" '[2,1]'
}

@test "the same files under another name are a version of that model" {
	cnai model register digits model.bin >/dev/null
	run cnai model register letters model.bin
	[ "$status" -eq 0 ]
	assert_contains "$output" "registered letters@1 sha256:"
	[ "$(cnai model show digits --json | jq -r .digest)" != "$(cnai model show letters --json | jq -r .digest)" ]
}

@test "--flavor, --description and --tag are recorded with the version" {
	run cnai --json model register digits model.bin --flavor safetensors \
		--description 'first cut' --tag stage=dev --tag owner=ml
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '[.name, .version, .flavor, .description, .tags, .registered, .run_id, .created_by]')" \
		"[\"digits\",1,\"safetensors\",\"first cut\",{\"owner\":\"ml\",\"stage\":\"dev\"},true,null,\"$(id -un)\"]"
}

@test "register --json prints the version with its files" {
	run cnai model register digits model.bin --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r 'keys_unsorted | join(",")')" \
		"name,version,digest,flavor,description,run_id,created,created_by,files,aliases,tags,registered"
	assert_equal "$(echo "$output" | jq -c '.files')" \
		"[{\"path\":\"model.bin\",\"digest\":\"$(digest_of model.bin)\",\"size\":12,\"media_type\":\"application/vnd.cncf.model.weight.v1.raw\"}]"
}

@test "an invalid model name is refused, exit 2, nothing written" {
	before=$(store_state)
	for name in Digits _x .x 'a b' 'a/b' ''; do
		run --separate-stderr cnai model register "$name" model.bin
		[ "$status" -eq 2 ]
		assert_equal "$stderr" "cnai: error: '$name' is not a valid model name (lowercase letters, digits, '.', '_', '-'; at most 128)"
	done
	run --separate-stderr cnai model register "$(printf 'a%.0s' $(seq 129))" model.bin
	[ "$status" -eq 2 ]
	assert_equal "$(store_state)" "$before"
}

@test "a missing file is an error naming it, exit 2, nothing written" {
	before=$(store_state)
	run --separate-stderr cnai model register digits model.bin nothere.bin
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: cannot read 'nothere.bin': No such file or directory"
	assert_equal "$(store_state)" "$before"
}

@test "a name without paths is a usage error, exit 2" {
	run --separate-stderr cnai model register digits
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "cnai: error: missing arguments; usage: cnai model register <name> <path>..."
}

@test "an unknown --flavor is refused, exit 2, nothing written" {
	before=$(store_state)
	run --separate-stderr cnai model register digits model.bin --flavor pickle
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --flavor: 'pickle' is not onnx, safetensors, cnai or files"
	assert_equal "$(store_state)" "$before"
}

@test "a --tag without '=' is refused before anything is written" {
	before=$(store_state)
	run --separate-stderr cnai model register digits model.bin --tag stage
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --tag 'stage' is not KEY=VALUE"
	assert_equal "$(store_state)" "$before"
}

@test "an unknown --run is refused, exit 2, nothing written" {
	before=$(store_state)
	run --separate-stderr cnai model register digits model.bin --run nosuchrun
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "nosuchrun"
	assert_equal "$(store_state)" "$before"
}

@test "an empty folder has no files to register, exit 2" {
	mkdir empty
	before=$(store_state)
	run --separate-stderr cnai model register digits empty
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: no files to register"
	assert_equal "$(store_state)" "$before"
}

@test "two files that would have the same path in the model are refused" {
	mkdir m
	printf 'other\n' >m/model.bin
	before=$(store_state)
	run --separate-stderr cnai model register digits model.bin m
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: two files would both be 'model.bin' in the model"
	assert_equal "$(store_state)" "$before"
}

@test "a FIFO is refused instead of blocking" {
	mkfifo pipe
	before=$(store_state)
	run --separate-stderr timeout 10 "$CNAI_BIN" model register digits pipe
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'pipe' is not a file or a folder"
	assert_equal "$(store_state)" "$before"
}

@test "register outside a store says so, exit 2" {
	rm -rf .cnai
	run --separate-stderr cnai model register digits model.bin
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: not in a cnai store (or any parent); run 'cnai init'"
}
