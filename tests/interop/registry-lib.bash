# Shared by the t4xxx-registry-* interop tests: the test driver
# (tests/tools/oci-tool.c, built by `make test`), a free loopback port, and
# a docker-registry (Debian's distribution 2.8) started from the test on
# that port with its storage in a temporary folder, stopped by PID.
load ../cli/lib

OCI_TOOL="$(dirname "$CNAI_BIN")/tests/tools/oci-tool"

oci_tool() { "$OCI_TOOL" "$@"; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_registry DIR [HTPASSWD [TLS_DIR]]: serves $REG_HOST:$REG_PORT
# (REG_HOST defaults to 127.0.0.1) from DIR, over TLS with TLS_DIR's
# cert.pem and key.pem when given; sets REG, REG_PORT and REG_PID. A port
# another test took between free_port and the bind gets a new try.
start_registry() {
	local dir=$1 htpasswd=${2:-} tls=${3:-} i try scheme=http
	mkdir -p "$dir/data"
	[ -n "$tls" ] && scheme=https
	for try in 1 2 3; do
		REG_PORT=$(free_port)
		REG="${REG_HOST:-127.0.0.1}:$REG_PORT"
		{
			printf 'version: 0.1\nlog:\n  level: error\n'
			printf 'storage:\n  filesystem:\n    rootdirectory: %s/data\n' "$dir"
			printf '  delete:\n    enabled: true\n'
			printf 'http:\n  addr: %s\n' "$REG"
			if [ -n "$tls" ]; then
				printf '  tls:\n    certificate: %s/cert.pem\n    key: %s/key.pem\n' "$tls" "$tls"
			fi
			if [ -n "$htpasswd" ]; then
				printf 'auth:\n  htpasswd:\n    realm: cnai-test\n    path: %s\n' "$htpasswd"
			fi
		} >"$dir/config.yml"
		/usr/bin/docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
		REG_PID=$!
		for i in $(seq 1 100); do
			kill -0 "$REG_PID" 2>/dev/null || break
			case $(curl -ks -o /dev/null -w '%{http_code}' "$scheme://$REG/v2/") in
			200 | 401) return 0 ;;
			esac
			sleep 0.1
		done
		kill "$REG_PID" 2>/dev/null
		wait "$REG_PID" 2>/dev/null
	done
	echo "docker-registry did not start:" >&2
	cat "$dir/log" >&2
	return 1
}

stop_registry() {
	if [ -n "${REG_PID:-}" ]; then
		kill "$REG_PID" 2>/dev/null
		wait "$REG_PID" 2>/dev/null
	fi
	return 0
}

# fake_put REPO REF FILE [MEDIA_TYPE]: FILE stored as is as the manifest
# REF of the scripted registry's REPO (docker-registry would check it).
fake_put() {
	local token
	token=$(curl -fsS "http://$FAKE_REG/token" | jq -r .token)
	curl -fsS -X PUT -H "Authorization: Bearer $token" \
		-H "Content-Type: ${4:-application/vnd.oci.image.manifest.v1+json}" \
		--data-binary @"$3" "http://$FAKE_REG/v2/$1/manifests/$2" >/dev/null
}

# A few files to pack, in the current folder under src/.
make_files() {
	mkdir -p src/sub
	printf 'hello\n' >src/a.txt
	head -c 300000 /dev/urandom >src/sub/weights.bin
	printf '#!/bin/sh\necho hi\n' >src/run.sh
	chmod 755 src/run.sh
}

# build_image LAYOUT TAG [options]: an image of make_files' files.
build_image() {
	local layout=$1 tag=$2
	shift 2
	oci_tool build "$layout" "$tag" --epoch 0 --entrypoint /bin/run.sh \
		"$@" models/m/a.txt=src/a.txt \
		models/m/sub/weights.bin=src/sub/weights.bin bin/run.sh=src/run.sh
}

# The digest skopeo reports for an image.
skopeo_digest() {
	skopeo inspect --tls-verify=false "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])'
}

# The digest index.json of layout $1 holds for tag $2.
index_digest() {
	jq -r --arg t "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$1/index.json"
}

# Every file under a folder with its sha256, sorted: "path hash".
tree_hashes() {
	(cd "$1" && find . -type f -printf '%P\n' | LC_ALL=C sort |
		while read -r f; do echo "$f $(sha256sum <"$f" | cut -c1-64)"; done)
}

# The model's files: a binary weight file and a text file in a sub-folder.
make_model() {
	mkdir -p "$1/sub"
	head -c 50000 /dev/urandom >"$1/model.onnx"
	printf 'a\nb\n' >"$1/sub/vocab.txt"
}

# A folder for fixtures setup_file builds once ($BASE, exported), entered;
# each test copies them into its own folder, teardown_file removes them.
enter_file_fixtures() {
	BASE=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cnai-$1.XXXXXX")
	export BASE
	cd "$BASE"
}
copy_file_fixtures() { cp -a "$BASE/." .; }
remove_file_fixtures() { rm -rf "$BASE"; }

# fake_registry LOG [options]: starts tests/tools/fake-registry.py (its
# options are listed there) logging to LOG; sets FAKE_REG (127.0.0.1:port)
# and FAKE_PID, and remembers the PID for stop_fakes. Several may run.
fake_registry() {
	local log=$1 portfile
	shift
	portfile=$(mktemp "$TEST_DIR/port.XXXXXX")
	rm -f "$portfile"
	python3 "$CNAI_ROOT/tests/tools/fake-registry.py" "$portfile" "$log" "$@" &
	FAKE_PID=$!
	FAKE_PIDS="${FAKE_PIDS:-} $FAKE_PID"
	for _ in $(seq 1 100); do
		[ -s "$portfile" ] && break
		sleep 0.05
	done
	FAKE_REG="127.0.0.1:$(cat "$portfile")"
}

# start_fake [options]: one fake registry logging to fake.log.
start_fake() { fake_registry "$TEST_DIR/fake.log" "$@"; }

# setup and teardown of a test against fake registries: make_files' files,
# and HOME and DOCKER_CONFIG of its own (no credentials).
fake_setup() {
	setup_common
	make_files
	export HOME="$TEST_DIR/home" DOCKER_CONFIG="$TEST_DIR/docker"
	mkdir -p "$HOME" "$DOCKER_CONFIG"
}
fake_teardown() {
	stop_fakes
	teardown_common
}

# auths REGISTRY USER:PASSWORD: config.json credentials for one registry.
auths() {
	printf '{"auths":{"%s":{"auth":"%s"}}}' "$1" "$(printf '%s' "$2" | base64)" \
		>"$DOCKER_CONFIG/config.json"
}

# The Authorization values a fake registry's LOG recorded ("-": none),
# sorted, each once.
auth_seen() { sed -n 's/^auth //p' "$1" | sort -u; }

# Stops every fake registry this test started, by PID.
stop_fakes() {
	local p
	for p in ${FAKE_PIDS:-}; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	FAKE_PIDS=
	return 0
}
stop_fake() { stop_fakes; }
