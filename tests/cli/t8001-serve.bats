#!/usr/bin/env bats
# cnai serve: every endpoint of the Open Inference Protocol v2 (and v1
# predict) against a real server on 127.0.0.1, answers equal to cnai
# predict's, /metrics valid for promtool, the access log, bad input (each
# with its status and a JSON error while the server keeps serving), a
# slowloris client, 1,000 connections at once, batching and a graceful
# SIGTERM (readiness 503 while draining, also on an open connection).
load lib
load serve

# Models trained once for the file: iris (softmax, 3 classes), diabetes
# (regression) and a categorical regression on CPS earnings.
setup_file() {
	FIX="$BATS_FILE_TMPDIR/fix"
	mkdir -p "$FIX" && cd "$FIX" || return 1
	D=$CNAI_ROOT/examples/data
	"$CNAI_BIN" init >/dev/null
	"$CNAI_BIN" train --data "$D/iris.csv" --target target --register iris \
		-o iris --epochs 30 --lr 0.05 >/dev/null
	"$CNAI_BIN" train --data "$D/diabetes.csv" --target target -o diabetes \
		--epochs 10 --lr 0.01 >/dev/null
	head -n 401 "$D/drift/cps_1992.csv" >cps.csv
	"$CNAI_BIN" train --data cps.csv --target earnings -o cps --epochs 5 \
		>/dev/null
	cp "$D/iris.csv" "$D/diabetes.csv" .
	write_client >client.py
	cd / || return 1
}

# huge.json: an infer request of 100,000 rows, whose answer is 7 MB.
huge_request() {
	python3 -c 'import json; print(json.dumps({"inputs": [{"name": "input", "shape": [100000, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2] * 100000}]}))' >huge.json
}

