#!/usr/bin/env bats
# cnai drift: bad input and bad options: one error line naming the file,
# line or column, exit 2, and nothing written to the store.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	printf 'x,color\n1,a\n2,b\n3,a\n' >ref.csv
	printf 'x,color\n1,a\n2,b\n4,b\n' >cur.csv
	before=$(store_state)
}

# Runs cnai drift "$@" and checks: exit 2, stderr exactly $EXPECT, nothing
# on stdout, the store unchanged.
fails_with() {
	run --separate-stderr cnai drift "$@"
	[ "$status" -eq 2 ] || { echo "status $status: $stderr"; false; }
	assert_equal "$stderr" "cnai: error: $EXPECT"
	assert_equal "$output" ""
	assert_equal "$(store_state)" "$before"
}

@test "an empty file is refused" {
	: >empty.csv
	EXPECT="empty.csv: empty file, expected a header line" fails_with ref.csv empty.csv
}

@test "a header without rows is refused" {
	printf 'x,color\n' >header.csv
	EXPECT="header.csv: no data rows after the header" fails_with header.csv cur.csv
}

@test "a column missing from one file is an error naming it" {
	printf 'x\n1\n2\n' >only-x.csv
	EXPECT="column 'color' is in ref.csv but not in only-x.csv" fails_with ref.csv only-x.csv
	EXPECT="column 'color' is in cur.csv but not in only-x.csv" fails_with only-x.csv cur.csv
}

@test "a cell that is not a number in a numerical column names file and line" {
	printf 'x,color\n1,a\n2,b\n\n3x,a\n' >bad.csv
	EXPECT="bad.csv:5: column 'x': '3x' is not a number (the column is numerical in ref.csv; --categorical x compares it as categories)" \
		fails_with ref.csv bad.csv
	EXPECT="ref.csv:2: column 'color': 'a' is not a number" fails_with ref.csv cur.csv --numerical color
}

@test "--categorical accepts numbers on one side and text on the other" {
	printf 'x,color\n1,a\n2,b\nthree,a\n' >text.csv
	run --separate-stderr cnai drift ref.csv text.csv --categorical x --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '.columns[0] | "\(.type) \(.n_unique)"' <<<"$output")" "categorical 4"
}

@test "a row with another number of fields names its line" {
	printf 'x,color\n1,a\n2\n' >short.csv
	EXPECT="short.csv:3: expected 2 fields, found 1" fails_with ref.csv short.csv
}

@test "an unterminated quote names its line" {
	printf 'x,color\n1,a\n2,"b\n' >quote.csv
	EXPECT="quote.csv:3: unterminated quoted field" fails_with quote.csv cur.csv
}

@test "a record over the 64 MiB limit is refused with the limit named" {
	{ printf 'x,color\n1,a\n2,'; head -c 100000000 /dev/zero | tr '\0' 'a'; printf '\n'; } >huge.csv
	EXPECT="huge.csv:3: record longer than the limit of 67108864 bytes" fails_with ref.csv huge.csv
}

@test "a file that does not exist" {
	EXPECT="cannot read 'nowhere.csv': No such file or directory" fails_with ref.csv nowhere.csv
}

@test "stdin on both sides is refused" {
	EXPECT="only one side can be read from stdin ('-')" fails_with - - </dev/null
}

@test "unknown methods, formats and columns are usage errors" {
	EXPECT="unknown drift method 'kss' (auto, ks, chisquare, chi2, z, psi, jensenshannon, wasserstein, kl_div, hellinger, anderson, cramer_von_mises, ed)" \
		fails_with ref.csv cur.csv --method kss
	EXPECT="--format: unknown format 'xml' (text, json, html, prometheus)" fails_with ref.csv cur.csv --format xml
	EXPECT="--columns: no column 'y' in ref.csv or cur.csv" fails_with ref.csv cur.csv --columns x,y
	EXPECT="--column-method: expected <column>=<method>, got 'x'" fails_with ref.csv cur.csv --column-method x
	EXPECT="--column-method color=ks: 'ks' needs a numerical column; 'color' is categorical" \
		fails_with ref.csv cur.csv --column-method color=ks
	EXPECT="--drift-share: must be between 0 and 1" fails_with ref.csv cur.csv --drift-share 1.5
	EXPECT="--threshold: 'abc' is not a non-negative number" fails_with ref.csv cur.csv --threshold abc
	EXPECT="two files needed; usage: cnai drift <reference> <current> [<options>]" fails_with ref.csv
}

@test "the Z-test refuses a column with more than two values" {
	EXPECT="column 'x': the Z-test needs at most two distinct values, found 4" fails_with ref.csv cur.csv --column-method x=z
}

@test "10,000 columns are compared" {
	awk 'BEGIN { srand(3); for (r = 0; r < 20; r++) { line = ""
		for (c = 0; c < 10000; c++) line = line (c ? "," : "") (r ? int(rand() * 3) : "c" c)
		print line } }' >wide-ref.csv
	cp wide-ref.csv wide-cur.csv
	run --separate-stderr cnai drift wide-ref.csv wide-cur.csv --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '.columns_evaluated, .columns_drifted' <<<"$output")" "$(printf '10000\n0')"
}

@test "outside a store drift is an error, exit 2" {
	rm -rf .cnai
	run --separate-stderr cnai drift ref.csv cur.csv
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "cnai: error: "
	assert_equal "$output" ""
}
