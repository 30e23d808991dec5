#!/usr/bin/env bats
# The soak the serve issue asks for: wrk on
# loopback against `cnai serve` (1-row infer requests, 2 threads, 64
# connections) after a 5 s warm-up. What is asserted is correctness and
# memory, never speed: no error responses or socket errors, no status but
# 200 in /metrics, and resident memory growing by at most 5 MB over the
# soak (a leak of a few bytes a request shows over hundreds of thousands
# of requests). make test soaks for 15 s, make stress (CNAI_STRESS=1) for
# the full minute. scripts/bench/serve-soak.sh does the work; its figures
# are printed.
load lib

@test "a wrk soak: no errors, only 200s, RSS growth at most 5 MB" {
	local seconds=15
	[ -z "${CNAI_STRESS:-}" ] || seconds=60
	run env STRICT=1 CNAI="$CNAI_BIN" DURATION=$seconds "$CNAI_ROOT/scripts/bench/serve-soak.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ ${lines[-1]} == "serve-soak: "*" requests, no error responses, RSS growth "*" kB (goal <= 5 MB): PASS" ]]
}
