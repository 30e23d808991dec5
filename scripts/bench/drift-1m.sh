#!/usr/bin/env bash
# drift-1m: `cnai drift` against the pandas + scipy script a Python user
# writes for the same job (drift-peer.py: read both CSV files with pandas,
# then Evidently's default test per column with scipy: normed Wasserstein
# for numerical columns, Jensen-Shannon over category shares, and the data
# set rule). Same data, same run, inputs warmed in the page cache first.
#
#   scripts/bench/drift-1m.sh
#   N=200000 REPEAT=1 scripts/bench/drift-1m.sh
#
# Environment: N rows per file (1000000), NUM numerical (20) and CAT
# categorical (5) columns, REPEAT runs of each side, the median is kept
# (3), CNAI the binary (build/cnai), DATA a folder to keep the generated
# files in between runs (default: a temporary folder, removed), STRICT=1 to
# exit 1 when a goal is missed. Goals (issue 8): >= 10x faster, <= 1/5 of
# the peer's peak memory.
set -euo pipefail

N=${N:-1000000}
NUM=${NUM:-20}
CAT=${CAT:-5}
REPEAT=${REPEAT:-3}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cnai=${CNAI:-$root/build/cnai}
PY=/usr/bin/python3

die() { echo "drift-1m: $*" >&2; exit 2; }
$PY -c 'import pandas, scipy' 2>/dev/null || die "needs python3-pandas and python3-scipy"
[ -x "$cnai" ] || make -C "$root" >/dev/null || die "cannot build $cnai"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cnai-bench-drift.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
data=${DATA:-$tmp}
mkdir -p "$data"

# Wall seconds, peak RSS (MiB) and CPU seconds (user + system) of a
# command: "SECONDS MIB CPU". CPU time says more than wall time on a busy
# machine.
measure() {
	$PY - "$@" <<-'EOP'
	import resource, subprocess, sys, time
	t = time.perf_counter()
	r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
	dt = time.perf_counter() - t
	if r.returncode not in (0, 1):
	    sys.exit("command failed: %s" % r.returncode)
	u = resource.getrusage(resource.RUSAGE_CHILDREN)
	print("%.3f %.1f %.3f" % (dt, u.ru_maxrss / 1024, u.ru_utime + u.ru_stime))
	EOP
}
median() { sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'; }

ref=$data/ref-$N-$NUM-$CAT.csv
cur=$data/cur-$N-$NUM-$CAT.csv
if [ ! -s "$ref" ] || [ ! -s "$cur" ]; then
	echo "drift-1m: generating $N rows x $((NUM + CAT)) columns, twice" >&2
	"$PY" "$root/scripts/bench/drift-gen.py" "$N" "$NUM" "$CAT" 1 0 >"$ref"
	"$PY" "$root/scripts/bench/drift-gen.py" "$N" "$NUM" "$CAT" 2 1 >"$cur"
fi
mb=$(du -cm "$ref" "$cur" | tail -1 | cut -f1)
cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo "drift-1m: $N rows x $NUM numerical + $CAT categorical columns per file ($mb MB of CSV in all), median of $REPEAT"
echo "machine: $(nproc) x $cpu; $("$cnai" --version | head -1); $($PY -c 'import pandas, scipy; print("pandas", pandas.__version__, "scipy", scipy.__version__)')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
cat "$ref" "$cur" >/dev/null # warm the page cache

store=$tmp/store
mkdir -p "$store" && "$cnai" init "$store" >/dev/null
ours=$(for i in $(seq "$REPEAT"); do
	measure "$cnai" --store "$store/.cnai" drift "$ref" "$cur" --json -o "$tmp/cnai.json"
done | median)
peer=$(for i in $(seq "$REPEAT"); do
	measure "$PY" "$root/scripts/bench/drift-peer.py" "$ref" "$cur" "$tmp/peer.json"
done | median)

# Both say the same: the same columns drifted, scores within 1e-9.
$PY - "$tmp/cnai.json" "$tmp/peer.json" <<-'EOP'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
mine = {c['name']: (c['method'], c['score'], c['drifted']) for c in a['columns']}
bad = [n for n, (m, s, d) in b.items() if mine[n][0] != m or mine[n][2] != d or abs(mine[n][1] - s) > 1e-9 * max(abs(s), 1e-300)]
if bad:
    sys.exit("drift-1m: cnai and the peer disagree on %s" % bad)
print("agreement: same method, verdict and score (1e-9) on all %d columns; %d drifted" % (len(b), sum(d for _, _, d in b.values())))
EOP

read -r ot om oc <<<"$ours"
read -r pt pm pc <<<"$peer"
printf '%-24s %8s %8s %10s %10s\n' "" "wall s" "CPU s" "peak MiB" "MB/s"
printf '%-24s %8.2f %8.2f %10.1f %10.0f\n' "cnai drift" "$ot" "$oc" "$om" "$(echo "$mb / $ot" | bc -l)"
printf '%-24s %8.2f %8.2f %10.1f %10.0f\n' "pandas + scipy (peer)" "$pt" "$pc" "$pm" "$(echo "$mb / $pt" | bc -l)"
speed=$(echo "$pt / $ot" | bc -l)
cpu_ratio=$(echo "$pc / $oc" | bc -l)
mem=$(echo "$om / $pm" | bc -l)
printf 'cnai is %.1fx faster in wall time (goal >= 10x), %.1fx in CPU time, with %.2f of the peer'"'"'s peak memory (goal <= 0.20)\n' "$speed" "$cpu_ratio" "$mem"
if awk -v s="$speed" -v m="$mem" 'BEGIN { exit !(s >= 10 && m <= 0.2) }'; then
	echo "drift-1m: PASS (>= 10x faster, <= 0.20 of the memory)"
else
	echo "drift-1m: FAIL (goal: >= 10x faster and <= 0.20 of the memory)"
	[ "${STRICT:-0}" = 1 ] && exit 1
fi
exit 0
