#!/usr/bin/env bats
# cnai package push/pull/export against independent tools: a docker-registry
# started here, skopeo reading what cnai pushed and exported, cnai pulling
# what skopeo pushed; a registry that is down or wants a login is one clear
# error.
load registry-lib

EPOCH=1700000000

# A registry for the file, and a store with a modelcar image of a model
# (copied into each test's folder).
setup_file() {
	REG_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cnai-reg.XXXXXX")
	start_registry "$REG_DIR"
	export REG REG_PORT REG_PID REG_DIR
	BASE=$REG_DIR/base
	export BASE
	mkdir -p "$BASE/m/sub" && cd "$BASE" || return 1
	head -c 50000 /dev/urandom >m/model.onnx
	printf 'a\nb\n' >m/sub/vocab.txt
	"$CNAI_BIN" init >/dev/null
	"$CNAI_BIN" model register digits m >/dev/null
	SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar >modelcar.out
	cd / || return 1
}

teardown_file() {
	stop_registry || true
	rm -rf "$REG_DIR"
}

teardown() {
	if [ -n "${AUTH_PID:-}" ]; then
		kill "$AUTH_PID" 2>/dev/null
		wait "$AUTH_PID" 2>/dev/null || true
	fi
	teardown_common
}

setup() {
	setup_common
	cp -a "$BASE/." .
	export HOME="$TEST_DIR/home" DOCKER_CONFIG="$TEST_DIR/docker"
	mkdir -p "$HOME" "$DOCKER_CONFIG"
}

# The digest of the model image.
image_digest() { cut -d' ' -f2 modelcar.out; }

@test "a pushed image is what skopeo inspects and copies, and umoci unpacks its files" {
	d=$(image_digest)
	repo="$REG/push/digits"
	run --separate-stderr cnai package push digits:1-modelcar "$repo:1"
	[ "$status" -eq 0 ]
	assert_equal "$output" "pushed $repo:1@$d"
	assert_equal "$(skopeo_digest "docker://$repo:1")" "$d"
	run skopeo copy -q --src-tls-verify=false "docker://$repo:1" oci:copied:x
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '.manifests[0].digest' copied/index.json)" "$d"
	run umoci raw unpack --image copied:x rootfs
	[ "$status" -eq 0 ]
	diff -u <(tree_hashes m) <(tree_hashes rootfs/models)
	# The push is recorded; a second one finds every blob there.
	run --separate-stderr cnai package push digits:1-modelcar "$repo:1" --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -c . <<<"$output")" "{\"digest\":\"$d\",\"pushed\":[{\"ref\":\"$repo:1\",\"digest\":\"$d\"}]}"
}

@test "package --push builds and pushes in one step" {
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package digits --format modelcar --tag again --push "$REG/push/again:1"
	[ "$status" -eq 0 ]
	d=$(image_digest)
	assert_equal "$output" "again $d
pushed $REG/push/again:1@$d"
	assert_equal "$(skopeo_digest "docker://$REG/push/again:1")" "$d"
}

@test "an image skopeo copied into the registry pulls into the store with its digest" {
	make_files
	src=$(build_image lay v1)
	skopeo copy -q --dest-tls-verify=false oci:lay:v1 "docker://$REG/pull/img:v1"
	d=$(skopeo_digest "docker://$REG/pull/img:v1")
	assert_equal "$d" "$src"
	before=$(store_state)
	run --separate-stderr cnai package pull "$REG/pull/img:v1"
	[ "$status" -eq 0 ]
	assert_equal "$output" "$REG/pull/img:v1 $d"
	run --separate-stderr cnai package inspect "$REG/pull/img:v1" --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r .digest <<<"$output")" "$d"
	run --separate-stderr cnai package pull "$REG/pull/img:v1" --tag mine
	assert_equal "$output" "mine $d"
	assert_equal "$(skopeo inspect oci:.cnai/oci:mine | jq -r .Digest)" "$d"
	run --separate-stderr cnai fsck
	[ "$status" -eq 0 ]
	[ "$(store_state)" != "$before" ]
}

@test "export --oci-layout writes a layout skopeo reads with the same digest" {
	d=$(image_digest)
	run --separate-stderr cnai package export digits:1-modelcar --oci-layout out
	[ "$status" -eq 0 ]
	assert_equal "$output" "exported digits:1-modelcar $d to out"
	assert_equal "$(skopeo inspect oci:out:digits:1-modelcar | jq -r .Digest)" "$d"
	run umoci raw unpack --image out:digits:1-modelcar rootfs
	[ "$status" -eq 0 ]
	diff -u <(tree_hashes m) <(tree_hashes rootfs/models)
}

