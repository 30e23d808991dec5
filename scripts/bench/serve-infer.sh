#!/usr/bin/env bash
# serve-infer: wrk on loopback against `cnai serve`'s
# POST /v2/models/digits/infer for a digits MLP (64 -> 100 -> 10), with a
# 1-row request (requests/s, p50 and p99 latency) and a 256-row request
# (rows/s); and the same wrk runs against a bare libmicrohttpd server
# configured the same way (scripts/bench/serve-hello.c: reads the body,
# answers a fixed JSON) in the same invocation, as the ceiling. Prints our
# share of it. Each server's own CPU time per request (all its threads,
# from /proc) is shown too: unlike requests/s and latencies it holds on a
# machine busy with other work.
#
#   scripts/bench/serve-infer.sh
#   DURATION=30 THREADS=2 CONNECTIONS=64 scripts/bench/serve-infer.sh
#
# Environment: DURATION of each wrk run in seconds (10), THREADS of wrk and
# of each server (2), CONNECTIONS (64), CNAI the binary (build/cnai, built
# with `make` if missing), GOAL_RPS (20000) and GOAL_P99 in ms (5),
# STRICT=1 to exit 1 when a goal is missed.
set -euo pipefail

DURATION=${DURATION:-10}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
GOAL_RPS=${GOAL_RPS:-20000}
GOAL_P99=${GOAL_P99:-5}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cnai=${CNAI:-$root/build/cnai}
data=$root/examples/data/digits.csv

die() { echo "serve-infer: $*" >&2; exit 2; }
if ! command -v wrk >/dev/null; then
	"$root/scripts/install-deps.sh" test || die "needs wrk (scripts/install-deps.sh test)"
fi
[ -x "$cnai" ] || make -C "$root" >/dev/null || die "cannot build $cnai"
[ -f "$data" ] || die "no $data"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cnai-bench-serve.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_up() {
	for _ in $(seq 200); do
		curl -s -o /dev/null "$1" && return 0
		sleep 0.05
	done
	die "no server at $1"
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo "serve-infer: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on loopback, each server with $THREADS threads"
echo "machine: $(nproc) x $cpu; $("$cnai" --version | head -1); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"

cc -std=c11 -D_GNU_SOURCE -O2 -o hello "$root/scripts/bench/serve-hello.c" \
	-lmicrohttpd -lpthread || die "cannot compile serve-hello.c"
"$cnai" init >/dev/null
"$cnai" train --data "$data" --target target -o digits --epochs 5 \
	--seed 1 >/dev/null 2>&1 || die "cnai train failed"

# The requests: rows of digits.csv without the target, as one [N, 64]
# input, and wrk scripts that POST them.
python3 - "$data" <<'PY'
import csv, json, sys
rows = list(csv.reader(open(sys.argv[1])))[1:]
for n in (1, 256):
    x = [[float(v) for v in r[:64]] for r in rows[:n]]
    body = json.dumps({"inputs": [{"name": "input", "shape": [n, 64],
                                   "datatype": "FP32", "data": x}]})
    open("req%d.json" % n, "w").write(body)
    open("req%d.lua" % n, "w").write(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        'wrk.body = [==[%s]==]\n' % body)
PY

cport=$(free_port)
"$cnai" -q serve digits --port "$cport" --threads "$THREADS" 2>serve.err &
pids+=($!)
cpid=$!
hport=$(free_port)
./hello "$hport" "$THREADS" &
pids+=($!)
hpid=$!
wait_up "http://127.0.0.1:$cport/v2/health/ready"
wait_up "http://127.0.0.1:$hport/"
# The answer is right before it is fast.
code=$(curl -s -o one.out -w '%{http_code}' --data-binary @req1.json \
	"http://127.0.0.1:$cport/v2/models/digits/infer")
[ "$code" = 200 ] || die "infer answered $code: $(cat one.out)"

# CPU nanoseconds of every thread of process $1 (schedstat: time on CPU).
cpu_ns() {
	cat /proc/"$1"/task/*/schedstat | awk '{ s += $1 } END { printf "%.0f", s }'
}
# wrk NAME PORT PATH LUA PID: runs wrk, keeps its output in NAME.wrk and
# the server's (PID's) CPU time during it in NAME.cpu, and fails on any
# error response or socket error.
run_wrk() {
	local ns0
	ns0=$(cpu_ns "$5")
	wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$4" \
		"http://127.0.0.1:$2$3" >"$1.wrk"
	echo $(($(cpu_ns "$5") - ns0)) >"$1.cpu"
	if grep -qE 'Non-2xx|Socket errors' "$1.wrk"; then
		cat "$1.wrk" >&2
		die "$1: error responses or socket errors"
	fi
}
rps() { sed -n 's/^Requests\/sec: *//p' "$1.wrk"; }
# The server's CPU microseconds per request wrk completed.
cpu_us() {
	awk -v ns="$(cat "$1.cpu")" '$2 == "requests" && $3 == "in" {
		printf "%.1f", ns / $1 / 1000 }' "$1.wrk"
}
# A latency percentile in ms (wrk prints us, ms or s).
lat() {
	awk -v p="$2%" '$1 == p {
		v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
		if (u == "us") v /= 1000; else if (u == "s") v *= 1000
		printf "%.2f", v }' "$1.wrk"
}

# Warm-up (thread backends, page cache), then ceiling and cnai
# alternately.
wrk -t"$THREADS" -c"$CONNECTIONS" -d2s -s req1.lua "http://127.0.0.1:$cport/v2/models/digits/infer" >/dev/null
run_wrk hello1 "$hport" /v2/models/digits/infer req1.lua "$hpid"
run_wrk cnai1 "$cport" /v2/models/digits/infer req1.lua "$cpid"
run_wrk hello256 "$hport" /v2/models/digits/infer req256.lua "$hpid"
run_wrk cnai256 "$cport" /v2/models/digits/infer req256.lua "$cpid"

share() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }
c1=$(rps cnai1) h1=$(rps hello1) c256=$(rps cnai256) h256=$(rps hello256)
row() {
	printf '%-34s %12.0f %9s %9s %12s\n' "$1" "$(rps "$2")" "$(lat "$2" 50)" \
		"$(lat "$2" 99)" "$(cpu_us "$2")"
}
printf '%-34s %12s %9s %9s %12s\n' "" "requests/s" "p50 ms" "p99 ms" "CPU us/req"
row "1 row, bare libmicrohttpd" hello1
row "1 row, cnai serve" cnai1
row "256 rows, bare libmicrohttpd" hello256
row "256 rows, cnai serve" cnai256
echo "cnai serve, 256-row requests: $(awk -v r="$c256" 'BEGIN { printf "%.0f", r * 256 }') rows/s"
echo "share of the ceiling: 1 row $(share "$c1" "$h1"), 256 rows $(share "$c256" "$h256")"

p99=$(lat cnai1 99)
verdict=PASS
awk -v r="$c1" -v g="$GOAL_RPS" -v p="$p99" -v gp="$GOAL_P99" \
	'BEGIN { exit !(r >= g && p <= gp) }' || verdict=FAIL
printf 'serve-infer: %.0f req/s (goal >= %s), p99 %s ms (goal <= %s ms): %s\n' \
	"$c1" "$GOAL_RPS" "$p99" "$GOAL_P99" "$verdict"
[ "$verdict" = PASS ] || [ "${STRICT:-0}" != 1 ] || exit 1
