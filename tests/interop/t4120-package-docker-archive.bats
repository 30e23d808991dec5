#!/usr/bin/env bats
# cnai package --base from `docker save` archives: one that cnai export
# wrote, one that skopeo wrote (docker-archive:), one in the classic
# <id>/layer.tar shape; skopeo and umoci read the images built on them.
# Archives that are missing, not tars, without manifest.json, with a path
# that escapes, or without the image named are refused, and nothing is
# written to the store.
load registry-lib

EPOCH=1700000000

# A store with the model registered and its modelcar image built, and the
# base image in an OCI layout (lay:base), copied into each test's folder.
setup_file() {
	enter_file_fixtures dar || return 1
	make_model m
	mkdir etc
	printf 'base file\n' >etc/base.txt
	"$CNAI_BIN" init >/dev/null
	"$CNAI_BIN" model register digits m >/dev/null
	SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar >modelcar.out
	oci_tool build lay base --epoch 0 etc/base.txt=etc/base.txt >/dev/null
	cd / || return 1
}

teardown_file() { remove_file_fixtures; }

setup() {
	setup_common
	copy_file_fixtures
}

# The manifest and the config of the image tagged $2 in layout $1.
manifest_in() { cat "$1/blobs/sha256/$(index_digest "$1" "$2" | cut -d: -f2)"; }
config_in() { cat "$1/blobs/sha256/$(manifest_in "$1" "$2" | jq -r .config.digest | cut -d: -f2)"; }

# check_on_base TAG: the image TAG of the store is lay:base's layer, then
# the model's (as in digits:1-modelcar), with the base's diff_id first;
# skopeo inspects it and umoci unpacks both layers' files.
check_on_base() {
	local man cfg model
	man=$(manifest_in .cnai/oci "$1")
	cfg=$(config_in .cnai/oci "$1")
	model=$(manifest_in .cnai/oci digits:1-modelcar | jq -r '.layers[0].digest')
	assert_equal "$(jq -c '[.layers[].digest]' <<<"$man")" \
		"$(manifest_in lay base | jq -c --arg m "$model" '[.layers[].digest] + [$m]')"
	assert_equal "$(jq -c '.rootfs.diff_ids[:1]' <<<"$cfg")" "$(config_in lay base | jq -c .rootfs.diff_ids)"
	assert_equal "$(jq -r '.history[0].created_by' <<<"$cfg")" "oci-tool build"
	assert_equal "$(skopeo inspect "oci:.cnai/oci:$1" | jq -r .Digest)" "$(index_digest .cnai/oci "$1")"
	rm -rf rootfs
	umoci raw unpack --image ".cnai/oci:$1" rootfs
	cmp rootfs/etc/base.txt etc/base.txt
	diff -u <(tree_hashes m) <(tree_hashes rootfs/models)
}

@test "an archive cnai export wrote is a --base: its gzip layers kept as they are, the model's on top" {
	# Export from a second store, so this one has nothing of the base.
	mkdir other && (cd other && cnai init >/dev/null && skopeo copy -q oci:../lay:base oci:.cnai/oci:base:1 &&
		cnai package export base:1 --docker-archive ../base.tar >/dev/null)
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar --base base.tar --tag on-tar
	[ "$status" -eq 0 ]
	check_on_base on-tar
	# gzipped, and named with skopeo's transport and the RepoTag
	gzip -k base.tar
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar --base docker-archive:base.tar.gz:base:1 --tag on-tgz
	[ "$status" -eq 0 ]
	check_on_base on-tgz
	run --separate-stderr cnai fsck
	[ "$status" -eq 0 ]
}

@test "an archive skopeo wrote is a --base: its uncompressed layers compressed as cnai's own are" {
	skopeo copy -q oci:lay:base docker-archive:sk.tar:team/base:1
	# skopeo writes <diff_id>.tar layers and <id>/layer.tar links to them
	tar tvf sk.tar | grep -q ' -> \.\./[0-9a-f]*\.tar$'
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar --base docker-archive:sk.tar:team/base:1 --tag on-skopeo
	[ "$status" -eq 0 ]
	# the same gzip bytes as the layer oci-tool built from the same tar
	check_on_base on-skopeo
	# skopeo spells the tag docker.io/team/base:1; a plain path needs none
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar --base sk.tar --tag plain
	[ "$status" -eq 0 ]
	assert_equal "$(manifest_in .cnai/oci plain | jq -c .layers)" "$(manifest_in .cnai/oci on-skopeo | jq -c .layers)"
	# and "@0" is its first image, as skopeo says
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar --base docker-archive:sk.tar:@0 --tag first
	[ "$status" -eq 0 ]
	assert_equal "$(manifest_in .cnai/oci first | jq -c .layers)" "$(manifest_in .cnai/oci on-skopeo | jq -c .layers)"
	run --separate-stderr cnai fsck
	[ "$status" -eq 0 ]
}

