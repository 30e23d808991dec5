#!/usr/bin/env bash
# track-latency: CALLS sequential single-metric `cnai track log --metric`
# calls, the median per call, beside /bin/true (the cost of starting any
# process), a bare `sqlite3 DB "INSERT ..."` call (the shell's defaults,
# into a WAL database with the same metrics table) and `cnai --version`
# (our start-up without the store), all in the same run, interleaved call
# by call so that every column sees the same machine load.
#
#   scripts/bench/track-latency.sh
#   CALLS=1000 scripts/bench/track-latency.sh
#
# Environment: CALLS (200), CNAI the binary (build/cnai, built with `make`
# if missing), TMPDIR where the stores go (keep it on a real disk, not
# tmpfs), GOAL in ms (5), STRICT=1 to exit 1 when the goal is missed.
#
# The first and last quarter's medians are printed too: a store whose
# write-ahead log grows with every call gets slower call after call, and
# a median over a fresh store alone would hide it.
set -euo pipefail

CALLS=${CALLS:-200}
GOAL=${GOAL:-5}
WARMUP=5
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cnai=${CNAI:-$root/build/cnai}

die() { echo "track-latency: $*" >&2; exit 2; }
command -v sqlite3 >/dev/null || die "needs the sqlite3 shell"
[ -x "$cnai" ] || make -C "$root" >/dev/null || die "cannot build $cnai"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cnai-bench-latency.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] }'; }
pct() { sort -n | awk -v p="$1" '{ a[NR] = $1 } END { i = int(NR * p / 100 + 0.5); if (i < 1) i = 1; printf "%.2f", a[i] }'; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo "track-latency: $CALLS calls of each, interleaved, after $WARMUP warm-up calls"
echo "machine: $(nproc) x $cpu; $("$cnai" --version | head -1); sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"

mkdir store
"$cnai" init store >/dev/null
export CNAI_STORE=$tmp/store/.cnai
CNAI_RUN_ID=$("$cnai" track start --name latency)
export CNAI_RUN_ID
ddl=$(sqlite3 store/.cnai/cnai.db \
	"SELECT sql || ';' FROM sqlite_master WHERE tbl_name = 'metrics' AND sql IS NOT NULL ORDER BY type DESC")
sqlite3 raw.db "PRAGMA journal_mode = WAL; $ddl" >/dev/null

# One row per call: true, sqlite3, cnai --version, cnai track log (ms).
# The clock is read by parameter expansion (microseconds, no fork), so it
# brackets only the command.
for ((i = 1 - WARMUP; i <= CALLS; i++)); do
	t0=${EPOCHREALTIME/./}
	/bin/true
	t1=${EPOCHREALTIME/./}
	sqlite3 raw.db "INSERT INTO metrics(run, key, value, step, timestamp) VALUES (1, 'loss', 0.5, $i, 1700000000000)"
	t2=${EPOCHREALTIME/./}
	"$cnai" --version >/dev/null
	t3=${EPOCHREALTIME/./}
	"$cnai" track log --metric "loss=0.5@$i"
	t4=${EPOCHREALTIME/./}
	((i >= 1)) || continue
	echo "$(((t1 - t0))) $(((t2 - t1))) $(((t3 - t2))) $(((t4 - t3)))"
done | awk '{ printf "%.3f %.3f %.3f %.3f\n", $1 / 1000, $2 / 1000, $3 / 1000, $4 / 1000 }' >times

# Before any sqlite3 shell opens the store: closing it would checkpoint
# and remove the WAL.
wal=$(stat -c %s store/.cnai/cnai.db-wal 2>/dev/null || echo 0)
rows=$(sqlite3 store/.cnai/cnai.db "SELECT count(*) FROM metrics")
[ "$rows" -eq $((CALLS + WARMUP)) ] || die "cnai stored $rows points, expected $((CALLS + WARMUP))"

col() { awk -v c="$1" '{ print $c }' times; }
q=$((CALLS / 4))
m_true=$(col 1 | median)
m_sql=$(col 2 | median)
m_ver=$(col 3 | median)
m_log=$(col 4 | median)
p90_log=$(col 4 | pct 90)
first=$(col 4 | head -n "$q" | median)
last=$(col 4 | tail -n "$q" | median)

printf '  %-34s %8s\n' "per call (ms)" median
printf '  %-34s %8s\n' "/bin/true" "$m_true" \
	"sqlite3 DB \"INSERT ...\"" "$m_sql" \
	"cnai --version (start-up only)" "$m_ver" \
	"cnai track log --metric" "$m_log"
echo "  cnai track log: p90 $p90_log ms; first $q calls $first ms, last $q calls $last ms; WAL $((wal / 1024)) KiB at the end"

verdict=$(awk -v m="$m_log" -v g="$GOAL" 'BEGIN { print (m <= g) ? "PASS" : "FAIL" }')
awk -v m="$m_log" -v s="$m_sql" -v t="$m_true" -v g="$GOAL" -v v="$verdict" 'BEGIN {
	printf "track-latency: cnai track log %.2f ms per call, bare sqlite3 insert %.2f ms (ratio %.2f), /bin/true %.2f ms (goal <= %g ms): %s\n",
		m, s, m / s, t, g, v }'
[ "$verdict" = PASS ] || [ "${STRICT:-0}" != 1 ] || exit 1
