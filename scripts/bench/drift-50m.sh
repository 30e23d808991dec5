#!/usr/bin/env bash
# drift-50m: 50,000,000 rows per side streamed through `cnai drift`'s
# sketch path (more values than --exact-limit keeps): peak RSS (goal
# <= 256 MB) and throughput in MB/s of CSV. The reference is a file, the
# current side comes through stdin ('-'), as in a pipeline; both are
# generated once and read from the page cache.
#
#   scripts/bench/drift-50m.sh
#   N=5000000 scripts/bench/drift-50m.sh
#
# Environment: N rows per side (50000000), CNAI the binary (build/cnai),
# DATA a folder to keep the generated files in (default: a temporary
# folder, removed; the two files take about 2 GB), STRICT=1 to exit 1
# when the memory goal is missed.
set -euo pipefail

N=${N:-50000000}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cnai=${CNAI:-$root/build/cnai}
PY=/usr/bin/python3

die() { echo "drift-50m: $*" >&2; exit 2; }
[ -x "$cnai" ] || make -C "$root" >/dev/null || die "cannot build $cnai"
command -v "$PY" >/dev/null || die "needs python3"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cnai-bench-drift50.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
data=${DATA:-$tmp}
mkdir -p "$data"

# x: normal, y: log-normal-ish, color: 8 categories; $2 shifts x.
gen() {
	awk -v n="$1" -v shift="$2" -v seed="$3" 'BEGIN {
		srand(seed); print "x,y,color"
		for (i = 0; i < n; i++) {
			u = rand(); if (u < 1e-12) u = 1e-12
			x = sqrt(-2 * log(u)) * cos(6.283185307179586 * rand())
			printf "%.6g,%.5g,c%d\n", x + shift, exp(rand() * 3), int(rand() * rand() * 8)
		}
	}'
}

ref=$data/ref50-$N.csv
cur=$data/cur50-$N.csv
[ -s "$ref" ] || { echo "drift-50m: generating $N rows" >&2; gen "$N" 0 1 >"$ref"; }
[ -s "$cur" ] || { echo "drift-50m: generating $N rows" >&2; gen "$N" 0.02 2 >"$cur"; }
mb=$(du -cm "$ref" "$cur" | tail -1 | cut -f1)
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo "drift-50m: $N rows x 3 columns per side ($mb MB of CSV in all), current through stdin"
echo "machine: $(nproc) x $cpu; $("$cnai" --version | head -1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
cat "$ref" "$cur" >/dev/null # warm the page cache

mkdir -p "$tmp/store" && "$cnai" init "$tmp/store" >/dev/null
read -r secs rss cpu < <($PY - "$cnai" "$tmp/store/.cnai" "$ref" "$cur" "$tmp/report.json" <<-'EOP'
import resource, subprocess, sys, time
cnai, store, ref, cur, out = sys.argv[1:]
t = time.perf_counter()
with open(cur, 'rb') as f:
    r = subprocess.run([cnai, '--store', store, 'drift', ref, '-', '--format', 'json', '-o', out],
                       stdin=f, stdout=subprocess.DEVNULL)
dt = time.perf_counter() - t
if r.returncode not in (0, 1):
    sys.exit('cnai drift failed: %d' % r.returncode)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print('%.3f %.1f %.3f' % (dt, u.ru_maxrss / 1024, u.ru_utime + u.ru_stime))
EOP
)
$PY - "$tmp/report.json" <<-'EOP'
import json, sys
r = json.load(open(sys.argv[1]))
for c in r['columns']:
    print('  %-6s %-13s score %-12.6g sketch %-5s rank error bound %.2e' % (
        c['name'], c['method'], c['score'], c['sketch'], c['rank_error_bound']))
EOP
printf 'wall %.1f s, CPU %.1f s, peak RSS %.1f MiB (goal <= 256 MB), %.0f MB/s of CSV (%.0f MB per CPU second)\n' \
	"$secs" "$cpu" "$rss" "$(echo "$mb / $secs" | bc -l)" "$(echo "$mb / $cpu" | bc -l)"
if awk -v m="$rss" 'BEGIN { exit !(m * 1.048576 <= 256) }'; then
	echo "drift-50m: PASS (peak RSS <= 256 MB)"
else
	echo "drift-50m: FAIL (goal: peak RSS <= 256 MB)"
	[ "${STRICT:-0}" = 1 ] && exit 1
fi
exit 0
