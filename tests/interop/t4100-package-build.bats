#!/usr/bin/env bats
# cnai package builds images of a registered model in the store's OCI
# layout that independent tools accept: skopeo and umoci read them, agree
# on their digests and unpack exactly the model's files; the serve image's
# cnai runs in a chroot of its rootfs; the same files give the same digest
# in another store; a tampered blob is refused by fsck and push.
load registry-lib

EPOCH=1700000000

# One store with the model registered and its three images built, copied
# into each test's folder (a serve build takes seconds: do it once).
setup_file() {
	BASE=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cnai-pkg.XXXXXX")
	export BASE
	cd "$BASE" || return 1
	make_model m
	"$CNAI_BIN" init >/dev/null
	"$CNAI_BIN" model register digits m >/dev/null
	SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits >serve.out
	SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar >modelcar.out
	SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format artifact >artifact.out
	cd / || return 1
}

teardown_file() {
	rm -rf "$BASE"
}

setup() {
	setup_common
	cp -a "$BASE/." .
}

teardown() {
	stop_registry || true
	teardown_common
}

# The digest `cnai package` printed for a format ("TAG DIGEST").
built() { cut -d' ' -f2 "$1.out"; }

# A blob of the store's layout, by digest.
blob() { echo ".cnai/oci/blobs/sha256/${1#sha256:}"; }

# The manifest and the config of the image tagged $1 in the store.
manifest_of() { cat "$(blob "$(index_digest .cnai/oci "$1")")"; }
config_of() { cat "$(blob "$(manifest_of "$1" | jq -r .config.digest)")"; }

@test "skopeo and umoci read the serve image and agree with cnai on its digests" {
	d=$(built serve)
	assert_equal "$(cut -d' ' -f1 serve.out)" "digits:1"
	assert_equal "$(index_digest .cnai/oci digits:1)" "$d"
	run skopeo inspect oci:.cnai/oci:digits:1
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r .Digest <<<"$output")" "$d"
	skopeo_layers=$(jq -r '.Layers[]' <<<"$output")
	assert_equal "$skopeo_layers" "$(manifest_of digits:1 | jq -r '.layers[].digest')"
	[ "$(wc -l <<<"$skopeo_layers")" -eq 2 ]
	run umoci stat --json --image .cnai/oci:digits:1
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '.history[].layer.digest' <<<"$output")" "$skopeo_layers"
	assert_equal "$(jq -r '.history[].diff_id' <<<"$output")" "$(config_of digits:1 | jq -r '.rootfs.diff_ids[]')"
}

@test "the serve image unpacks to the model under /models/NAME and cnai runs from it" {
	run umoci raw unpack --image .cnai/oci:digits:1 rootfs
	[ "$status" -eq 0 ]
	# The model files, with their bytes, and nothing else under /models.
	diff -u <(tree_hashes m | sed 's|^|digits/|') <(tree_hashes rootfs/models)
	assert_equal "$(stat -c '%u:%g %a' rootfs/models/digits/model.onnx)" "0:0 644"
	[ -x rootfs/usr/local/bin/cnai ]
	cmp rootfs/usr/local/bin/cnai "$CNAI_BIN"
	skip_chroot_unless_plain
	run chroot rootfs /usr/local/bin/cnai --version
	[ "$status" -eq 0 ]
	assert_equal "$output" "cnai version $(cat "$CNAI_ROOT/VERSION")"
}

