#!/usr/bin/env bats
# kill -9 in the middle of a large `cnai track log --batch`: the database
# stays intact and each batch is either all there or not there at all.
load lib

# make test kills smaller batches fewer times (still at random moments
# inside the commit); make stress (CNAI_STRESS=1) runs the full size.
if [ -n "${CNAI_STRESS:-}" ]; then
	POINTS=200000 KILLS=20
else
	POINTS=40000 KILLS=8
fi

q() { sqlite3 .cnai/cnai.db "$1"; }

# These tests run for tens of seconds: they use a copy of the binary, so
# that a rebuild of build/cnai meanwhile cannot fail a call.
setup() {
	setup_common
	cp "$CNAI_BIN" "$TEST_DIR/cnai-under-test"
	CNAI_BIN=$TEST_DIR/cnai-under-test
}

# points_of RUN: metric rows logged to the run with that uuid.
points_of() {
	q "SELECT count(*) FROM metrics WHERE run = (SELECT id FROM runs WHERE uuid = '$1')"
}

@test "kill -9 during a large batch, many times: store intact, each batch all or nothing" {
	cnai init >/dev/null
	awk -v n="$POINTS" 'BEGIN { for (i = 0; i < n; i++)
		printf "{\"metric\":\"loss\",\"value\":%d.5,\"step\":%d}\n", i, i }' \
		>batch.jsonl

	# One batch left alone: the reference, and how long a whole one takes.
	full=$(cnai track start --name full)
	t0=$(date +%s%N)
	cnai track log --run "$full" --batch batch.jsonl
	full_ms=$((($(date +%s%N) - t0) / 1000000))
	assert_equal "$(points_of "$full")" "$POINTS"

	RANDOM=1910 # the same kill moments on every run of the test
	present=1 absent=0
	for ((k = 1; k <= KILLS; k++)); do
		# a run per attempt, so each batch is counted on its own
		id=$(cnai track start --name "attempt$k")
		delay=$((RANDOM * (full_ms + 1) / 32768))
		"$CNAI_BIN" track log --run "$id" --batch batch.jsonl \
			>/dev/null 2>&1 3>&- &
		pid=$!
		sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
		kill -9 "$pid" 2>/dev/null || true
		{ wait "$pid" || true; } 2>/dev/null # no "Killed" notice

		assert_equal "$(q 'PRAGMA integrity_check')" ok
		n=$(points_of "$id")
		latest=$(q "SELECT count(*), max(step) FROM latest_metrics WHERE run = (SELECT id FROM runs WHERE uuid = '$id')")
		case "$n" in
		0)
			absent=$((absent + 1))
			assert_equal "$latest" "0|"
			;;
		"$POINTS")
			present=$((present + 1))
			assert_equal "$latest" "1|$((POINTS - 1))"
			;;
		*)
			echo "attempt $k (killed after $delay ms): $n of $POINTS points" >&2
			return 1
			;;
		esac
	done
	echo "# batch ${full_ms} ms; after the kills $absent absent, $((present - 1)) complete" >&3

	# Nothing half-written anywhere, and the store still takes writes.
	assert_equal "$(q 'SELECT count(*) FROM metrics')" $((present * POINTS))
	run cnai track log --run "$full" --metric after=1
	[ "$status" -eq 0 ]
	run cnai fsck
	[ "$status" -eq 0 ]
}
