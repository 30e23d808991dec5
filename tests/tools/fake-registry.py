#!/usr/bin/env python3
"""A scripted OCI registry for the error paths docker-registry cannot
produce on demand (curl's tests/server/sws.c in spirit): Bearer token auth
with a token endpoint, transient 5xx, a refused manifest, a corrupt blob,
and the hostile answers the client must survive.

    fake-registry.py PORTFILE LOG [--user U:P] [--fail N] [--reject-manifest]
                     [--corrupt-blobs] [--basic U:P | --anonymous]
                     [--upload-to URL] [--redirect-blobs URL]
                     [--token TOKEN] [--no-realm] [--huge-token]
                     [--huge-manifests] [--stream-blobs N] [--short-body]

Listens on a free 127.0.0.1 port and writes it to PORTFILE. Every request
line (and each token request's query) is appended to LOG, each followed by
"auth VALUE" (its Authorization header, "-" when none) and "injected" when
it carried an X-Injected header. Storage is in memory.

--fail N          the first N requests to /v2/<name>/... get 503
--user U:P        the token endpoint wants these Basic credentials
--basic U:P       no tokens: /v2/ wants these Basic credentials itself
--anonymous       no authentication at all
--upload-to URL   upload Locations point at URL (another registry)
--redirect-blobs URL   blob GETs are redirected (307) to URL
--token TOKEN     the token handed out (and wanted) instead of a random one
--no-realm        the Bearer challenge names no realm
--huge-token      the token endpoint answers 2 MiB
--huge-manifests  manifest GETs answer a JSON body over 4 MiB
--stream-blobs N  blob GETs answer N bytes without a Content-Length
--short-body      blob GETs announce their length but send all but the
                  last 10 bytes, then hold the connection
"""
import base64
import hashlib
import json
import os
import sys
import threading
import time
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


def opt(name):
    return opts[opts.index(name) + 1] if name in opts else None


basic = opt("--basic")
anonymous = "--anonymous" in opts
upload_to = opt("--upload-to")
redirect_blobs = opt("--redirect-blobs")
no_realm = "--no-realm" in opts
huge_token = "--huge-token" in opts
huge_manifests = "--huge-manifests" in opts
stream_blobs = int(opt("--stream-blobs") or 0)
short_body = "--short-body" in opts
blobs, manifests, uploads = {}, {}, {}
lock = threading.Lock()
TOKEN = opt("--token") or "tok-" + uuid.uuid4().hex


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

    def authorized(self):
        got = self.headers.get("Authorization")
        if anonymous:
            return True
        if basic:
            return got == "Basic " + base64.b64encode(basic.encode()).decode()
        return got == "Bearer " + TOKEN

    def challenge(self):
        host = self.headers.get("Host")
        if basic:
            www = 'Basic realm="fake"'
        elif no_realm:
            www = 'Bearer service="fake"'
        else:
            www = f'Bearer realm="http://{host}/token",service="fake"'
        return self.reply(
                401,
                b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                {"WWW-Authenticate": www, "Content-Type": "application/json"})

    def handle_any(self):
        log(f"{self.command} {self.path}")
        log("auth " + (self.headers.get("Authorization") or "-"))
        if self.headers.get("X-Injected") is not None:
            log("injected")
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/token":
            log("token " + u.query)
            if user:
                want = "Basic " + base64.b64encode(user.encode()).decode()
                if self.headers.get("Authorization") != want:
                    return self.error(401, "UNAUTHORIZED", "bad credentials")
            if huge_token:
                body = json.dumps({"token": "t" * (2 << 20)}).encode()
            else:
                body = json.dumps({"token": TOKEN}).encode()
            return self.reply(200, body, {"Content-Type": "application/json"})
        if not self.authorized():
            return self.challenge()
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
                    "Location": f"{upload_to or ''}/v2/{name}/blobs/uploads/{uid}",
                    "Range": "0-0"})
            uid = rest[1]
            # an upload another registry started (--upload-to there)
            uploads.setdefault(uid, bytearray())
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
        if kind == "blobs" and redirect_blobs and self.command == "GET":
            return self.reply(307, b"", {"Location": redirect_blobs + u.path})
        if kind == "blobs" and stream_blobs and self.command == "GET":
            # no Content-Length: the body ends when the connection does
            self.close_connection = True
            self.send_response(200)
            self.end_headers()
            try:
                for _ in range(0, stream_blobs, 65536):
                    self.wfile.write(b"x" * 65536)
            except OSError:
                pass
            return
        if kind == "blobs":
            d = rest[0]
            if d not in blobs:
                return self.error(404, "BLOB_UNKNOWN", "blob unknown to registry")
            data = blobs[d]
            if corrupt:
                data = b"X" + data[1:]
            if short_body and self.command == "GET":
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[:-10])
                self.wfile.flush()
                time.sleep(3600)
                return
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
            if huge_manifests:
                return self.reply(200, b"{" + b" " * (4 << 20) + b"}", {
                    "Content-Type": "application/vnd.oci.image.manifest.v1+json"})
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