@test "the serve image's config runs cnai serve as a non-root user on 8080" {
	run config_of digits:1
	[ "$status" -eq 0 ]
	cfg=$output
	assert_equal "$(jq -c .config.Entrypoint <<<"$cfg")" '["/usr/local/bin/cnai","serve","/models/digits"]'
	assert_equal "$(jq -c .config.ExposedPorts <<<"$cfg")" '{"8080/tcp":{}}'
	assert_equal "$(jq -r .config.User <<<"$cfg")" 65532
	assert_equal "$(jq -r .config.WorkingDir <<<"$cfg")" /
	assert_equal "$(jq -c .config.Env <<<"$cfg")" '["PATH=/usr/local/bin:/usr/bin:/bin","CNAI_MODEL=digits","CNAI_MODEL_VERSION=1"]'
	assert_equal "$(jq -c .config.Cmd <<<"$cfg")" '["--host","0.0.0.0","--port","8080"]'
	assert_equal "$(jq -r '.os + "/" + .architecture' <<<"$cfg")" linux/amd64
	assert_equal "$(jq -r .created <<<"$cfg")" 2023-11-14T22:13:20Z
	# One history entry per layer, each with created (umoci 0.4.7 needs it)
	# and created_by naming the command.
	assert_equal "$(jq -c '[.history[] | [.created, .created_by, .comment]]' <<<"$cfg")" \
		'[["2023-11-14T22:13:20Z","cnai package digits","cnai and its shared libraries"],["2023-11-14T22:13:20Z","cnai package digits","model files"]]'
	[ "$(jq '.rootfs.diff_ids | length' <<<"$cfg")" -eq 2 ]
}

@test "annotations and labels name the model, its version and SOURCE_DATE_EPOCH" {
	md=$(cnai model show digits@1 --json | jq -r .digest)
	expect=$(jq -cn --arg md "$md" '{"ai.cnai.model.digest": $md,
		"ai.cnai.model.name": "digits", "ai.cnai.model.version": "1",
		"org.opencontainers.image.created": "2023-11-14T22:13:20Z",
		"org.opencontainers.image.title": "digits",
		"org.opencontainers.image.version": "1"}')
	assert_equal "$(manifest_of digits:1 | jq -cS .annotations)" "$expect"
	assert_equal "$(config_of digits:1 | jq -cS .config.Labels)" "$expect"
	assert_equal "$(skopeo inspect oci:.cnai/oci:digits:1 | jq -cS .Labels)" "$expect"
	assert_equal "$(manifest_of digits:1-modelcar | jq -cS .annotations)" "$expect"
}

@test "a model from a run in a git repository names its source and revision" {
	rm -rf .cnai
	git init -q .
	git remote add origin https://example.com/team/digits.git
	git add m
	git -c user.email=t@example.com -c user.name=t commit -qm model
	cnai init >/dev/null
	cnai track run --name train -- true 2>/dev/null
	cnai model register digits m --run train >/dev/null
	run --separate-stderr cnai package digits --format modelcar --license MIT
	[ "$status" -eq 0 ]
	run --separate-stderr cnai package inspect digits:1-modelcar --json
	ann=$(jq -c .manifest.annotations <<<"$output")
	assert_equal "$(jq -r '.["org.opencontainers.image.source"]' <<<"$ann")" https://example.com/team/digits.git
	assert_equal "$(jq -r '.["org.opencontainers.image.revision"]' <<<"$ann")" "$(git rev-parse HEAD)"
	assert_equal "$(jq -r '.["org.opencontainers.image.licenses"]' <<<"$ann")" MIT
	assert_equal "$(jq -r '.["ai.cnai.run.id"]' <<<"$ann")" "$(run_id train)"
	assert_equal "$(jq -r '.["org.opencontainers.image.created"]' <<<"$ann")" 1970-01-01T00:00:00Z
}

@test "a modelcar image holds exactly the model files under /models" {
	d=$(built modelcar)
	assert_equal "$(cut -d' ' -f1 modelcar.out)" "digits:1-modelcar"
	assert_equal "$(skopeo inspect oci:.cnai/oci:digits:1-modelcar | jq -r .Digest)" "$d"
	run umoci raw unpack --image .cnai/oci:digits:1-modelcar rootfs
	[ "$status" -eq 0 ]
	diff -u <(tree_hashes m) <(tree_hashes rootfs/models)
	assert_equal "$(cd rootfs && find . -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')" \
		"./models ./models/model.onnx ./models/sub ./models/sub/vocab.txt "
	[ "$(manifest_of digits:1-modelcar | jq '.layers | length')" -eq 1 ]
	assert_equal "$(config_of digits:1-modelcar | jq -c .config.Entrypoint)" null
}

