#!/bin/bash
# package-push: pushing a large image to a local docker-registry with
# `cnai package push` against `skopeo copy oci:... docker://...`, same
# image, same run; then a second push (every blob already there).
# Goal: cnai >= 1.5x skopeo; second push <= 0.2 s. SIZE_MB (default 512).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CNAI=${CNAI:-$ROOT/build/cnai}
SIZE_MB=${SIZE_MB:-512}
[ -x "$CNAI" ] || make -C "$ROOT" >/dev/null
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cnai-bench.XXXXXX")
REG_PID=
trap '[ -n "$REG_PID" ] && kill $REG_PID 2>/dev/null; rm -rf "$WORK"' EXIT
cd "$WORK"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); image ${SIZE_MB} MiB"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >reg.yml <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: 127.0.0.1:$PORT
YML
/usr/bin/docker-registry serve reg.yml >reg.log 2>&1 &
REG_PID=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.1; done

mkdir model
for i in 1 2 3 4; do head -c $((SIZE_MB * 1048576 / 4)) /dev/urandom >model/part$i.bin; done
echo '{}' >model/cnai-model.json
"$CNAI" -q init >/dev/null
"$CNAI" model register big model >/dev/null
"$CNAI" package big --format modelcar --compression gzip >/dev/null
cat .cnai/oci/blobs/sha256/* >/dev/null

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc; }
t0=$(now)
skopeo copy -q --dest-tls-verify=false oci:.cnai/oci:big:1-modelcar "docker://127.0.0.1:$PORT/skopeo/big:1"
t1=$(now); skopeo_s=$(secs "$t0" "$t1")
t0=$(now)
"$CNAI" package push big:1-modelcar "127.0.0.1:$PORT/cnai/big:1" >/dev/null
t1=$(now); cnai_s=$(secs "$t0" "$t1")
t0=$(now)
"$CNAI" package push big:1-modelcar "127.0.0.1:$PORT/cnai/big:1" >/dev/null
t1=$(now); again_s=$(secs "$t0" "$t1")
printf 'skopeo copy           : %7.2f s\n' "$skopeo_s"
printf 'cnai package push     : %7.2f s\n' "$cnai_s"
printf 'cnai push, all present: %7.3f s\n' "$again_s"
ratio=$(echo "$skopeo_s / $cnai_s" | bc -l)
ok=FAIL
[ "$(echo "$ratio >= 1.5 && $again_s <= 0.2" | bc)" = 1 ] && ok=PASS
echo "package-push: cnai ${cnai_s}s vs skopeo ${skopeo_s}s (ratio $(printf %.2f "$ratio")), re-push ${again_s}s: $ok"