# Requests built from CSV rows, answers compared with cnai predict's CSV,
# and the concurrent clients, in one Python file.
write_client() {
	cat <<'PY'
import asyncio, csv, json, math, socket, sys, threading, time

def features(path, target):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    names = [k for k in rows[0] if k != target]
    return names, rows

def num(v):
    try:
        return float(v)
    except ValueError:
        return v

def cmd_req(path, target, shape="matrix", dtype="FP32", first=0, last=None):
    """A v2 request for rows [first, last) of a CSV."""
    names, rows = features(path, target)
    rows = rows[int(first):None if last in (None, "") else int(last)]
    conv = {"FP32": float, "FP64": float, "INT32": lambda v: int(round(float(v))),
            "INT64": lambda v: int(round(float(v))), "BYTES": num}[dtype]
    if shape == "features":
        inputs = [{"name": n, "shape": [len(rows)], "datatype": dtype,
                   "data": [conv(r[n]) for r in rows]} for n in names]
    else:
        data = [[conv(r[n]) for n in names] for r in rows]
        if shape == "flat":
            data = [v for row in data for v in row]
        inputs = [{"name": "input", "shape": [len(rows), len(names)],
                   "datatype": dtype, "data": data}]
    print(json.dumps({"id": "req-1", "inputs": inputs}))

def cmd_reqs(path, target, outdir, *specs):
    """cmd_req for each "shape:datatype" spec, into outdir/shape-datatype.json."""
    for spec in specs:
        shape, dtype = spec.split(":")
        with open("%s/%s-%s.json" % (outdir, shape, dtype), "w") as f:
            sys.stdout = f
            cmd_req(path, target, shape, dtype)
            sys.stdout = sys.__stdout__

def cmd_split(path, target, n, step, outdir):
    """One 1-row request per `step` rows: outdir/0.json ... (n of them)."""
    for i in range(int(n)):
        with open("%s/%d.json" % (outdir, i), "w") as f:
            sys.stdout = f
            cmd_req(path, target, "matrix", "FP32", i * int(step), i * int(step) + 1)
            sys.stdout = sys.__stdout__

def cmd_rows_of(outdir, n, step, full_path):
    """Each outdir/i.out holds row i*step of the response in full_path."""
    full = {o["name"]: o for o in json.load(open(full_path))["outputs"]}
    k = full["probabilities"]["shape"][1]
    for i in range(int(n)):
        got = {o["name"]: o for o in json.load(open("%s/%d.out" % (outdir, i)))["outputs"]}
        r = i * int(step)
        if (got["label"]["data"] != full["label"]["data"][r:r + 1] or
                got["probabilities"]["data"] != full["probabilities"]["data"][r * k:r * k + k]):
            fail("request %d: %s, alone: row %d of %s" % (i, got, r, full_path))

def fail(msg):
    print(msg, file=sys.stderr)
    sys.exit(1)

def cmd_compare(resp_path, pred_path, tol="1e-6"):
    """v2 outputs against `cnai predict --proba` (or plain) CSV."""
    tol = float(tol)
    resp = json.load(open(resp_path))
    out = {o["name"]: o for o in resp["outputs"]}
    with open(pred_path) as f:
        pred = list(csv.reader(f))
    head, pred = pred[0], pred[1:]
    if "label" in out:
        labels, proba = out["label"], out["probabilities"]
        n, k = proba["shape"]
        if labels["shape"] != [n] or len(pred) != n or k != len(head) - 1:
            fail("shapes: %s %s, %d rows" % (labels["shape"], proba["shape"], len(pred)))
        for i, row in enumerate(pred):
            if labels["data"][i] != row[0]:
                fail("row %d: label %s, predict says %s" % (i, labels["data"][i], row[0]))
            for j in range(k):
                d = abs(proba["data"][i * k + j] - float(row[j + 1]))
                if d > tol:
                    fail("row %d p%d: off by %g" % (i, j, d))
    else:
        p = out["predictions"]
        if p["shape"] != [len(pred)]:
            fail("shape %s for %d rows" % (p["shape"], len(pred)))
        for i, row in enumerate(pred):
            a, b = p["data"][i], float(row[0])
            if abs(a - b) > tol * max(1.0, abs(b)):
                fail("row %d: %r, predict says %r" % (i, a, b))
    print("ok %d rows" % len(pred))

def http_request(path, body):
    b = body.encode()
    return (b"POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            b"application/json\r\nContent-Length: %d\r\nConnection: close"
            b"\r\n\r\n" % (path.encode(), len(b))) + b

def parse(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode()

async def one(port, path, body):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(http_request(path, body))
    await w.drain()
    raw = await r.read()
    w.close()
    return parse(raw)

def cmd_flood(port, n, path, good, bad):
    """n connections at once, every 10th with a bad body: each must get
    its status (200 or 400) and the right body."""
    good, bad = open(good).read(), open(bad).read()
    want_good = None
    async def main():
        return await asyncio.gather(*[one(int(port), path, bad if i % 10 == 9 else good)
                                      for i in range(int(n))])
    res = asyncio.run(main())
    counts = {}
    for i, (code, body) in enumerate(res):
        counts[code] = counts.get(code, 0) + 1
        doc = json.loads(body)
        if i % 10 == 9:
            if code != 400 or not isinstance(doc.get("error"), str):
                fail("bad request %d: %d %s" % (i, code, body))
        else:
            if code != 200:
                fail("request %d: %d %s" % (i, code, body))
            want_good = want_good or body
            if body != want_good:
                fail("request %d: another answer: %s" % (i, body))
    print(json.dumps(counts, sort_keys=True))

def cmd_slowloris(port, wait):
    """A partial header, then nothing: seconds until the server closes."""
    s = socket.create_connection(("127.0.0.1", int(port)))
    s.sendall(b"POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nContent-Le")
    t0 = time.time()
    s.settimeout(float(wait))
    try:
        data = s.recv(4096)
    except socket.timeout:
        fail("still open after %ss" % wait)
    print("closed after %.1fs, %d bytes" % (time.time() - t0, len(data)))

def cmd_stream(port, path, body_path, seconds, pidfile):
    """4 threads send requests for `seconds`; at a third of it, SIGTERM
    (by pid). Every response must be a 200; after SIGTERM connections are
    refused or closed. Prints the counts."""
    import os, signal
    body = open(body_path).read()
    ok, other, refused = [0], [], [0]
    stop = time.time() + float(seconds)
    lock = threading.Lock()
    def worker():
        while time.time() < stop:
            try:
                s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
                s.sendall(http_request(path, body))
                raw = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    raw += chunk
                s.close()
            except OSError:
                with lock:
                    refused[0] += 1
                time.sleep(0.01)
                continue
            if not raw:
                with lock:
                    refused[0] += 1
                continue
            code, _ = parse(raw)
            with lock:
                if code == 200:
                    ok[0] += 1
                else:
                    other.append(code)
    ts = [threading.Thread(target=worker) for _ in range(4)]
    for t in ts:
        t.start()
    time.sleep(float(seconds) / 3)
    os.kill(int(open(pidfile).read()), signal.SIGTERM)
    for t in ts:
        t.join()
    print(json.dumps({"ok": ok[0], "other": other, "refused": refused[0]}))
    if other or ok[0] < 10:
        sys.exit(1)

def cmd_concurrent(port, path, n, body_dir):
    """n different 1-row requests at once (body_dir/i.json); prints each
    answer to body_dir/i.out."""
    async def main():
        return await asyncio.gather(*[one(int(port), path, open("%s/%d.json" % (body_dir, i)).read())
                                      for i in range(int(n))])
    for i, (code, body) in enumerate(asyncio.run(main())):
        if code != 200:
            fail("request %d: %d %s" % (i, code, body))
        open("%s/%d.out" % (body_dir, i), "w").write(body)

def cmd_held(port):
    """POSTs huge.json and reads the answer only once a file "go" exists:
    a request in flight for as long as a test wants. Writes the status
    and the body to slow.out."""
    import os
    b = open("huge.json", "rb").read()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.connect(("127.0.0.1", int(port)))
    s.sendall(b"POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\n"
              b"Content-Length: %d\r\n\r\n" % len(b) + b)
    while not os.path.exists("go"):
        time.sleep(0.05)
    raw = b""
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    open("slow.out", "wb").write(head.split(b" ")[1] + b"\n" + body)

def cmd_probe(port):
    """GET /v2/health/ready twice on one keep-alive connection, as a
    kubelet's probe may: now, and once a file "term" exists. Prints each
    status, body and whether the answer asks to close, then whether the
    server closed the connection."""
    import os
    s = socket.create_connection(("127.0.0.1", int(port)))
    def ready():
        s.sendall(b"GET /v2/health/ready HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = b""
        while b"\r\n\r\n" not in raw:
            raw += s.recv(4096)
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode().lower().split("\r\n")
        n = int([l.split(":")[1] for l in lines if l.startswith("content-length:")][0])
        while len(body) < n:
            body += s.recv(4096)
        return "%s %s %s" % (lines[0].split(" ")[1], body.decode(),
                             "close" if "connection: close" in lines else "keep-alive")
    print(ready(), flush=True)
    while not os.path.exists("term"):
        time.sleep(0.05)
    print(ready(), flush=True)
    print("closed" if s.recv(1) == b"" else "open")

globals()["cmd_" + sys.argv[1].replace("-", "_")](*sys.argv[2:])
PY
}

client() { python3 client.py "$@"; }

@test "health, server metadata and model readiness answer 200 with their JSON" {
	serve_start iris
	get /v2/health/live
	assert_equal "$CODE $BODY" '200 {"live":true}'
	get /v2/health/ready
	assert_equal "$CODE $BODY" '200 {"ready":true}'
	get /v2
	assert_equal "$CODE" 200
	assert_equal "$(jq -c . <<<"$BODY")" "$(jq -cn --arg v "$(cat "$CNAI_ROOT/VERSION")" '{name: "cnai", version: $v, extensions: ["model_repository"]}')"
	get /v2/models/iris/ready
	assert_equal "$CODE $BODY" '200 {"name":"iris","ready":true}'
	get /v2/models/iris/versions/1/ready
	assert_equal "$CODE $BODY" '200 {"name":"iris","ready":true}'
}

@test "model metadata lists the inputs and outputs, also under versions/V" {
	serve_start iris
	get /v2/models/iris
	assert_equal "$CODE" 200
	expect='{"name":"iris","versions":["1"],"platform":"cnai","inputs":[{"name":"input","datatype":"FP32","shape":[-1,4]},{"name":"sepal_length_cm","datatype":"FP32","shape":[-1]},{"name":"sepal_width_cm","datatype":"FP32","shape":[-1]},{"name":"petal_length_cm","datatype":"FP32","shape":[-1]},{"name":"petal_width_cm","datatype":"FP32","shape":[-1]}],"outputs":[{"name":"probabilities","datatype":"FP32","shape":[-1,3]},{"name":"label","datatype":"BYTES","shape":[-1]}]}'
	assert_equal "$(jq -cS . <<<"$BODY")" "$(jq -cS . <<<"$expect")"
	get /v2/models/iris/versions/1
	assert_equal "$CODE" 200
	assert_equal "$(jq -cS . <<<"$BODY")" "$(jq -cS . <<<"$expect")"
	get /v2/models/iris/versions/2
	assert_equal "$CODE $BODY" "404 {\"error\":\"model 'iris' version 2 not found\"}"
}

@test "a folder is served under its base name; CNAI_MODEL_VERSION names its version" {
	CNAI_MODEL_VERSION=7 serve_start "$PWD/diabetes/" cps
	get /v2/models/diabetes
	assert_equal "$CODE $(jq -c '[.name, .versions, .outputs[0].name]' <<<"$BODY")" '200 ["diabetes",["7"],"predictions"]'
	get /v2/models/cps/versions/7/ready
	assert_equal "$CODE" 200
	# categorical features are BYTES inputs, and no [N, F] input is offered
	get /v2/models/cps
	assert_equal "$(jq -c '[.inputs[] | [.name, .datatype]]' <<<"$BODY")" '[["age","FP32"],["degree","BYTES"],["gender","BYTES"]]'
}

@test "infer on all 150 iris rows equals cnai predict --proba" {
	serve_start iris
	client req iris.csv target >req.json
	post /v2/models/iris/infer "$(cat req.json)"
	assert_equal "$CODE" 200
	printf '%s' "$BODY" >resp.json
	assert_equal "$(jq -r '[.model_name, .model_version, .id] | join(" ")' resp.json)" "iris 1 req-1"
	assert_equal "$(jq -c '[.outputs[] | [.name, .datatype, .shape]]' resp.json)" '[["probabilities","FP32",[150,3]],["label","BYTES",[150]]]'
	cnai predict iris --data iris.csv --proba >pred.csv
	run client compare resp.json pred.csv
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	assert_equal "$output" "ok 150 rows"
	# the versions path answers the same
	post /v2/models/iris/versions/1/infer "$(cat req.json)"
	assert_equal "$CODE" 200
	assert_equal "$BODY" "$(cat resp.json)"
}

@test "one input per feature, nested or flat data and every datatype give the same answer" {
	serve_start iris
	client reqs iris.csv target . matrix:FP32 features:FP32 flat:FP32 \
		matrix:FP64 features:FP64 flat:FP64
	post /v2/models/iris/infer "$(cat matrix-FP32.json)"
	want=$BODY
	for v in features-FP32 flat-FP32 matrix-FP64 features-FP64 flat-FP64; do
		post /v2/models/iris/infer "$(cat $v.json)"
		assert_equal "$CODE" 200 || { echo "$v: $BODY"; false; }
		assert_equal "$BODY" "$want" || { echo "with $v"; false; }
	done
	# integers: the same as FP32 on the rounded rows, and as cnai predict
	awk -F, -v OFS=, 'NR == 1 { print; next } { for (i = 1; i < NF; i++) $i = sprintf("%.0f", $i); print }' iris.csv >int.csv
	client reqs int.csv target . matrix:FP32 matrix:INT32 features:INT32 \
		flat:INT64 features:INT64
	post /v2/models/iris/infer "$(cat matrix-FP32.json)"
	want=$BODY
	printf '%s' "$BODY" >resp.json
	cnai predict iris --data int.csv --proba >pred.csv
	client compare resp.json pred.csv
	for v in matrix-INT32 features-INT32 flat-INT64 features-INT64; do
		post /v2/models/iris/infer "$(cat $v.json)"
		assert_equal "$BODY" "$want" || { echo "with $v"; false; }
	done
}

@test "numbers in every JSON form read the same in an [N, F] input as in one input per feature" {
	serve_start iris
	# column by column: integers, exponents, long mantissas, underflow,
	# -0, null (the training fill) and the same values written plainly
	cols=('5, 51e-1, 5.0, 0.5e1, 50E-1, 4.99999999999999999999'
	      '3.0, 3.5E+0, -0, 1e-50, 2.5e-310, 123456789012345678'
	      '1.4e0, null, 0.000001234567890123, 7e22, 1234567890123456e-15, 1.4'
	      '0.2, -0.0, 1.17549435e-38, 3, 0.1e1, 2')
	matrix=$(python3 -c 'import sys
cols = [c.split(", ") for c in sys.argv[1:]]
rows = ["[" + ", ".join(r) + "]" for r in zip(*cols)]
print("{\"id\": \"plain\", \"inputs\": [{\"name\": \"input\", \"shape\": [%d, 4], \"datatype\": \"FP32\", \"data\": [%s]}]}" % (len(rows), ", ".join(rows)))' "${cols[@]}")
	features=$(python3 -c 'import sys
names = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"]
cols = [c.split(", ") for c in sys.argv[1:]]
ins = ["{\"name\": \"%s\", \"shape\": [%d], \"datatype\": \"FP64\", \"data\": [%s]}" % (n, len(c), ", ".join(c)) for n, c in zip(names, cols)]
print("{\"id\": \"plain\", \"inputs\": [%s]}" % ", ".join(ins))' "${cols[@]}")
	post /v2/models/iris/infer "$matrix"
	assert_equal "$CODE" 200 || { echo "$BODY"; false; }
	want=$BODY
	post /v2/models/iris/infer "$features"
	assert_equal "$CODE" 200
	assert_equal "$BODY" "$want"
	assert_equal "$(jq -c '[.id, .outputs[0].shape]' <<<"$BODY")" '["plain",[6,3]]'
	# an id with escapes comes back as the same string
	post /v2/models/iris/infer "$(jq -c --arg id $'a"b\n\u00e9' '.id = $id' <<<"$matrix")"
	assert_equal "$(jq -c .id <<<"$BODY")" '"a\"b\né"'
}

@test "a regression model's predictions equal cnai predict's" {
	serve_start diabetes
	client req diabetes.csv target >req.json
	post /v2/models/diabetes/infer "$(cat req.json)"
	assert_equal "$CODE" 200
	printf '%s' "$BODY" >resp.json
	assert_equal "$(jq -c '[.outputs[] | [.name, .datatype, .shape]]' resp.json)" '[["predictions","FP32",[442]]]'
	cnai predict diabetes --data diabetes.csv >pred.csv
	run client compare resp.json pred.csv
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "categorical features take BYTES inputs, null is a missing value" {
	serve_start cps
	client req cps.csv earnings features BYTES >req.json
	# the numeric columns as numbers, the categories as strings
	jq -c '.inputs |= map(if .name == "degree" or .name == "gender" then . else .datatype = "FP32" end)' req.json >r.json
	post /v2/models/cps/infer "$(cat r.json)"
	assert_equal "$CODE" 200
	printf '%s' "$BODY" >resp.json
	cnai predict cps --data cps.csv >pred.csv
	run client compare resp.json pred.csv
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	# null takes the training fill, as an empty CSV cell does
	printf 'degree,gender,age\n,male,\n' >gap.csv
	cnai predict cps --data gap.csv 2>/dev/null >pred.csv
	post /v2/models/cps/infer '{"inputs":[{"name":"degree","shape":[1],"datatype":"BYTES","data":[null]},{"name":"gender","shape":[1],"datatype":"BYTES","data":["male"]},{"name":"age","shape":[1],"datatype":"FP32","data":[null]}]}'
	assert_equal "$CODE" 200
	printf '%s' "$BODY" >resp.json
	client compare resp.json pred.csv
}

@test "v1 predict answers labels (or values) equal to cnai predict's" {
	serve_start iris diabetes
	instances=$(client req iris.csv target | jq -c '{instances: .inputs[0].data}')
	post /v1/models/iris:predict "$instances"
	assert_equal "$CODE" 200
	assert_equal "$(jq -r '.predictions[]' <<<"$BODY")" "$(cnai predict iris --data iris.csv | tail -n +2)"
	# instances may be objects by feature name
	post /v1/models/iris:predict '{"instances":[{"petal_width_cm":2.3,"petal_length_cm":5.2,"sepal_width_cm":3.0,"sepal_length_cm":6.7}]}'
	assert_equal "$CODE" 200
	post /v1/models/iris:predict '{"instances":[[6.7,3.0,5.2,2.3]]}'
	assert_equal "$CODE" 200
	same=$BODY
	post /v1/models/iris:predict '{"instances":[{"petal_width_cm":2.3,"petal_length_cm":5.2,"sepal_width_cm":3.0,"sepal_length_cm":6.7}]}'
	assert_equal "$BODY" "$same"
	instances=$(client req diabetes.csv target | jq -c '{instances: .inputs[0].data}')
	post /v1/models/diabetes:predict "$instances"
	assert_equal "$CODE" 200
	jq -c '{outputs: [{name: "predictions", shape: [.predictions | length], data: .predictions}]}' <<<"$BODY" >resp.json
	cnai predict diabetes --data diabetes.csv >pred.csv
	client compare resp.json pred.csv
}

@test "bad input gets 400 with a JSON error, and the server keeps serving" {
	serve_start iris
	ok='{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[[6.7,3.0,5.2,2.3]]}]}'
	# status, path, body, the start of the error message
	while IFS='|' read -r want path body msg; do
		post "$path" "$body"
		assert_equal "$CODE" "$want" || { echo "for $body: $BODY"; false; }
		err=$(jq -r '.error | strings' <<<"$BODY")
		assert_contains "$err" "$msg" || { echo "for $body: $BODY"; false; }
		post /v2/models/iris/infer "$ok"
		assert_equal "$CODE" 200
	done <<'EOF'
400|/v2/models/iris/infer|{"inputs": [|malformed JSON at line 1
400|/v2/models/iris/infer||malformed JSON
400|/v2/models/iris/infer|[1, 2]|the request must be a JSON object
400|/v2/models/iris/infer|{"inputs": []}|'inputs' must be a non-empty array
400|/v2/models/iris/infer|{"inputs":[{"name":"pixels","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}|unknown input 'pixels'
400|/v2/models/iris/infer|{"inputs":[{"name":"sepal_length_cm","shape":[1],"datatype":"FP32","data":[1]}]}|no input for feature 'sepal_width_cm'
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4]}]}|input 'input': 4 values for shape of 8
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4,5]}]}|input 'input': 5 values for shape of 4
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}|the model takes 4 features per row
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4,1],"datatype":"FP32","data":[1,2,3,4]}]}|shape must be [N] or [N, F]
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,-4],"datatype":"FP32","data":[1,2,3,4]}]}|bad shape
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"INT32","data":[1,2,3,1.5]}]}|INT32 values must be integers
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"INT32","data":[1,2,3,4294967296]}]}|out of range for INT32
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FOO","data":[1,2,3,4]}]}|datatype 'FOO' is not
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,"NaN"]}]}|NaN is not allowed
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,NaN]}]}|malformed JSON
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}x|malformed JSON
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,04]}]}|malformed JSON
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4.]}]}|malformed JSON
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,1e999]}]}|real number overflow
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,99999999999999999999]}]}|too big integer
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[[[[[[[[[[1,2,3,4]]]]]]]]]]}]}|data nested too deeply
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","data":[1,2,3,1e39]}]}|out of range for FP64
400|/v2/models/iris/infer|{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,true]}]}|values must be numbers
400|/v2/models/iris/infer|{"inputs":[{"name":"input","datatype":"FP32","data":[1,2,3,4]}]}|each input needs name, shape, datatype and data
400|/v1/models/iris:predict|{"instances":[[1,2,3]]}|each instance needs 4 values
400|/v1/models/iris:predict|{"instances":[{"sepal_length_cm":1}]}|instance without feature 'sepal_width_cm'
400|/v1/models/iris:predict|{"rows":[]}|expected {"instances": [...]}
404|/v2/models/nosuch/infer|{}|model 'nosuch' not found
404|/v1/models/nosuch:predict|{}|model not found
404|/v2/models/iris/explain|{}|no such endpoint
404|/v2/nothing|{}|no such endpoint
EOF
	get /v2/models/nosuch
	assert_equal "$CODE $BODY" "404 {\"error\":\"model 'nosuch' not found\"}"
	get /v2/models/iris/infer
	assert_equal "$CODE $BODY" '405 {"error":"use POST for infer"}'
	get /v2/health/ready
	assert_equal "$CODE" 200
}

