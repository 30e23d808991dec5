#!/usr/bin/env bash
# track-ingest: N metric points through `cnai track log --batch FILE`,
# against the raw limit: the sqlite3 shell importing the same rows
# (`.import --csv`) into an equivalent indexed table in one transaction.
# Both sides run in the same invocation, on the same disk, from inputs
# read once beforehand so that they come from the page cache.
#
#   scripts/bench/track-ingest.sh
#   N=200000 REPEAT=5 scripts/bench/track-ingest.sh
#
# Environment: N points (1000000), KEYS distinct metric names (10), REPEAT
# runs of each side, the median is reported (3), CNAI the binary
# (build/cnai, built with `make` if missing), TMPDIR where the stores go
# (keep it on a real disk, not tmpfs), GOAL the ratio to pass (0.5),
# STRICT=1 to exit 1 when the goal is missed.
#
# The raw table is created from the `metrics` DDL of a store made by this
# very cnai (sqlite_master), so it has the same columns and the same index.
# Both databases are in WAL mode with synchronous=NORMAL, as cnai's store
# is; both end with a checkpoint (cnai after its commit, the shell when it
# closes), so both timings include writing the pages to the database file.
set -euo pipefail

N=${N:-1000000}
KEYS=${KEYS:-10}
REPEAT=${REPEAT:-3}
GOAL=${GOAL:-0.5}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cnai=${CNAI:-$root/build/cnai}

die() { echo "track-ingest: $*" >&2; exit 2; }
command -v sqlite3 >/dev/null || die "needs the sqlite3 shell"
[ -x "$cnai" ] || make -C "$root" >/dev/null || die "cannot build $cnai"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cnai-bench-ingest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

# Milliseconds since the epoch, without a fork (bash 5).
now_ms() { echo "${EPOCHREALTIME/./}" | awk '{ printf "%.3f", $1 / 1000 }'; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
warm() { cat "$@" >/dev/null; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo "track-ingest: $N points, $KEYS metric names, median of $REPEAT"
echo "machine: $(nproc) x $cpu; $("$cnai" --version | head -1); sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"

# The same points twice: JSON lines for cnai, CSV rows (run, key, value,
# step, timestamp) for the shell. Values are printed once and reused, so
# both sides parse the same decimal strings.
awk -v n="$N" -v k="$KEYS" 'BEGIN {
	srand(42)
	for (i = 0; i < n; i++) {
		v = sprintf("%.9g", rand())
		key = "m" (i % k); step = int(i / k)
		printf "{\"metric\":\"%s\",\"value\":%s,\"step\":%d}\n", key, v, step > "points.jsonl"
		printf "1,%s,%s,%d,1700000000000\n", key, v, step > "points.csv"
	}
}'

mkdir schema && "$cnai" init schema >/dev/null
ddl=$(sqlite3 schema/.cnai/cnai.db \
	"SELECT sql || ';' FROM sqlite_master WHERE tbl_name = 'metrics' AND sql IS NOT NULL ORDER BY type DESC")
[ -n "$ddl" ] || die "no metrics table in a new store"

run_raw() {
	rm -f raw.db raw.db-wal raw.db-shm
	sqlite3 raw.db "PRAGMA journal_mode = WAL; $ddl" >/dev/null
	warm points.csv
	local t0 t1
	t0=$(now_ms)
	sqlite3 raw.db >/dev/null <<-EOF
		PRAGMA synchronous = NORMAL;
		BEGIN;
		.import --csv points.csv metrics
		COMMIT;
	EOF
	t1=$(now_ms)
	[ "$(sqlite3 raw.db 'SELECT count(*) FROM metrics')" = "$N" ] ||
		die "raw import stored the wrong number of rows"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1000 }'
}

run_cnai() {
	rm -rf store && mkdir store
	"$cnai" init store >/dev/null
	local run t0 t1
	run=$("$cnai" --store store/.cnai track start --name ingest)
	warm points.jsonl "$cnai"
	t0=$(now_ms)
	"$cnai" --store store/.cnai track log --run "$run" --batch points.jsonl >/dev/null
	t1=$(now_ms)
	[ "$(sqlite3 store/.cnai/cnai.db 'SELECT count(*) FROM metrics')" = "$N" ] ||
		die "cnai stored the wrong number of rows"
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) / 1000 }'
}

: >raw.times
: >cnai.times
for ((r = 1; r <= REPEAT; r++)); do
	# Alternate which side goes first, so neither always meets a
	# freshly busy disk.
	if ((r % 2)); then
		traw=$(run_raw)
		tcnai=$(run_cnai)
	else
		tcnai=$(run_cnai)
		traw=$(run_raw)
	fi
	echo "$traw" >>raw.times
	echo "$tcnai" >>cnai.times
	awk -v n="$N" -v r="$r" -v a="$traw" -v c="$tcnai" 'BEGIN {
		printf "  run %d: sqlite3 .import %.2f s (%.0f rows/s)   cnai --batch %.2f s (%.0f rows/s)\n",
			r, a, n / a, c, n / c }'
done

traw=$(median <raw.times)
tcnai=$(median <cnai.times)
verdict=$(awk -v a="$traw" -v c="$tcnai" -v g="$GOAL" \
	'BEGIN { print (a / c >= g) ? "PASS" : "FAIL" }')
awk -v n="$N" -v a="$traw" -v c="$tcnai" -v g="$GOAL" -v v="$verdict" 'BEGIN {
	printf "track-ingest: cnai %.0f rows/s, raw sqlite3 %.0f rows/s, ratio %.2f (goal >= %.2f): %s\n",
		n / c, n / a, a / c, g, v }'
[ "$verdict" = PASS ] || [ "${STRICT:-0}" != 1 ] || exit 1
