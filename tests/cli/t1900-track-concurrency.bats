#!/usr/bin/env bats
# cnai track with many processes writing one store at the same time: no
# call fails ("database is locked" or otherwise) and no row is lost.
load lib

# make test runs a quick size that still has 8 writers contending for the
# store all the time; make stress (CNAI_STRESS=1) the full one.
if [ -n "${CNAI_STRESS:-}" ]; then
	CALLS=2000 RUNS=25
else
	CALLS=300 RUNS=8
fi

# log_many RUN KEY OUT: $CALLS separate `cnai track log` calls, one metric
# each (KEY=i@i); a failing call appends "i status" to OUT, stderr to
# OUT.err.
log_many() {
	local run=$1 key=$2 out=$3 i
	: >"$out"
	: >"$out.err"
	for ((i = 0; i < CALLS; i++)); do
		"$CNAI_BIN" track log --run "$run" --metric "$key=$i@$i" \
			2>>"$out.err" || echo "$i $?" >>"$out"
	done
}

q() { sqlite3 .cnai/cnai.db "$1"; }

# These tests run for tens of seconds: they use a copy of the binary, so
# that a rebuild of build/cnai meanwhile cannot fail a call.
setup() {
	setup_common
	cp "$CNAI_BIN" "$TEST_DIR/cnai-under-test"
	CNAI_BIN=$TEST_DIR/cnai-under-test
}

@test "8 processes logging metrics, one call per metric, lose nothing" {
	cnai init >/dev/null
	shared=$(cnai track start --name shared)
	for p in 5 6 7 8; do
		own[$p]=$(cnai track start --name "own$p")
	done
	pids=()
	# four processes on one run (a key each), four on their own runs
	for p in 1 2 3 4; do
		log_many "$shared" "m$p" "fail.$p" 3>&- &
		pids+=($!)
	done
	for p in 5 6 7 8; do
		log_many "${own[$p]}" m "fail.$p" 3>&- &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid"
	done

	# every call exited 0 and said nothing
	for p in 1 2 3 4 5 6 7 8; do
		if [ -s "fail.$p" ] || [ -s "fail.$p.err" ]; then
			head -5 "fail.$p" "fail.$p.err" >&2
			return 1
		fi
	done
	assert_equal "$(q 'SELECT count(*) FROM metrics')" $((8 * CALLS))
	assert_equal "$(q "SELECT count(*) FROM metrics m JOIN runs r ON r.id = m.run WHERE r.name = 'shared'")" $((4 * CALLS))
	# each (run, key) has every step exactly once
	assert_equal "$(q 'SELECT count(*), min(n), max(n), min(d) FROM (SELECT count(*) n, count(DISTINCT step) d FROM metrics GROUP BY run, key)')" "8|$CALLS|$CALLS|$CALLS"
	# the latest value of each series is its last point
	assert_equal "$(q 'SELECT count(*), min(step), max(step), min(value), max(value) FROM latest_metrics')" "8|$((CALLS - 1))|$((CALLS - 1))|$((CALLS - 1)).0|$((CALLS - 1)).0"
	assert_equal "$(q 'PRAGMA integrity_check')" ok
}

@test "4 processes creating runs with cnai track run at the same time" {
	cnai init >/dev/null
	pids=()
	for p in 1 2 3 4; do
		(
			for ((i = 0; i < RUNS; i++)); do
				"$CNAI_BIN" track run --name "c$p" -- \
					"$CNAI_BIN" track log --metric "done=$i" \
					>/dev/null 2>>"err.$p" ||
					echo "$i $?" >>"fail.$p"
			done
		) 3>&- &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid"
	done
	# every call exited 0; stderr holds only the runs' start and end lines
	for p in 1 2 3 4; do
		grep -Ev '^cnai: run [0-9a-f]{32} (started|FINISHED \(exit 0\))$' \
			"err.$p" >"other.$p" || true
		if [ -s "fail.$p" ] || [ -s "other.$p" ]; then
			cat "fail.$p" "other.$p" 2>/dev/null | head -5 >&2
			return 1
		fi
	done
	assert_equal "$(q "SELECT count(*), count(DISTINCT uuid) FROM runs")" "$((4 * RUNS))|$((4 * RUNS))"
	assert_equal "$(q "SELECT name, count(*) FROM runs GROUP BY name ORDER BY name")" \
		"$(printf 'c1|%d\nc2|%d\nc3|%d\nc4|%d' $RUNS $RUNS $RUNS $RUNS)"
	assert_equal "$(q "SELECT status, exit_code, count(*) FROM runs GROUP BY 1, 2")" "FINISHED|0|$((4 * RUNS))"
	# each run's child logged to its own run
	assert_equal "$(q "SELECT count(DISTINCT run), count(*) FROM metrics WHERE key = 'done'")" "$((4 * RUNS))|$((4 * RUNS))"
	assert_equal "$(q "SELECT count(*) FROM entities WHERE kind = 'run'")" $((4 * RUNS))
	assert_equal "$(q 'PRAGMA integrity_check')" ok
	run cnai fsck
	[ "$status" -eq 0 ]
}