@test "a body over --max-body gets 413, with or without a Content-Length" {
	serve_start iris --max-body 1000
	python3 -c 'print("{\"instances\":[" + ",".join(["[1,2,3,4]"] * 200) + "]}")' >big.json
	[ "$(wc -c <big.json)" -gt 1000 ]
	run req --data-binary @big.json "$URL/v1/models/iris:predict"
	assert_equal "$output" "$(printf '{"error":"request body over the --max-body limit"}\n413')"
	run req -H 'Transfer-Encoding: chunked' --data-binary @big.json "$URL/v1/models/iris:predict"
	assert_equal "$output" "$(printf '{"error":"request body over the --max-body limit"}\n413')"
	post /v1/models/iris:predict '{"instances":[[6.7,3.0,5.2,2.3]]}'
	assert_equal "$CODE" 200
}

@test "a slowloris client is closed after --timeout while others are served" {
	serve_start iris --timeout 1
	client slowloris "$PORT" 5 >slow.out &
	slow=$!
	for _ in 1 2 3 4 5; do
		get /v2/health/live
		assert_equal "$CODE" 200
		sleep 0.1
	done
	wait "$slow"
	assert_contains "$(cat slow.out)" "closed after"
	get /v2/health/live
	assert_equal "$CODE" 200
}

