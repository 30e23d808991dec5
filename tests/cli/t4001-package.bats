#!/usr/bin/env bats
# cnai package as a command: its usage errors, each with its message, exit
# 2 and nothing written to the store; ls, inspect and export on what it
# built. What independent tools make of the images (skopeo, umoci, a
# registry) is tests/interop/t4100-package-build.bats.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	mkdir m
	head -c 5000 /dev/urandom >m/model.onnx
	cnai model register tiny m >/dev/null
}

# Runs `cnai package ARGS...` and checks: exit 2, stderr $EXPECT, nothing
# on stdout and the store unchanged.
refused() {
	local before
	before=$(store_state)
	run --separate-stderr cnai package "$@"
	[ "$status" -eq 2 ] || { echo "exit $status for: $*"; false; }
	assert_equal "$stderr" "$EXPECT"
	[ -z "$output" ]
	assert_equal "$(store_state)" "$before"
}

@test "bad build options are exit 2, named in the message, and write nothing" {
	EXPECT="cnai: error: --format: 'nope' is not serve, modelcar or artifact" refused tiny --format nope
	EXPECT="cnai: error: compression 'lz4': expected gzip, zstd or none" refused tiny --compression lz4
	EXPECT="cnai: error: --label 'novalue' is not KEY=VALUE" refused tiny --label novalue
	EXPECT="cnai: error: --annotation '=x' is not KEY=VALUE" refused tiny --annotation =x
	EXPECT="cnai: error: --port: 99999 is not 1 to 65535" refused tiny --port 99999
	EXPECT="cnai: error: platform 'linux': expected OS/ARCH[/VARIANT], e.g. linux/amd64" refused tiny --platform linux
	EXPECT="cnai: error: tag 'Bad Tag': expected alphanumerics joined by - . _ : @ + or / (image-spec ref.name), at most 255" refused tiny --tag 'Bad Tag'
	# a bad second tag: the image is not built and the first tag not set
	EXPECT="cnai: error: tag 'Bad Tag': expected alphanumerics joined by - . _ : @ + or / (image-spec ref.name), at most 255" refused tiny --format modelcar --tag good:1 --tag 'Bad Tag'
	EXPECT="cnai: error: model 'nosuch' not found" refused nosuch --format modelcar
	SOURCE_DATE_EPOCH=yesterday EXPECT="cnai: error: SOURCE_DATE_EPOCH 'yesterday' is not a number of seconds" refused tiny --format modelcar
}

@test "--user takes a numeric UID or UID:GID only: a scratch image cannot look a name up" {
	for u in abc 1000: :1 1:2:3 99999999999; do
		EXPECT="cnai: error: --user '$u': expected a numeric UID or UID:GID (a serve image has no /etc/passwd to look a name up)" refused tiny --format modelcar --user "$u"
	done
	run --separate-stderr cnai package tiny --format modelcar --user 1000:1000
	[ "$status" -eq 0 ]
}

@test "ls on a store without images prints the header only; --json an empty array" {
	run --separate-stderr cnai package ls
	[ "$status" -eq 0 ]
	assert_equal "$output" "TAG  DIGEST  KIND  MODEL  SIZE"
	run --separate-stderr cnai package ls --json
	[ "$status" -eq 0 ]
	assert_equal "$output" "[]"
}

@test "ls and inspect describe what package built; its digest is what it printed" {
	run --separate-stderr cnai package tiny --format modelcar
	[ "$status" -eq 0 ]
	digest=${output#tiny:1-modelcar }
	[[ "$digest" =~ ^sha256:[0-9a-f]{64}$ ]]
	run --separate-stderr cnai package ls --json
	assert_equal "$(jq -c '[.[] | [.tag, .digest, .kind, .model]]' <<<"$output")" \
		"$(jq -cn --arg d "$digest" '[["tiny:1-modelcar",$d,"modelcar","tiny@1"]]')"
	run --separate-stderr cnai package inspect tiny:1-modelcar --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r .digest <<<"$output")" "$digest"
	blob=.cnai/oci/blobs/sha256/${digest#sha256:}
	assert_equal "$(jq -cS .manifest <<<"$output")" "$(jq -cS . "$blob")"
	[ "$(sha256sum <"$blob" | cut -c1-64)" = "${digest#sha256:}" ]
}

@test "inspect and export of an unknown image, and export without one destination, are exit 2" {
	EXPECT="cnai: error: no image 'nosuch:1' in '$TEST_DIR/.cnai/oci'" refused inspect nosuch:1
	EXPECT="cnai: error: no image 'nosuch:1' in '$TEST_DIR/.cnai/oci'" refused export nosuch:1 --oci-layout out
	[ ! -e out ]
	cnai package tiny --format modelcar >/dev/null
	usage="cnai: error: usage: cnai package export <image> (--oci-layout <dir> | --docker-archive <file.tar> [--force])"
	EXPECT=$usage refused export tiny:1-modelcar
	EXPECT=$usage refused export tiny:1-modelcar --oci-layout o --docker-archive d.tar
	[ ! -e o ] && [ ! -e d.tar ]
}
