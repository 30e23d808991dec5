#!/usr/bin/env bash
# serve-soak: `cnai serve` under wrk for a minute on loopback (1-row infer
# requests for a digits MLP, 2 threads, 64 connections): no error
# responses or socket errors, every request counted as a 200 in /metrics,
# and the server's resident memory grows by at most 5 MB from the end of a
# warm-up to the end of the soak (a leak of a few bytes per request shows:
# a minute is a million requests or more).
#
#   scripts/bench/serve-soak.sh
#   DURATION=600 scripts/bench/serve-soak.sh
#
# Environment: DURATION in seconds (60), THREADS (2), CONNECTIONS (64),
# CNAI the binary (build/cnai, built with `make` if missing), GOAL_MB (5),
# STRICT=1 to exit 1 when the goal is missed. tests/cli/t8002-serve-soak.bats
# runs it (STRICT=1) in `make test`.
set -euo pipefail

DURATION=${DURATION:-60}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
GOAL_MB=${GOAL_MB:-5}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cnai=${CNAI:-$root/build/cnai}
data=$root/examples/data/digits.csv

die() { echo "serve-soak: $*" >&2; exit 2; }
if ! command -v wrk >/dev/null; then
	"$root/scripts/install-deps.sh" test || die "needs wrk (scripts/install-deps.sh test)"
fi
[ -x "$cnai" ] || make -C "$root" >/dev/null || die "cannot build $cnai"
[ -f "$data" ] || die "no $data"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cnai-bench-soak.XXXXXX")
pid=
cleanup() {
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

echo "serve-soak: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on loopback, 1-row requests"
echo "machine: $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $("$cnai" --version | head -1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"

"$cnai" init >/dev/null
"$cnai" train --data "$data" --target target -o digits --epochs 5 \
	--seed 1 >/dev/null 2>&1 || die "cnai train failed"
python3 - "$data" <<'PY'
import csv, json, sys
row = next(r for i, r in enumerate(csv.reader(open(sys.argv[1]))) if i == 1)
body = json.dumps({"inputs": [{"name": "input", "shape": [1, 64],
                               "datatype": "FP32",
                               "data": [[float(v) for v in row[:64]]]}]})
open("req.lua", "w").write(
    'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
    'wrk.body = [==[%s]==]\n' % body)
PY

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
"$cnai" -q serve digits --port "$port" --threads "$THREADS" 2>serve.err &
pid=$!
for _ in $(seq 200); do
	curl -s -o /dev/null "$url/v2/health/ready" && break
	sleep 0.05
done
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status"; } # kB
# metrics: the count of requests of endpoint infer with code $1
count() {
	curl -s "$url/metrics" |
		sed -n "s/^cnai_http_requests_total{model=\"digits\",endpoint=\"infer\",code=\"$1\"} //p"
}

# Warm-up: every worker thread's backend and buffers, malloc's arenas.
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -s req.lua "$url/v2/models/digits/infer" >warm.wrk
rss0=$(rss)
before=$(count 200)
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s req.lua \
	"$url/v2/models/digits/infer" >soak.wrk
rss1=$(rss)
after=$(count 200)
others=$(curl -s "$url/metrics" | grep '^cnai_http_requests_total{' | grep -vc 'code="200"' || true)
requests=$(awk '/requests in/ { print $1 }' soak.wrk)
errors=$(grep -E 'Non-2xx|Socket errors' soak.wrk || true)

sed -n -e '/Latency /p' -e '/^ *50%/p' -e '/^ *99%/p' -e '/requests in/p' -e '/Requests\/sec/p' soak.wrk
echo "RSS after warm-up $((rss0 / 1024)).$(((rss0 % 1024) * 10 / 1024)) MB, after the soak $((rss1 / 1024)).$(((rss1 % 1024) * 10 / 1024)) MB: growth $(((rss1 - rss0))) kB"
echo "200s counted in /metrics during the soak: $((after - before)) (wrk: $requests completed); other status series: $others"
[ -z "$errors" ] || echo "wrk: $errors"

verdict=PASS
[ -z "$errors" ] && [ "$others" -eq 0 ] &&
	[ $((rss1 - rss0)) -le $((GOAL_MB * 1024)) ] || verdict=FAIL
echo "serve-soak: $requests requests, $( [ -z "$errors" ] && echo 'no' || echo 'some') error responses, RSS growth $(((rss1 - rss0))) kB (goal <= $GOAL_MB MB): $verdict"
[ "$verdict" = PASS ] || [ "${STRICT:-0}" != 1 ] || exit 1