@test "1,000 concurrent connections each get their answer" {
	serve_start iris --threads 4
	client req iris.csv target matrix FP32 0 1 >good.json
	echo '{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2]}]}' >bad.json
	run client flood "$PORT" 1000 /v2/models/iris/infer good.json bad.json
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	assert_equal "$output" '{"200": 900, "400": 100}'
	get /v2/health/ready
	assert_equal "$CODE" 200
}

@test "requests within --batch-window-us run as one batch and get their own rows" {
	# A window far longer than the gap between the 48 concurrent requests,
	# so that they meet in batches even on a loaded machine (a 2 ms window
	# let 49 separate calls through while other suites ran).
	serve_start -q iris --threads 16 --batch-window-us 100000
	mkdir b
	client split iris.csv target 48 3 b
	client concurrent "$PORT" /v2/models/iris/infer 48 b
	# each answer is the one its row gets in an unbatched request
	client req iris.csv target matrix FP32 0 144 >all.json
	post /v2/models/iris/infer "$(cat all.json)"
	printf '%s' "$BODY" >all.out
	client rows-of b 48 3 all.out
	get /metrics
	count=$(sed -n 's/^cnai_inference_batch_size_count{model="iris"} //p' <<<"$BODY")
	ones=$(sed -n 's/^cnai_inference_batch_size_bucket{model="iris",le="1"} //p' <<<"$BODY")
	rows=$(sed -n 's/^cnai_inference_batch_size_sum{model="iris"} //p' <<<"$BODY")
	# 48 one-row requests and one of 144 rows, in fewer calls than requests
	assert_equal "$rows" 192
	[ "$count" -lt 49 ] || { echo "$count inference calls"; false; }
	[ "$ones" -lt 48 ] || { echo "$ones calls of one row"; false; }
}