@test "layers are deterministic tars: sorted, owned 0:0, dated SOURCE_DATE_EPOCH, gzip without name or time" {
	layer=$(blob "$(manifest_of digits:1-modelcar | jq -r '.layers[0].digest')")
	# gzip header: magic, deflate, no flags (no file name), mtime 0
	assert_equal "$(head -c 8 "$layer" | xxd -p)" 1f8b080000000000
	run tar --numeric-owner --full-time -tvzf "$layer"
	[ "$status" -eq 0 ]
	expect="drwxr-xr-x 0/0 0 2023-11-14 22:13:20 models/
-rw-r--r-- 0/0 50000 2023-11-14 22:13:20 models/model.onnx
drwxr-xr-x 0/0 0 2023-11-14 22:13:20 models/sub/
-rw-r--r-- 0/0 4 2023-11-14 22:13:20 models/sub/vocab.txt"
	assert_equal "$(tr -s ' ' <<<"$output")" "$expect"
}

@test "an artifact is a ModelPack manifest whose raw layers are the model files" {
	d=$(built artifact)
	assert_equal "$(cut -d' ' -f1 artifact.out)" "digits:1-artifact"
	run skopeo inspect --raw oci:.cnai/oci:digits:1-artifact
	[ "$status" -eq 0 ]
	assert_equal "sha256:$(printf '%s' "$output" | sha256sum | cut -c1-64)" "$d"
	assert_equal "$(jq -r .artifactType <<<"$output")" application/vnd.cncf.model.manifest.v1+json
	assert_equal "$(jq -r .config.mediaType <<<"$output")" application/vnd.cncf.model.config.v1+json
	assert_equal "$(jq -r '.annotations["ai.cnai.model.name"]' <<<"$output")" digits
	# Each layer is one file, raw, named by its path.
	assert_equal "$(jq -r '.layers[] | .annotations["org.cncf.model.filepath"] + " " + .digest[7:]' <<<"$output")" \
		"$(tree_hashes m)"
	# skopeo copies it unchanged.
	skopeo copy -q oci:.cnai/oci:digits:1-artifact oci:copied:a
	assert_equal "$(index_digest copied a)" "$d"
	# It has no runnable config: umoci says so rather than unpacking it.
	run umoci raw unpack --image .cnai/oci:digits:1-artifact rootfs
	[ "$status" -eq 1 ]
	assert_contains "$output" "config blob is not correct mediatype application/vnd.oci.image.config.v1+json: application/vnd.cncf.model.config.v1+json"
	[ ! -e rootfs/models ]
}

@test "the same model files give the same digests in another store, gzip and zstd" {
	mkdir other && cd other
	cp -a ../m .
	cnai init >/dev/null
	cnai model register digits m >/dev/null
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(cat ../serve.out)"
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar
	assert_equal "$output" "$(cat ../modelcar.out)"
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --compression zstd --tag z
	[ "$status" -eq 0 ]
	z=$output
	# --tag only names the image: it is not part of what is built.
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --compression zstd --tag other-name
	assert_equal "${output#other-name }" "${z#z }"
	cd .. && rm -rf third && mkdir third && cd third
	cp -a ../m .
	cnai init >/dev/null
	cnai model register digits m >/dev/null
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --compression zstd --tag z
	[ "$status" -eq 0 ]
	assert_equal "$output" "$z"
	# zstd layers: skopeo reads the image; the model layer decompresses
	# to the model files.
	assert_equal "$(skopeo inspect oci:.cnai/oci:z | jq -r .Digest)" "${z#z }"
	assert_equal "$(manifest_of z | jq -r '.layers[].mediaType' | sort -u)" application/vnd.oci.image.layer.v1.tar+zstd
	layer=$(blob "$(manifest_of z | jq -r '.layers[1].digest')")
	assert_equal "$(zstd -dc "$layer" | tar -tf - | tr '\n' ' ')" \
		"models/ models/digits/ models/digits/model.onnx models/digits/sub/ models/digits/sub/vocab.txt "
}

@test "a rebuild reuses every layer: no new blobs, and a new label adds only a config and a manifest" {
	before=$(ls .cnai/oci/blobs/sha256)
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits
	[ "$status" -eq 0 ]
	assert_equal "$output" "$(cat serve.out)"
	assert_equal "$(ls .cnai/oci/blobs/sha256)" "$before"
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --label team=ml --tag labelled
	[ "$status" -eq 0 ]
	new=$(comm -13 <(echo "$before") <(ls .cnai/oci/blobs/sha256) | wc -l)
	[ "$new" -eq 2 ]
	assert_equal "$(manifest_of labelled | jq -c '[.layers[].digest]')" "$(manifest_of digits:1 | jq -c '[.layers[].digest]')"
	assert_equal "$(config_of labelled | jq -r .config.Labels.team)" ml
}

