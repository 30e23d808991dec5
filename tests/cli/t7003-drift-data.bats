#!/usr/bin/env bats
# cnai drift on real data (examples/data/drift): Evidently's verdicts and the
# reference statistics computed for these files (the expected values below).
load lib

setup() {
	setup_common
	cnai init >/dev/null
	D=$DATA/drift
}

# jq over one column of report $1: field expression $3 of column $2.
col() { jq -r --arg c "$2" ".columns[] | select(.name == \$c) | $3" <<<"$1"; }
# Fails unless $1 is within relative $3 of $2.
near() { awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= r * (b < 0 ? -b : b)) }' ||
	{ echo "$1 is not within $3 of $2"; false; }; }

@test "CPS 1992 vs 2004: earnings drifts, the data set does not (Evidently's verdict)" {
	run --separate-stderr cnai drift "$D/cps_1992.csv" "$D/cps_2004.csv" --json
	[ "$status" -eq 0 ]
	r=$output
	assert_equal "$(jq -r '[.columns[] | "\(.name):\(.type):\(.method):\(.drifted)"] | join(" ")' <<<"$r")" \
		"earnings:numerical:wasserstein:true degree:categorical:jensenshannon:false gender:categorical:jensenshannon:false age:categorical:jensenshannon:false"
	assert_equal "$(jq -r '.columns_drifted, .columns_evaluated, .dataset_drift' <<<"$r")" "$(printf '1\n4\nfalse')"
	near "$(col "$r" earnings .statistic)" 5.14 0.001
	near "$(col "$r" earnings .score)" 0.925 0.001
	near "$(col "$r" degree .score)" 0.047 0.01
	run --separate-stderr cnai drift "$D/cps_1992.csv" "$D/cps_2004.csv" --fail-on-drift
	[ "$status" -eq 0 ]
}

@test "CPS 1992 vs 2004: KS and chi-square statistics of the reference" {
	r=$(cnai drift "$D/cps_1992.csv" "$D/cps_2004.csv" --json --column-method earnings=ks --column-method degree=chi2)
	near "$(col "$r" earnings .statistic)" 0.2826 0.001
	assert_equal "$(col "$r" earnings .ks_mode)" "exact"
	p=$(col "$r" earnings .p_value)
	awk -v p="$p" 'BEGIN { exit !(p > 1e-275 && p < 1e-273) }'
	near "$(col "$r" degree .statistic)" 69.8 0.001
	p=$(col "$r" degree .p_value)
	awk -v p="$p" 'BEGIN { exit !(p > 5e-17 && p < 8e-17) }'
}

@test "CPS 1992 random halves: no column drifts under any default test" {
	r=$(cnai drift "$D/cps_1992_half_a.csv" "$D/cps_1992_half_b.csv" --json)
	assert_equal "$(jq -r '.columns_drifted, .dataset_drift' <<<"$r")" "$(printf '0\nfalse')"
	r=$(cnai drift "$D/cps_1992_half_a.csv" "$D/cps_1992_half_b.csv" --json --column-method earnings=ks --method chi2)
	assert_equal "$(jq -r '.columns_drifted' <<<"$r")" "0"
	assert_equal "$(jq -r '[.columns[].p_value >= 0.35] | all' <<<"$r")" "true"
	assert_equal "$(col "$r" degree '"\(.statistic) \(.p_value)"')" "0 1"
	r=$(cnai drift "$D/cps_1992_half_a.csv" "$D/cps_1992_half_b.csv" --json --method psi)
	assert_equal "$(jq -r '.columns_drifted' <<<"$r")" "0"
	assert_equal "$(col "$r" degree .statistic)" "0"
	assert_equal "$(jq -r '[.columns[].statistic <= 0.01] | all' <<<"$r")" "true"
}

@test "generated shifts: mean, variance, a new category, missing values" {
	awk -F, 'NR == 1 { print "earnings,spread,degree,gap"; next }
		{ print $1 "," $1 "," $2 "," $1 }' "$D/cps_1992_half_a.csv" >ref.csv
	awk -F, 'NR == 1 { print "earnings,spread,degree,gap"; next }
		{ m = NR % 3 ? $1 : ""; d = NR % 4 ? $2 : "postgrad"
		  print $1 * 1.5 "," 12 + ($1 - 12) * 2.5 "," d "," m }' "$D/cps_1992_half_b.csv" >cur.csv
	r=$(cnai drift ref.csv cur.csv --json)
	assert_equal "$(jq -r '[.columns[] | "\(.name):\(.drifted)"] | join(" ")' <<<"$r")" \
		"earnings:true spread:true degree:true gap:false"
	assert_equal "$(col "$r" gap '.current.missing > 1200 and .current.missing < 1300')" "true"
	assert_equal "$(col "$r" degree '.chart.bars | map(.label) | join(",")')" "bachelor,highschool,postgrad"
	assert_equal "$(jq -r '.dataset_drift' <<<"$r")" "true"
}