@test "/metrics passes promtool and counts requests by model, endpoint and code" {
	serve_start iris
	post /v2/models/iris/infer '{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}'
	post /v2/models/iris/infer '{'
	post /v2/models/nosuch/infer '{}'
	post /v2/models/nosuch2/infer '{}'
	get /v2/health/live
	curl -s "$URL/metrics" >/dev/null
	get /metrics
	assert_equal "$CODE" 200
	run promtool check metrics <<<"$BODY"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	assert_contains "$BODY" 'cnai_http_requests_total{model="iris",endpoint="infer",code="200"} 1'
	assert_contains "$BODY" 'cnai_http_requests_total{model="iris",endpoint="infer",code="400"} 1'
	# unknown models share one series: clients cannot add labels
	assert_contains "$BODY" 'cnai_http_requests_total{model="",endpoint="unknown",code="404"} 2'
	assert_contains "$BODY" 'cnai_http_requests_total{model="",endpoint="live",code="200"} 1'
	assert_contains "$BODY" 'cnai_http_requests_total{model="",endpoint="metrics",code="200"} 1'
	assert_contains "$BODY" 'cnai_inference_batch_size_sum{model="iris"} 2'
	assert_contains "$BODY" 'cnai_http_requests_in_flight 1'
	grep -q '^cnai_model_load_seconds{model="iris"} [0-9.]*$' <<<"$BODY"
	grep -q '^cnai_http_request_duration_seconds_bucket{model="iris",le="+Inf"} 2$' <<<"$BODY"
	assert_contains "$(curl -s -D - -o /dev/null "$URL/metrics")" "Content-Type: text/plain; version=0.0.4"
}

