#!/usr/bin/env bats
# cnai drift past --exact-limit: the quantile sketch stays within the
# error bound it reports, low-cardinality columns stay exact, and what the
# sketch cannot do is refused with the limit named.
load lib

setup() {
	setup_common
	cnai init >/dev/null
}

# $1 rows: x (normal + $2), k (ints 0..9 + shift), seed $3.
gen() {
	awk -v n="$1" -v shift="$2" -v seed="$3" 'BEGIN {
		srand(seed); print "x,k"
		for (i = 0; i < n; i++) {
			u = rand(); if (u < 1e-12) u = 1e-12
			x = sqrt(-2 * log(u)) * cos(6.283185307179586 * rand())
			printf "%.7f,%d\n", x + shift, int(rand() * 10 + shift)
		}
	}'
}

# Fails unless |$1 - $2| <= $3.
within() { awk -v a="$1" -v b="$2" -v e="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= e) }' ||
	{ echo "|$1 - $2| > $3"; false; }; }

@test "the sketch's KS statistic and Wasserstein distance are within its bound" {
	gen 60000 0.05 1 >ref.csv
	gen 50000 0 2 >cur.csv
	exact=$(cnai drift ref.csv cur.csv --json --method ks)
	for limit in 20000 4000 500; do
		sk=$(cnai drift ref.csv cur.csv --json --method ks --exact-limit "$limit")
		assert_equal "$(jq -r '.columns[0].sketch' <<<"$sk")" "true"
		bound=$(jq -r '.columns[0].rank_error_bound' <<<"$sk")
		awk -v b="$bound" 'BEGIN { exit !(b > 0 && b < 0.2) }'
		within "$(jq -r '.columns[0].statistic' <<<"$sk")" "$(jq -r '.columns[0].statistic' <<<"$exact")" "$bound"
	done
	exact=$(cnai drift ref.csv cur.csv --json --column-method x=wasserstein)
	sk=$(cnai drift ref.csv cur.csv --json --column-method x=wasserstein --exact-limit 2000)
	bound=$(jq -r '.columns[0].rank_error_bound' <<<"$sk")
	range=$(jq -r '.columns[0].chart.bars | (.[-1].hi - .[0].lo)' <<<"$exact")
	within "$(jq -r '.columns[0].statistic' <<<"$sk")" "$(jq -r '.columns[0].statistic' <<<"$exact")" \
		"$(awk -v b="$bound" -v r="$range" 'BEGIN { print b * r }')"
	# mean and standard deviation are exact on either path
	assert_equal "$(jq -c '.columns[0].reference | [.mean, .std] | map(. * 1e9 | round)' <<<"$sk")" \
		"$(jq -c '.columns[0].reference | [.mean, .std] | map(. * 1e9 | round)' <<<"$exact")"
}

@test "a column with at most 64 distinct values keeps exact counts past the limit" {
	gen 30000 0 1 >ref.csv
	gen 30000 1 2 >cur.csv
	exact=$(cnai drift ref.csv cur.csv --json --columns k --numerical k)
	sk=$(cnai drift ref.csv cur.csv --json --columns k --numerical k --exact-limit 100)
	assert_equal "$(jq -c '.columns[0] | del(.sketch, .rank_error_bound)' <<<"$sk")" \
		"$(jq -c '.columns[0] | del(.sketch, .rank_error_bound)' <<<"$exact")"
	assert_equal "$(jq -r '.columns[0] | "\(.sketch) \(.rank_error_bound)"' <<<"$sk")" "false 0"
}

@test "verdicts on the sketch path match the exact path on a clear shift" {
	gen 40000 0 1 >ref.csv
	gen 40000 0.5 2 >cur.csv
	a=$(cnai drift ref.csv cur.csv --json | jq -c '[.columns[] | [.name, .method, .drifted]]')
	b=$(cnai drift ref.csv cur.csv --json --exact-limit 1000 | jq -c '[.columns[] | [.name, .method, .drifted]]')
	assert_equal "$b" "$a"
}

@test "what the sketch cannot do is refused, naming the limit" {
	gen 3000 0 1 >ref.csv
	gen 3000 0 2 >cur.csv
	before=$(store_state)
	run --separate-stderr cnai drift ref.csv cur.csv --method anderson --exact-limit 100
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: column 'x': 'anderson' needs every value, and the column has more than --exact-limit (100); raise --exact-limit"
	{ cat cur.csv; echo "text,1"; } >cur-text.csv
	run --separate-stderr cnai drift ref.csv cur-text.csv --exact-limit 100
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: cur-text.csv:3002: column 'x': 'text' is not a number, after more numbers than --exact-limit keeps (declare it --categorical, or raise --exact-limit)"
	assert_equal "$(store_state)" "$before"
}

@test "--max-categories keeps the most frequent categories and counts the rest as (other)" {
	awk 'BEGIN { print "id"; for (i = 0; i < 3000; i++) print "c" (i % 40 < 30 ? i % 40 : i % 400) }' >ref.csv
	cp ref.csv cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv --json --max-categories 30
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '.columns[0] | "\(.n_unique) \(.method) \(.drifted)"' <<<"$output")" "130 jensenshannon false"
	assert_equal "$(jq -r '.columns[0].chart.bars[0] | "\(.label) \(.reference)"' <<<"$output")" "(other) 0.25"
	assert_equal "$(jq -r '.columns[0].chart.bars | length' <<<"$output")" "21"
}
