#!/usr/bin/env bats
# The 60-second soak the serve issue asks for, in `make test`: wrk on
# loopback against `cnai serve` (1-row infer requests, 2 threads, 64
# connections) after a 5 s warm-up. What is asserted is correctness and
# memory, never speed: no error responses or socket errors, no status but
# 200 in /metrics, and resident memory growing by at most 5 MB over the
# soak (a leak of a few bytes a request shows over a minute of requests).
# scripts/bench/serve-soak.sh does the work; its figures are printed.
load lib

@test "a 60-second wrk soak: no errors, only 200s, RSS growth at most 5 MB" {
	run env STRICT=1 CNAI="$CNAI_BIN" DURATION=60 "$CNAI_ROOT/scripts/bench/serve-soak.sh"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ ${lines[-1]} == "serve-soak: "*" requests, no error responses, RSS growth "*" kB (goal <= 5 MB): PASS" ]]
}