@test "the access log is one JSON line per request on stderr; text or -q on request" {
	serve_start iris
	get /v2/health/live
	post /v2/models/iris/infer '{'
	get '/v2/models/a%22b%5C%01%FF/ready'
	assert_equal "$CODE" 404
	serve_stop
	assert_equal "$SERVE_STATUS" 0
	grep -v '^cnai: ' serve.err >log
	[ "$(wc -l <log)" -eq 4 ] || { cat log; false; }
	run jq -c '[.endpoint, .model, .status, (.time | test("^[0-9-]+T[0-9:]+Z$")), .remote, (.bytes > 0), (.duration_ms >= 0)]' log
	[ "$status" -eq 0 ] || { cat log; false; }
	# (the first is serve_start's readiness probe)
	assert_equal "${lines[0]}" '["ready","",200,true,"127.0.0.1",true,true]'
	assert_equal "${lines[1]}" '["live","",200,true,"127.0.0.1",true,true]'
	assert_equal "${lines[2]}" '["infer","iris",400,true,"127.0.0.1",true,true]'
	assert_equal "${lines[3]}" '["unknown","a\"b\\\u0001ÿ",404,true,"127.0.0.1",true,true]'

	serve_start iris --log-format text
	get /v2/models/iris/ready
	serve_stop
	grep -v '^cnai: ' serve.err | tail -n 1 >log
	[[ "$(cat log)" =~ ^[0-9T:Z-]+\ 127\.0\.0\.1\ model_ready\ iris\ 200\ 28\ [0-9.]+ms$ ]] || { cat log; false; }

	serve_start -q iris
	get /v2/health/live
	post /v2/models/iris/infer '{'
	serve_stop
	assert_equal "$SERVE_STATUS" 0
	assert_equal "$(cat serve.err)" ""
}