@test "export --docker-archive writes a tar skopeo reads, with the image's config and layers" {
	run --separate-stderr cnai package export digits:1-modelcar --docker-archive img.tar
	[ "$status" -eq 0 ]
	assert_equal "$output" "exported digits:1-modelcar $(image_digest) to img.tar"
	cfg=$(cnai package inspect digits:1-modelcar --json | jq -c .manifest.config)
	diff_ids=$(cnai package inspect digits:1-modelcar --json | jq -c .config.rootfs.diff_ids)
	run skopeo inspect docker-archive:img.tar
	[ "$status" -eq 0 ]
	# A docker archive names layers by their uncompressed digests.
	assert_equal "$(jq -c .Layers <<<"$output")" "$diff_ids"
	assert_equal "$(skopeo inspect --raw docker-archive:img.tar | jq -r .config.digest)" "$(jq -r .digest <<<"$cfg")"
	skopeo copy -q docker-archive:img.tar oci:fromtar:x
	run umoci raw unpack --image fromtar:x rootfs
	[ "$status" -eq 0 ]
	diff -u <(tree_hashes m) <(tree_hashes rootfs/models)
}

@test "a push to a registry that is down is exit 3 with the address" {
	port=$(free_port)
	before=$(store_state)
	run --separate-stderr cnai package push digits:1-modelcar "127.0.0.1:$port/a/b:1"
	[ "$status" -eq 3 ]
	# curl's own words end the message; the time in them varies.
	[[ "$stderr" =~ ^"cnai: error: registry '127.0.0.1:$port' cannot be reached: Failed to connect to 127.0.0.1 port $port after "[0-9]+" ms: Couldn't connect to server"$ ]]
	[ -z "$output" ]
	assert_equal "$(store_state)" "$before"
}

@test "a 401 without credentials says how to log in; --password-stdin pushes" {
	mkdir auth
	htpasswd -Bbn alice s3cret >auth/htpasswd
	start_registry "$TEST_DIR/auth" "$TEST_DIR/auth/htpasswd"
	AUTH_PID=$REG_PID # teardown stops it; the file's registry stays
	before=$(store_state)
	run --separate-stderr cnai package push digits:1-modelcar "$REG/a/b:1"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "cnai: error: registry '$REG' requires authentication and no credentials were found: log in with 'docker login $REG', put them in \$DOCKER_CONFIG/config.json or ~/.docker/config.json, or pass --username and --password-stdin"
	[ -z "$output" ]
	assert_equal "$(store_state)" "$before"
	run --separate-stderr cnai package push digits:1-modelcar "$REG/a/b:1" --username alice --password-stdin <<<s3cret
	[ "$status" -eq 0 ]
	assert_equal "$(skopeo inspect --tls-verify=false --creds alice:s3cret "docker://$REG/a/b:1" | jq -r .Digest)" "$(image_digest)"
}

@test "pull of a missing tag is exit 2 and writes nothing" {
	before=$(store_state)
	run --separate-stderr cnai package pull "$REG/pull/none:v1"
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: fetching manifest '$REG/pull/none:v1': MANIFEST_UNKNOWN: manifest unknown"
	[ -z "$output" ]
	assert_equal "$(store_state)" "$before"
}

@test "--base from a registry is pulled into the store and the model goes on top" {
	cnai package push digits:1-modelcar "$REG/bases/first:1" >/dev/null
	base=$(image_digest)
	echo other >other.onnx
	cnai model register other other.onnx >/dev/null
	run --separate-stderr env SOURCE_DATE_EPOCH=$EPOCH "$CNAI_BIN" package other --format modelcar --base "$REG/bases/first:1" --tag other:on-base
	[ "$status" -eq 0 ]
	# the base is in the store under its reference, by the same digest
	assert_equal "$(cnai package ls --json | jq -r --arg t "$REG/bases/first:1" '.[] | select(.tag == $t) | .digest')" "$base"
	# the new image keeps the base's layer and adds one
	run cnai package inspect other:on-base --json
	base_layer=$(cnai package inspect digits:1-modelcar --json | jq -r '.manifest.layers[0].digest')
	assert_equal "$(echo "$output" | jq -r '.manifest.layers[0].digest')" "$base_layer"
	assert_equal "$(echo "$output" | jq -r '.manifest.layers | length')" 2
}

# The registry's access log lines for repository $1's blob requests:
# "METHOD PATH STATUS", query strings unescaped.
blob_requests() {
	grep -o "\"[A-Z]* /v2/$1/blobs/[^\"]*\" [0-9]*" "$REG_DIR/log" |
		sed -e 's/^"//' -e 's/ HTTP\/1\.1"//' -e 's/%3A/:/g' -e 's/%2F/\//g' -e 's/_state=[^&]*&//'
}