@test "--base puts the model layers on top of a base image copied in by skopeo" {
	oci_tool build lay base --epoch 0 etc/base.txt=m/sub/vocab.txt >/dev/null
	skopeo copy -q oci:lay:base oci:.cnai/oci:base:1
	base_man=$(manifest_of base:1)
	base_cfg=$(config_of base:1)
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar --base base:1 --tag on-base
	[ "$status" -eq 0 ]
	man=$(manifest_of on-base)
	cfg=$(config_of on-base)
	assert_equal "$(jq -c '.layers[:1]' <<<"$man")" "$(jq -c .layers <<<"$base_man")"
	assert_equal "$(jq -r '.layers[1].digest' <<<"$man")" "$(manifest_of digits:1-modelcar | jq -r '.layers[0].digest')"
	assert_equal "$(jq -c '.rootfs.diff_ids[:1]' <<<"$cfg")" "$(jq -c .rootfs.diff_ids <<<"$base_cfg")"
	assert_equal "$(jq -c '[.history[].created_by]' <<<"$cfg")" \
		'["oci-tool build","cnai package --format modelcar --base base:1 digits"]'
	run umoci raw unpack --image .cnai/oci:on-base rootfs
	[ "$status" -eq 0 ]
	cmp rootfs/etc/base.txt m/sub/vocab.txt
	diff -u <(tree_hashes m) <(tree_hashes rootfs/models)
	# The same base straight from its layout, as skopeo names it.
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar --base oci:lay:base --tag from-layout
	[ "$status" -eq 0 ]
	assert_equal "$(manifest_of from-layout | jq -c .layers)" "$(jq -c .layers <<<"$man")"
	run --separate-stderr cnai fsck
	[ "$status" -eq 0 ]
}

@test "--platform picks its image from a multi-platform base" {
	oci_tool build lay amd --epoch 0 --platform linux/amd64 etc/amd=m/sub/vocab.txt >/dev/null
	oci_tool build lay arm --epoch 0 --platform linux/arm64 etc/arm=m/sub/vocab.txt >/dev/null
	oci_tool index lay multi amd=linux/amd64 arm=linux/arm64 >/dev/null
	skopeo copy -q --all oci:lay:multi oci:.cnai/oci:multi
	arm_layer=$(jq -r '.layers[0].digest' "lay/blobs/sha256/$(index_digest lay arm | cut -d: -f2)")
	run --separate-stderr cnai package digits --format modelcar --base multi --platform linux/arm64 --tag arm
	[ "$status" -eq 0 ]
	assert_equal "$(manifest_of arm | jq -r '.layers[0].digest')" "$arm_layer"
	assert_equal "$(config_of arm | jq -r '.os + "/" + .architecture')" linux/arm64
	assert_equal "$(skopeo inspect oci:.cnai/oci:arm | jq -r .Architecture)" arm64
	# Without --platform: linux/amd64.
	run --separate-stderr cnai package digits --format modelcar --base multi --tag amd
	[ "$status" -eq 0 ]
	assert_equal "$(config_of amd | jq -r .architecture)" amd64
}

@test "a base for another platform only is refused, exit 2, nothing written" {
	oci_tool build lay arm --epoch 0 --platform linux/arm64 etc/arm=m/sub/vocab.txt >/dev/null
	oci_tool build lay amd --epoch 0 --platform linux/amd64 etc/amd=m/sub/vocab.txt >/dev/null
	oci_tool index lay multi amd=linux/amd64 >/dev/null
	skopeo copy -q oci:lay:arm oci:.cnai/oci:armonly
	skopeo copy -q --all oci:lay:multi oci:.cnai/oci:multi
	before=$(store_state)
	run --separate-stderr cnai package digits --format modelcar --base armonly
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: base image 'armonly' is for linux/arm64, not linux/amd64; pick a base for that platform or pass --platform"
	[ -z "$output" ]
	run --separate-stderr cnai package digits --format modelcar --base multi --platform linux/arm64
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: index '$(index_digest .cnai/oci multi)' has no image for linux/arm64 (it has: linux/amd64)"
	# A serve image carries this cnai binary: it is for this platform only.
	run --separate-stderr cnai package digits --base armonly --platform linux/arm64
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --platform linux/arm64: a serve image holds this cnai binary, which runs on linux/amd64 only; use --format modelcar for other platforms"
	assert_equal "$(store_state)" "$before"
}