@test "SIGTERM during a stream of requests: every answer is a 200, exit 0" {
	serve_start -q iris --threads 4
	echo "$SERVE_PID" >pid
	client req iris.csv target matrix FP32 0 20 >req.json
	run client stream "$PORT" /v2/models/iris/infer req.json 1.5 pid
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	wait "$SERVE_PID" || SERVE_STATUS=$?
	SERVE_PID=
	assert_equal "${SERVE_STATUS:-0}" 0
	# after SIGTERM, new connections were refused
	[ "$(jq .refused <<<"$output")" -gt 0 ] || { echo "$output"; false; }
}

@test "SIGTERM lets a request in flight finish, then exits 0" {
	serve_start iris --threads 2
	huge_request
	# a client that reads its 100,000-row answer (7 MB) only once told to
	client held "$PORT" 3>&- &
	slow=$!
	in_flight 2
	kill -TERM "$SERVE_PID"
	sleep 0.2
	# no new connections while draining
	run curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/v2/health/live"
	assert_equal "$output" 000
	touch go
	wait "$slow"
	assert_equal "$(head -n 1 slow.out)" 200
	assert_equal "$(tail -n +2 slow.out | jq -r '.outputs[1].data | length')" 100000
	wait "$SERVE_PID" || SERVE_STATUS=$?
	SERVE_PID=
	assert_equal "${SERVE_STATUS:-0}" 0
	assert_contains "$(cat serve.err)" "cnai: SIGTERM: draining (up to 10s)"
}