@test "a push to a second repository mounts the blobs from the first, and uploads only what it lacks" {
	cnai package push digits:1-modelcar "$REG/mount/a:1" >/dev/null
	run --separate-stderr cnai package push digits:1-modelcar "$REG/mount/b:1"
	[ "$status" -eq 0 ]
	assert_equal "$(skopeo_digest "docker://$REG/mount/b:1")" "$(image_digest)"
	layer=$(cnai package inspect digits:1-modelcar --json | jq -r '.manifest.layers[0].digest')
	config=$(cnai package inspect digits:1-modelcar --json | jq -r '.manifest.config.digest')
	# one mount per blob, answered 201; nothing uploaded
	diff -u <(printf 'POST /v2/mount/b/blobs/uploads/?mount=%s&from=mount/a 201\n' "$config" "$layer" | sort) \
		<(blob_requests mount/b | grep -E '^(POST|PATCH|PUT)' | sort)
	# an image with one more layer: the base layer is mounted, the new
	# one's mount is declined (202) and it is uploaded in that session
	echo other >other.onnx
	cnai model register other other.onnx >/dev/null
	cnai package other --format modelcar --base digits:1-modelcar --tag other:1 >/dev/null
	new=$(cnai package inspect other:1 --json | jq -r '.manifest.layers[1].digest')
	run --separate-stderr cnai package push other:1 "$REG/mount/c:1"
	[ "$status" -eq 0 ]
	assert_equal "$(skopeo_digest "docker://$REG/mount/c:1")" "$(cnai package inspect other:1 --json | jq -r .digest)"
	# (from mount/a or mount/b: both hold the base layer)
	requests=$(blob_requests mount/c | grep -E '^(POST|PATCH|PUT)' | sed 's|&from=mount/[ab] | |')
	assert_contains "$requests" "POST /v2/mount/c/blobs/uploads/?mount=$layer 201"
	assert_contains "$requests" "POST /v2/mount/c/blobs/uploads/?mount=$new 202"
	[[ "$requests" =~ "PUT /v2/mount/c/blobs/uploads/"[^?]*"?digest=$new 201" ]]
	[ "$(grep -c "^PUT .*digest=$layer" <<<"$requests")" -eq 0 ]
	# a pull records where its blobs came from as well: a new store that
	# pulled mount/a:1 mounts both blobs from there
	mkdir fresh && cd fresh && cnai init >/dev/null
	cnai package pull "$REG/mount/a:1" >/dev/null
	cnai package push "$REG/mount/a:1" "$REG/mount/d:1" >/dev/null
	assert_equal "$(blob_requests mount/d | grep -cE '^(PATCH|PUT)')" 0
	assert_equal "$(blob_requests mount/d | grep -c '^POST .*&from=mount/a 201$')" 2
}

# on_tty CMD...: runs cnai with a terminal as stdout and stderr (util-linux
# script), its output in $output with the terminal's CRs removed.
on_tty() {
	local cmd="$CNAI_BIN" a
	for a in "$@"; do cmd+=" $(printf '%q' "$a")"; done
	output=$(script -qec "$cmd" /dev/null | tr -d '\r')
}

@test "per-blob progress lines are drawn on a terminal only, never with -q or --json" {
	d=$(image_digest)
	layer=$(cnai package inspect digits:1-modelcar --json | jq -r '.manifest.layers[0].digest')
	# not a terminal: nothing on stderr
	run --separate-stderr cnai package push digits:1-modelcar "$REG/progress/a:1"
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	# a terminal: a line per blob, ending "done", before the result
	on_tty package push digits:1-modelcar "$REG/progress/b:1"
	[[ "$output" =~ "${layer:0:19}  "[0-9.]+" KiB"" "+"done"$'\n' ]]
	assert_contains "$output" "pushed $REG/progress/b:1@$d"
	on_tty package pull "$REG/progress/b:1" --tag pulled
	assert_contains "$output" "${layer:0:19}"
	# -q and --json: the result alone
	on_tty -q package push digits:1-modelcar "$REG/progress/c:1"
	assert_equal "$output" "pushed $REG/progress/c:1@$d"
	on_tty package push digits:1-modelcar "$REG/progress/d:1" --json
	assert_equal "$(jq -r .digest <<<"$output")" "$d"
	on_tty -q package pull "$REG/progress/b:1" --tag pulled
	assert_equal "$output" "pulled $d"
}