@test "an unknown model or base is exit 2 and writes nothing" {
	before=$(store_state)
	run --separate-stderr cnai package nosuch
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'nosuch' not found"
	[ -z "$output" ]
	run --separate-stderr cnai package digits --format modelcar --base nosuch:1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: base image 'nosuch:1' not found in the store; 'cnai package pull' it first"
	run --separate-stderr cnai package digits --format artifact --base digits:1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --base makes no sense with --format artifact"
	assert_equal "$(store_state)" "$before"
}

@test "ls and inspect --json describe the layout's images" {
	run --separate-stderr cnai package ls --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -c '[.[] | [.tag, .digest, .kind, .model]]' <<<"$output")" \
		"$(jq -cn --arg s "$(built serve)" --arg m "$(built modelcar)" --arg a "$(built artifact)" \
			'[["digits:1",$s,"serve","digits@1"],["digits:1-modelcar",$m,"modelcar","digits@1"],["digits:1-artifact",$a,"artifact","digits@1"]]')"
	size=$(manifest_of digits:1 | jq '.config.size + ([.layers[].size] | add)')
	assert_equal "$(jq '.[0].size' <<<"$output")" "$size"
	run --separate-stderr cnai package inspect digits:1 --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r .digest <<<"$output")" "$(built serve)"
	assert_equal "$(jq -cS .manifest <<<"$output")" "$(manifest_of digits:1 | jq -cS .)"
	assert_equal "$(jq -cS .config <<<"$output")" "$(config_of digits:1 | jq -cS .)"
}

@test "a tampered blob fails fsck and push, and the registry gets no manifest" {
	start_registry "$TEST_DIR/reg"
	d=$(built modelcar)
	layer=$(manifest_of digits:1-modelcar | jq -r '.layers[0].digest')
	f=$(blob "$layer")
	chmod u+w "$f"
	printf 'X' | dd of="$f" bs=1 seek=30 conv=notrunc 2>/dev/null
	now="sha256:$(sha256sum <"$f" | cut -c1-64)"
	run --separate-stderr cnai fsck
	[ "$status" -eq 1 ]
	assert_equal "${lines[0]}" "corrupt: blob $layer is corrupt: its content hashes to $now"
	assert_contains "${lines[1]}" ": 1 problem"
	run --separate-stderr cnai package push digits:1-modelcar "$REG/team/digits:1"
	[ "$status" -eq 1 ]
	assert_equal "$stderr" "cnai: error: blob '$layer' in '$TEST_DIR/.cnai/oci' is corrupt: its content hashes to '$now'"
	[ -z "$output" ]
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/team/digits/manifests/1")
	assert_equal "$code" 404
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/team/digits/manifests/$d")
	assert_equal "$code" 404
	# The untouched serve image still pushes.
	run --separate-stderr cnai package push digits:1 "$REG/team/digits:2"
	[ "$status" -eq 0 ]
}

@test "cnai-package.1 EXAMPLES run and exit 0" {
	page=$CNAI_ROOT/man/cnai-package.1
	[ "$(man_examples "$page" | wc -l)" -ge 8 ]
	cnai_on_path
	mkdir work && cd work
	cnai init >/dev/null
	man_examples_script "$page" >"$TEST_DIR/examples.sh"
	run bash "$TEST_DIR/examples.sh"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# They did what they say.
	assert_equal "$(cnai package ls --json | jq -r '[.[].tag] | join(" ")')" "digits:1 digits:1-modelcar"
	[ -f out/index.json ]
	skopeo inspect docker-archive:digits.tar >/dev/null
}