# classic_archive FILE [DIFF_ID]: a `docker save` of lay:base as Docker
# before 25 wrote it (<id>/layer.tar, <hex>.json), optionally with a config
# that lists another diff_id.
classic_archive() {
	local layer cfg
	layer=$(manifest_in lay base | jq -r '.layers[0].digest' | cut -d: -f2)
	config_in lay base | jq -c --arg d "${2:-}" 'if $d != "" then .rootfs.diff_ids = [$d] else . end' >cfg.json
	cfg=$(sha256sum <cfg.json | cut -c1-64)
	mkdir -p classic/0123abcd
	gunzip <"lay/blobs/sha256/$layer" >classic/0123abcd/layer.tar
	mv cfg.json "classic/$cfg.json"
	printf '[{"Config":"%s.json","RepoTags":["base:old"],"Layers":["0123abcd/layer.tar"]}]' "$cfg" >classic/manifest.json
	tar -C classic -cf "$1" .
}

@test "a classic docker save archive (<id>/layer.tar) is a --base" {
	classic_archive old.tar
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar --base docker-archive:old.tar:base:old --tag on-old
	[ "$status" -eq 0 ]
	check_on_base on-old
}

@test "a layer whose diff_id is not the config's is refused, exit 2" {
	classic_archive bad.tar "sha256:$(printf '%064d' 0)"
	run --separate-stderr cnai package digits --format modelcar --base bad.tar
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'bad.tar': layer '0123abcd/layer.tar' has diff_id '$(config_in lay base | jq -r '.rootfs.diff_ids[0]')', the config says 'sha256:$(printf '%064d' 0)'"
	[ -z "$output" ]
	# no image was tagged or recorded
	assert_equal "$(cnai package ls --json | jq length)" 1
}

# refused BASE MESSAGE: a build on BASE is exit 2 with that error, and
# prints nothing on stdout.
refused() {
	run --separate-stderr cnai package digits --format modelcar --base "$1"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: $2"
	[ -z "$output" ]
}

@test "a missing archive, not a tar, no manifest.json, an escaping path, an image not there, a cut layer: exit 2, nothing written" {
	skopeo copy -q oci:lay:base docker-archive:sk.tar:team/base:1
	echo hello >notes.txt
	tar -cf nomanifest.tar notes.txt
	python3 - <<-'EOF'
	import gzip, io, tarfile
	def member(t, name, data=b"", link=None):
	    i = tarfile.TarInfo(name)
	    if link:
	        i.type, i.linkname = tarfile.SYMTYPE, link
	    i.size = len(data)
	    t.addfile(i, io.BytesIO(data))
	with tarfile.open("up.tar", "w") as t:
	    member(t, "manifest.json", b'[{"Config":"c.json","Layers":[]}]')
	    member(t, "../../etc/cron.d/x", b"* * * * * root true\n")
	with tarfile.open("abs.tar", "w") as t:
	    member(t, "/etc/passwd", b"x")
	with tarfile.open("two.tar", "w") as t:
	    member(t, "manifest.json", b'[{"Config":"a.json","RepoTags":["a:1"],"Layers":[]},'
	           b'{"Config":"b.json","Layers":[]}]')
	with tarfile.open("cut.tar", "w") as t:
	    member(t, "manifest.json", b'[{"Config":"c.json","Layers":["l.tar.gz"]}]')
	    member(t, "c.json", b'{"rootfs":{"type":"layers","diff_ids":["sha256:00"]}}')
	    member(t, "l.tar.gz", gzip.compress(bytes(10240))[:-12])
	with tarfile.open("link.tar", "w") as t:
	    member(t, "manifest.json", b'[{"Config":"c.json","Layers":["l.tar"]}]')
	    member(t, "l.tar", link="../../../etc/shadow")
	EOF
	before=$(store_state)
	refused missing.tar "cannot open 'missing.tar': No such file or directory"
	refused docker-archive:notes.txt "'notes.txt' is not a tar archive: Unrecognized archive format"
	refused nomanifest.tar "'nomanifest.tar' has no manifest.json: it is not a 'docker save' archive"
	refused up.tar "'up.tar': member '../../etc/cron.d/x' escapes the archive; refusing it"
	refused abs.tar "'abs.tar': member '/etc/passwd' escapes the archive; refusing it"
	refused link.tar "'link.tar': link target '../../../etc/shadow' escapes the archive; refusing it"
	refused docker-archive:sk.tar:team/base:2 "'sk.tar' has no image 'team/base:2' (it has: docker.io/team/base:1)"
	refused cut.tar "'cut.tar': layer 'l.tar.gz' is truncated gzip"
	refused two.tar "'two.tar' holds 2 images; name one as docker-archive:two.tar:<repo>:<tag> (it has: a:1, @1)"
	refused docker-archive:two.tar:@2 "'two.tar' has no image '@2' (it has: a:1, @1)"
	assert_equal "$(store_state)" "$before"
}
