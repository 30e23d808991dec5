#!/usr/bin/env bats
# cnai serve against untrusted clients: the request bodies held at once
# share one budget (--max-inflight-bytes), reserved when a body is
# declared or grows and given back whenever its request ends; past it a
# 503 with Retry-After. Memory stays within a bound computed from that
# budget however many clients send bodies. A request line that is not
# HTTP gets a 400 and the connection is closed at once.
load lib
load serve

setup_file() {
	serve_fixture iris iris || return 1
	write_client >client.py
	cd / || return 1
}

# Clients that declare bodies and hold them, over raw sockets. Each body
# is a one-row iris request padded with spaces to the size asked.
write_client() {
	cat <<'PY'
import os, socket, sys, time

REQ = b'{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[6.7,3.0,5.2,2.3]}]}'

def body(n):
    return REQ + b" " * (n - len(REQ))

def connect(port, head):
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.sendall(b"POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n")
    return s

def answer(s):
    """One response: status, headers (lower-case names), body."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = s.recv(65536)
        if not chunk:
            return "closed", {}, b""
        raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    hdrs = dict((k.strip().lower(), v.strip()) for k, v in
                (l.split(":", 1) for l in lines[1:]))
    n = int(hdrs.get("content-length", "0"))
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return lines[0].split(" ")[1], hdrs, rest

def show(i, a):
    code, hdrs, text = a
    extra = " retry-after=%s %s" % (hdrs["retry-after"], text.decode()) if "retry-after" in hdrs else ""
    print("%s: %s%s" % (i, code, extra), flush=True)

def cmd_hold(port, n, size):
    """n clients in turn declare `size` bytes (Expect: 100-continue) and
    print the first answer; those told to continue send all but the last
    byte, and once the file "go" exists the rest, and print the answer."""
    size = int(size)
    held = []
    for i in range(int(n)):
        s = connect(port, b"Content-Length: %d\r\nExpect: 100-continue\r\n" % size)
        a = answer(s)
        show(i, a)
        if a[0] == "100":
            s.sendall(body(size)[:-1])
            held.append((i, s))
        else:
            s.close()
    open("held", "w").close()
    while not os.path.exists("go"):
        time.sleep(0.05)
    for i, s in held:
        s.sendall(b" ")
    for i, s in held:
        show(i, answer(s))

def cmd_drop(port, size):
    """Declares `size` bytes, sends half, and goes away."""
    size = int(size)
    s = connect(port, b"Content-Length: %d\r\nExpect: 100-continue\r\n" % size)
    show(0, answer(s))
    s.sendall(body(size)[:size // 2])
    s.close()

def cmd_chunked(port, size):
    """A chunked body of `size` bytes in 64 KiB chunks; prints the answer."""
    s = connect(port, b"Transfer-Encoding: chunked\r\n")
    b = body(int(size))
    for i in range(0, len(b), 65536):
        c = b[i:i + 65536]
        s.sendall(b"%x\r\n" % len(c) + c + b"\r\n")
    s.sendall(b"0\r\n\r\n")
    show(0, answer(s))

def cmd_post(port, size):
    size = int(size)
    s = connect(port, b"Content-Length: %d\r\n" % size)
    s.sendall(body(size))
    show(0, answer(s))

def cmd_raw(port, data, half_close=""):
    """Sends bytes (Python escapes), maybe shuts the write side, then reads
    until the server closes (at most 5 s): the answer, then "closed"."""
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.sendall(data.encode().decode("unicode_escape").encode("latin-1"))
    if half_close:
        s.shutdown(socket.SHUT_WR)
    s.settimeout(5)
    raw = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            raw += chunk
    except socket.timeout:
        print(raw.decode("latin-1"))
        print("still open")
        return
    head, _, text = raw.partition(b"\r\n\r\n")
    print(head.split(b"\r\n")[0].decode())
    print(text.decode())
    print("closed")

globals()["cmd_" + sys.argv[1]](*sys.argv[2:])
PY
}

client() { python3 client.py "$@"; }

# Waits until /metrics says $1 request body bytes are held.
body_bytes() { metric_is cnai_http_request_body_in_flight_bytes "$1"; }

busy='503 retry-after=1 {"error":"server busy: request bodies in flight over the --max-inflight-bytes limit; retry"}'

@test "past --max-inflight-bytes a request gets 503 with Retry-After; finished bodies give their bytes back" {
	serve_start iris --max-inflight-bytes 1M
	client hold "$PORT" 3 400000 >hold.out &
	holder=$!
	for _ in $(seq 100); do [ -e held ] && break; sleep 0.05; done
	# two bodies of 400 kB fit in 1 MiB, the third does not
	assert_equal "$(cat hold.out)" "$(printf '%s\n' '0: 100' '1: 100' "2: $busy")"
	body_bytes 800000
	run client post "$PORT" 400000
	assert_equal "$output" "0: $busy"
	get /metrics
	assert_contains "$BODY" 'cnai_http_requests_rejected_total{reason="inflight_bytes"} 2'
	assert_contains "$BODY" 'cnai_http_requests_total{model="",endpoint="busy",code="503"} 2'
	touch go
	wait "$holder"
	assert_equal "$(tail -n 2 hold.out)" "$(printf '%s\n' '0: 200' '1: 200')"
	body_bytes 0
	# the budget is whole again: a body of 1 MiB fits
	run client post "$PORT" 1048576
	assert_equal "$output" "0: 200"
	run promtool check metrics <<<"$(curl -s "$URL/metrics")"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "a client that goes away mid-body gives its bytes back" {
	# libmicrohttpd 0.9.75 does not always see the close at once (measured:
	# at once 1 time in 3, else at the idle --timeout): the bytes come back
	# when the connection ends, at the latest after --timeout, here 2 s.
	serve_start iris --max-inflight-bytes 1M --timeout 2
	run client drop "$PORT" 900000
	assert_equal "$output" "0: 100"
	body_bytes 0
	run client post "$PORT" 900000
	assert_equal "$output" "0: 200"
}

@test "a chunked body counts as it grows: past the budget it gets 503 when it ends" {
	serve_start iris --max-inflight-bytes 1M
	client hold "$PORT" 1 600000 >hold.out &
	holder=$!
	for _ in $(seq 100); do [ -e held ] && break; sleep 0.05; done
	run client chunked "$PORT" 600000
	assert_equal "$output" "0: $busy"
	# one that fits beside the held body is served
	run client chunked "$PORT" 300000
	assert_equal "$output" "0: 200"
	touch go
	wait "$holder"
	assert_equal "$(tail -n 1 hold.out)" "0: 200"
	body_bytes 0
}

@test "40 clients sending 4 MB bodies: memory stays within three times an 8 MB budget" {
	serve_start iris --max-inflight-bytes 8M
	client post "$PORT" 4194304 >/dev/null
	base=$(awk '/^VmRSS:/ { print $2 }' "/proc/$SERVE_PID/status")
	client hold "$PORT" 40 4194304 >hold.out &
	holder=$!
	for _ in $(seq 200); do [ -e held ] && break; sleep 0.05; done
	touch go
	wait "$holder"
	# two fit at a time; the others were turned away before sending
	assert_equal "$(grep -c ': 100$' hold.out)" 2
	assert_equal "$(grep -c ': 503 ' hold.out)" 38
	assert_equal "$(grep -c ': 200$' hold.out)" 2
	peak=$(awk '/^VmHWM:/ { print $2 }' "/proc/$SERVE_PID/status")
	echo "RSS before ${base} kB, peak ${peak} kB"
	# the bodies held (the budget), the buffers they grew into and what
	# each request decodes and answers; without a budget, 40 x 4 MB
	asan_build || [ $((peak - base)) -le $((3 * 8192)) ]
}

@test "--max-inflight-bytes takes k, M and G; a bad size, or a --max-body over it, exits 2" {
	run --separate-stderr cnai serve iris --max-inflight-bytes 1X
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --max-inflight-bytes: '1X' is not a size (bytes, or a number with k, M or G)"
	run --separate-stderr cnai serve iris --max-inflight-bytes 0
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "--max-inflight-bytes >= 1"
	run --separate-stderr cnai serve iris --max-body 2M --max-inflight-bytes 1M
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --max-body 2097152 is over --max-inflight-bytes 1048576"
	# the default --max-body (16M) gives way to a smaller budget
	serve_start iris --max-inflight-bytes 1k --max-body 1k
	run client post "$PORT" 1025
	assert_equal "$output" '0: 413'
	serve_stop
	serve_start iris --max-inflight-bytes 1G --max-body 2k
	run client post "$PORT" 2048
	assert_equal "$output" '0: 200'
}

@test "a garbage request line gets 400 and the connection is closed" {
	serve_start iris --timeout 30
	want=$(printf '%s\n' 'HTTP/1.1 400 Bad Request' '{"error":"malformed HTTP request line"}' closed)
	run client raw "$PORT" 'GARBAGE\r\n\r\n'
	assert_equal "$output" "$want"
	# binary junk, with no line end, and a word the client stops after
	run client raw "$PORT" '\x00\x01\xff\xfe\x16\x03\x01'
	assert_equal "$output" "$want"
	run client raw "$PORT" 'GARBAGE' half-close
	assert_equal "$output" "$want"
	get /metrics
	assert_contains "$BODY" 'cnai_http_requests_rejected_total{reason="request_line"} 3'
	assert_contains "$BODY" 'cnai_http_requests_total{model="",endpoint="request_line",code="400"} 3'
	# an HTTP request on the same server is served
	get /v2/health/live
	assert_equal "$CODE $BODY" '200 {"live":true}'
}
