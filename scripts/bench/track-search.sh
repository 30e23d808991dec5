#!/usr/bin/env bash
# track-search: `cnai track ls --filter ... --limit 100` on a store of RUNS
# runs x 10 params x 10 metrics, whole-process time (median) for a common
# filter and a rare one, and peak RSS, against the same store at SMALL runs
# (memory must stay flat in the number of runs). The peer, in the same
# run: the sqlite3 shell answering the same question with the naive SQL
# (one EXISTS subquery per term), whole-process time too.
#
#   scripts/bench/track-search.sh
#   RUNS=1000000 REPEAT=11 scripts/bench/track-search.sh
#
# Environment: RUNS (100000), SMALL (10000), REPEAT runs per query, the
# median is reported (21), CNAI the binary (build/cnai, built with `make`
# if missing), TMPDIR where the stores go (keep it on a real disk, not
# tmpfs), GOAL in ms (30), STRICT=1 to exit 1 when the goal is missed.
#
# The stores are made by `cnai init` and filled directly by the sqlite3
# shell (runs with 32-hex uuids, an experiment, status and times; params;
# latest_metrics and one history point per metric), which takes seconds
# where a million `track log` calls would take an hour. Params pN take
# values v0..v9 and metrics mN are uniform in [0, 1), so the common filter
# matches about 5% of the runs and the rare one about 0.1%.
set -euo pipefail

RUNS=${RUNS:-100000}
SMALL=${SMALL:-10000}
REPEAT=${REPEAT:-21}
GOAL=${GOAL:-30}
COMMON="metrics.m3 > 0.5 AND params.p1 = 'v3'"
RARE="metrics.m3 > 0.999"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cnai=${CNAI:-$root/build/cnai}

die() { echo "track-search: $*" >&2; exit 2; }
command -v sqlite3 >/dev/null || die "needs the sqlite3 shell"
[ -x /usr/bin/time ] || die "needs /usr/bin/time (Debian package 'time')"
[ -x "$cnai" ] || make -C "$root" >/dev/null || die "cannot build $cnai"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cnai-bench-search.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

median() { sort -n | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] }'; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
echo "track-search: stores of $RUNS and $SMALL runs x 10 params x 10 metrics; median of $REPEAT"
echo "machine: $(nproc) x $cpu; $("$cnai" --version | head -1); sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"

# make_store DIR N: a cnai store holding N runs.
make_store() {
	mkdir "$1"
	"$cnai" init "$1" >/dev/null
	sqlite3 "$1/.cnai/cnai.db" >/dev/null <<-EOF
		PRAGMA synchronous = OFF;
		PRAGMA cache_size = -200000;
		BEGIN;
		INSERT OR IGNORE INTO experiments(name, created)
		  VALUES ('Default', 1700000000000);
		INSERT INTO runs(id, uuid, experiment, name, status, start_time,
		                 end_time, exit_code)
		  SELECT value, lower(hex(randomblob(16))),
		         (SELECT id FROM experiments WHERE name = 'Default'),
		         'run-' || value, 'FINISHED', 1700000000000 + value * 1000,
		         1700000000000 + value * 1000 + 500, 0
		  FROM generate_series(1, $2);
		INSERT INTO params(run, key, value)
		  SELECT r.value, 'p' || k.value, 'v' || (abs(random()) % 10)
		  FROM generate_series(1, $2) r, generate_series(0, 9) k;
		INSERT INTO latest_metrics(run, key, value, step, timestamp)
		  SELECT r.value, 'm' || k.value,
		         (abs(random()) % 1000000) / 1000000.0, 0,
		         1700000000000 + r.value * 1000 + 400
		  FROM generate_series(1, $2) r, generate_series(0, 9) k;
		INSERT INTO metrics(run, key, value, step, timestamp)
		  SELECT run, key, value, step, timestamp FROM latest_metrics;
		COMMIT;
		PRAGMA wal_checkpoint(TRUNCATE);
	EOF
	[ "$(sqlite3 "$1/.cnai/cnai.db" 'SELECT count(*) FROM runs')" = "$2" ] ||
		die "store $1 does not hold $2 runs"
}

# The peer's SQL for a filter: each term an EXISTS subquery, as one would
# write it by hand; same columns, order and limit as `track ls`.
naive_sql() {
	local where
	case $1 in
	common) where="EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run = r.id AND m.key = 'm3' AND m.value > 0.5) AND EXISTS (SELECT 1 FROM params p WHERE p.run = r.id AND p.key = 'p1' AND p.value = 'v3')" ;;
	rare) where="EXISTS (SELECT 1 FROM latest_metrics m WHERE m.run = r.id AND m.key = 'm3' AND m.value > 0.999)" ;;
	esac
	echo "SELECT r.uuid, r.name, e.name, r.status, r.start_time, r.end_time FROM runs r JOIN experiments e ON e.id = r.experiment WHERE $where ORDER BY r.start_time DESC, r.id DESC LIMIT 100"
}

