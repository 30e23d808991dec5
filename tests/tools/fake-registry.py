#!/usr/bin/env python3
"""A scripted OCI registry for the error paths docker-registry cannot
produce on demand (curl's tests/server/sws.c in spirit): Bearer token auth
with a token endpoint, transient 5xx, a refused manifest, a corrupt blob.

    fake-registry.py PORTFILE LOG [--user U:P] [--fail N] [--reject-manifest]
                     [--corrupt-blobs]

Listens on a free 127.0.0.1 port and writes it to PORTFILE. Every request
line (and each token request's query) is appended to LOG. Storage is in
memory. --fail N answers the first N requests to /v2/<name>/... with 503.
"""
import base64
import hashlib
import json
import os
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = sys.argv[1:]
portfile, logfile = args[0], args[1]
opts = args[2:]
user = opts[opts.index("--user") + 1] if "--user" in opts else None
fail_left = [int(opts[opts.index("--fail") + 1]) if "--fail" in opts else 0]
reject_manifest = "--reject-manifest" in opts
corrupt = "--corrupt-blobs" in opts
blobs, manifests, uploads = {}, {}, {}
lock = threading.Lock()
TOKEN = "tok-" + uuid.uuid4().hex


def log(line):
    with lock, open(logfile, "a") as f:
        f.write(line + "\n")


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def error(self, code, err, msg):
        body = json.dumps({"errors": [{"code": err, "message": msg}]}).encode()
        self.reply(code, body, {"Content-Type": "application/json"})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        log(f"{self.command} {self.path}")
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/token":
            log("token " + u.query)
            if user:
                want = "Basic " + base64.b64encode(user.encode()).decode()
                if self.headers.get("Authorization") != want:
                    return self.error(401, "UNAUTHORIZED", "bad credentials")
            return self.reply(200, json.dumps({"token": TOKEN}).encode(),
                              {"Content-Type": "application/json"})
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            host = self.headers.get("Host")
            return self.reply(
                    401,
                    b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                    {"WWW-Authenticate":
                     f'Bearer realm="http://{host}/token",service="fake"',
                     "Content-Type": "application/json"})
        if u.path == "/v2/":
            return self.reply(200, b"{}")
        with lock:
            failing = fail_left[0] > 0
            if failing:
                fail_left[0] -= 1
        if failing:
            return self.error(503, "UNAVAILABLE", "try again")
        parts = u.path.split("/")
        # /v2/<name...>/(blobs|manifests|tags)/...
        for i, p in enumerate(parts):
            if p in ("blobs", "manifests", "tags") and i > 2:
                name, kind, rest = "/".join(parts[2:i]), p, parts[i + 1:]
                break
        else:
            return self.error(404, "NAME_UNKNOWN", "no such route")
        host = self.headers.get("Host")
        if kind == "blobs" and rest[:1] == ["uploads"]:
            if self.command == "POST":
                uid = uuid.uuid4().hex
                uploads[uid] = bytearray(self.body())
                return self.reply(202, b"", {
                    "Location": f"/v2/{name}/blobs/uploads/{uid}",
                    "Range": "0-0"})
            uid = rest[1]
            if self.command == "PATCH":
                uploads[uid] += self.body()
                return self.reply(202, b"", {
                    "Location": f"/v2/{name}/blobs/uploads/{uid}",
                    "Range": f"0-{len(uploads[uid]) - 1}"})
            if self.command == "PUT":
                data = bytes(uploads.pop(uid)) + self.body()
                d = q["digest"][0]
                if "sha256:" + hashlib.sha256(data).hexdigest() != d:
                    return self.error(400, "DIGEST_INVALID",
                                      "provided digest did not match uploaded content")
                blobs[d] = data
                return self.reply(201, b"", {"Location": f"/v2/{name}/blobs/{d}",
                                             "Docker-Content-Digest": d})
        if kind == "blobs":
            d = rest[0]
            if d not in blobs:
                return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
            data = blobs[d]
            if corrupt:
                data = b"X" + data[1:]
            return self.reply(200, data, {"Docker-Content-Digest": d})
        if kind == "manifests":
            ref = rest[0]
            if self.command == "PUT":
                if reject_manifest:
                    return self.error(400, "MANIFEST_INVALID", "manifest invalid")
                data = self.body()
                d = "sha256:" + hashlib.sha256(data).hexdigest()
                ct = self.headers.get("Content-Type")
                manifests[(name, ref)] = (data, ct)
                manifests[(name, d)] = (data, ct)
                return self.reply(201, b"", {"Docker-Content-Digest": d})
            if (name, ref) not in manifests:
                return self.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            data, ct = manifests[(name, ref)]
            return self.reply(200, data, {"Content-Type": ct})
        if kind == "tags":
            tags = sorted(r for (n, r) in manifests
                          if n == name and not r.startswith("sha256:"))
            return self.reply(200, json.dumps({"name": name, "tags": tags}).encode())
        return self.error(404, "NAME_UNKNOWN", "no such route")

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any


srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
