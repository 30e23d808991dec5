# Helpers for the cnai serve tests (t8xxx): a server on a free port of
# 127.0.0.1, stopped by SIGTERM, and curl wrappers that keep the status.
# Load after lib.bash.

# For setup_file: a store in $BATS_FILE_TMPDIR/fix, the working folder,
# with the model folder $2 trained on examples/data/$1.csv (target
# "target") for the tests to copy.
serve_fixture() {
	FIX="$BATS_FILE_TMPDIR/fix"
	mkdir -p "$FIX" && cd "$FIX" || return 1
	"$CNAI_BIN" init >/dev/null
	"$CNAI_BIN" train --data "$CNAI_ROOT/examples/data/$1.csv" \
		--target target -o "$2" --epochs 2 >/dev/null 2>&1
}

# Each test works in a copy of the fixtures setup_file made in
# $BATS_FILE_TMPDIR/fix, and stops its server.
setup() {
	setup_common
	cp -a "$BATS_FILE_TMPDIR/fix/." .
	SERVE_PID=
}

teardown() {
	serve_stop || true
	teardown_common
}

# A free TCP port on 127.0.0.1 (the kernel's pick, released at once).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts `cnai [-q] serve ARGS...` on a free port (stderr to serve.err)
# and waits until /v2/health/ready answers 200. Sets PORT, URL, SERVE_PID.
serve_start() {
	local global=()
	if [ "$1" = -q ]; then
		global=(-q)
		shift
	fi
	PORT=$(free_port)
	URL=http://127.0.0.1:$PORT
	"$CNAI_BIN" "${global[@]}" serve "$@" --port "$PORT" 2>serve.err 3>&- &
	SERVE_PID=$!
	for _ in $(seq 100); do
		curl -sf -o /dev/null "$URL/v2/health/ready" && return 0
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "server did not become ready:" >&2
	cat serve.err >&2
	return 1
}

# SIGTERM, then the server's exit status in SERVE_STATUS.
serve_stop() {
	[ -n "$SERVE_PID" ] || return 0
	kill -TERM "$SERVE_PID" 2>/dev/null
	SERVE_STATUS=0
	wait "$SERVE_PID" || SERVE_STATUS=$?
	SERVE_PID=
}

# curl: the body on stdout, then a line with the HTTP status.
req() {
	curl -s -w '\n%{http_code}\n' "$@"
}

# POST $2 (a JSON text) to path $1; sets BODY and CODE.
post() {
	local out
	out=$(req -H 'Content-Type: application/json' --data-binary "$2" "$URL$1")
	CODE=${out##*$'\n'}
	BODY=${out%$'\n'*}
}

get() {
	local out
	out=$(req "$URL$1")
	CODE=${out##*$'\n'}
	BODY=${out%$'\n'*}
}

# Waits until /metrics has the line "$1 $2" (a series and its value).
metric_is() {
	for _ in $(seq 100); do
		get /metrics
		grep -qxF "$1 $2" <<<"$BODY" && return 0
		sleep 0.05
	done
	echo "never $1 $2" >&2
	return 1
}

# Waits until /metrics counts $1 requests in flight (itself included).
in_flight() { metric_is cnai_http_requests_in_flight "$1"; }