filter_of() { if [ "$1" = common ]; then echo "$COMMON"; else echo "$RARE"; fi; }

# time_median CMD...: median wall time of REPEAT runs, in ms.
time_median() {
	local i t0 t1
	for ((i = 0; i < REPEAT; i++)); do
		t0=${EPOCHREALTIME/./}
		"$@" >/dev/null
		t1=${EPOCHREALTIME/./}
		echo $((t1 - t0))
	done | awk '{ print $1 / 1000 }' | median
}

# peak_rss CMD...: the largest max-RSS of 3 runs, in KiB.
peak_rss() {
	local i
	for i in 1 2 3; do
		/usr/bin/time -f %M -o rss "$@" >/dev/null
		cat rss
	done | sort -n | tail -1
}

t0=${EPOCHREALTIME/./}
make_store big "$RUNS"
make_store small "$SMALL"
t1=${EPOCHREALTIME/./}
echo "  stores generated in $(((t1 - t0) / 1000000)) s"

declare -A res
for size in big small; do
	db=$size/.cnai/cnai.db
	for q in common rare; do
		f=$(filter_of $q)
		sql=$(naive_sql $q)
		# The two must agree before either is timed.
		ours=$("$cnai" --store $size/.cnai track ls --filter "$f" --limit 100 --json |
			grep -o '"run_id": *"[0-9a-f]*"' | grep -o '[0-9a-f]\{32\}' || true)
		theirs=$(sqlite3 -readonly "$db" "$sql" | cut -d'|' -f1)
		[ "$ours" = "$theirs" ] || die "$size/$q: cnai and sqlite3 list different runs"
		cat $size/.cnai/cnai.db* >/dev/null # warm the page cache
		res[$size.$q.cnai]=$(time_median "$cnai" --store $size/.cnai track ls --filter "$f" --limit 100)
		res[$size.$q.peer]=$(time_median sqlite3 -readonly "$db" "$sql")
		res[$size.$q.rss]=$(peak_rss "$cnai" --store $size/.cnai track ls --filter "$f" --limit 100)
		res[$size.$q.n]=$(echo "$ours" | wc -l)
	done
done

printf '  %-8s %-7s %-40s %10s %12s %7s %10s\n' runs query filter "cnai ms" "sqlite3 ms" ratio "cnai RSS"
for size in big small; do
	n=$RUNS
	[ $size = big ] || n=$SMALL
	for q in common rare; do
		awk -v n="$n" -v q="$q" -v f="$(filter_of $q)" -v c="${res[$size.$q.cnai]}" \
			-v p="${res[$size.$q.peer]}" -v r="${res[$size.$q.rss]}" 'BEGIN {
			printf "  %-8d %-7s %-40s %10.2f %12.2f %7.2f %7.1f MiB\n", n, q, f, c, p, c / p, r / 1024 }'
	done
done

worst=$(printf '%s\n' "${res[big.common.cnai]}" "${res[big.rare.cnai]}" | sort -n | tail -1)
rss_big=$(printf '%s\n' "${res[big.common.rss]}" "${res[big.rare.rss]}" | sort -n | tail -1)
rss_small=$(printf '%s\n' "${res[small.common.rss]}" "${res[small.rare.rss]}" | sort -n | tail -1)
# Flat: the big store may cost at most 25% (and 1 MiB) more than the small.
verdict=$(awk -v w="$worst" -v g="$GOAL" -v b="$rss_big" -v s="$rss_small" \
	'BEGIN { print (w <= g && b <= s * 1.25 + 1024) ? "PASS" : "FAIL" }')
awk -v n="$RUNS" -v m="$SMALL" -v c="${res[big.common.cnai]}" -v r="${res[big.rare.cnai]}" \
	-v pc="${res[big.common.peer]}" -v pr="${res[big.rare.peer]}" \
	-v b="$rss_big" -v s="$rss_small" -v g="$GOAL" -v v="$verdict" 'BEGIN {
	printf "track-search: %d runs: cnai %.1f ms common, %.1f ms rare; naive sqlite3 %.1f / %.1f ms (ratio %.2f / %.2f); peak RSS %.1f MiB vs %.1f MiB at %d runs (goal <= %g ms, flat memory): %s\n",
		n, c, r, pc, pr, c / pc, r / pr, b / 1024, s / 1024, m, g, v }'
[ "$verdict" = PASS ] || [ "${STRICT:-0}" != 1 ] || exit 1