@test "while draining, readiness answers 503 and closes an already-open keep-alive connection" {
	serve_start -q iris
	huge_request
	client probe "$PORT" >probe.out 3>&- &
	probe=$!
	# a request in flight holds the drain
	client held "$PORT" 3>&- &
	slow=$!
	in_flight 2
	for _ in $(seq 100); do
		[ -s probe.out ] && break
		sleep 0.05
	done
	[ "$(head -n 1 probe.out)" = '200 {"ready":true} keep-alive' ] || { cat probe.out; false; }
	kill -TERM "$SERVE_PID"
	# draining once new connections are refused (readiness turned first)
	for _ in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "$URL/v2/health/live" || break
		sleep 0.05
	done
	touch term
	wait "$probe"
	touch go
	wait "$slow"
	assert_equal "$(cat probe.out)" "$(printf '%s\n' '200 {"ready":true} keep-alive' '503 {"ready":false} close' closed)"
	assert_equal "$(head -n 1 slow.out)" 200
	wait "$SERVE_PID" || SERVE_STATUS=$?
	SERVE_PID=
	assert_equal "${SERVE_STATUS:-0}" 0
}

@test "--grace bounds the drain: a client that does not read does not hold the exit" {
	serve_start iris --grace 1
	# a 100,000-row answer (7 MB) to a client that reads none of it for 30 s
	huge_request
	python3 -c 'import socket, sys, time
b = open("huge.json", "rb").read()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"POST /v2/models/iris/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(b) + b)
time.sleep(30)' "$PORT" 3>&- &
	stalled=$!
	in_flight 2
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID" || SERVE_STATUS=$?
	SERVE_PID=
	# out while the client still stalls: the grace ended the drain, not
	# the client nor --timeout (10 s); the request was cut off, and said so
	kill -0 "$stalled"
	kill "$stalled"
	assert_equal "${SERVE_STATUS:-0}" 0
	grep -qx "cnai: grace of 1s over: 1 request(s) in flight cut off" serve.err ||
		{ cat serve.err; false; }
}

@test "usage errors exit 2 and a busy port exits 3, before serving" {
	run --separate-stderr cnai serve
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "cnai: error: no model to serve; usage: cnai serve <model>|<dir>..."
	run --separate-stderr cnai serve iris --log-format xml
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --log-format: 'xml' is not json or text"
	run --separate-stderr cnai serve iris --threads 0
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "out of range"
	run --separate-stderr cnai serve iris --host localhost
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --host: 'localhost' is not an IPv4 address"
	run --separate-stderr cnai serve nosuch
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'nosuch' not found"
	serve_start iris
	run --separate-stderr cnai serve iris --port "$PORT"
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "cnai: error: cannot listen on 127.0.0.1:$PORT (port in use, or not allowed)"
}
