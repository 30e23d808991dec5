#!/usr/bin/env bats
# Wide CSV files: loading is linear in the number of columns (a hash for
# the names), a file past the column limit is refused naming the line, and
# a duplicate column name is still refused, by name, however wide the file.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	BEFORE=$(store_state)
}

# A CSV with columns c1..c$1 and y, and two rows (seq and paste: an awk
# string grown a column at a time is quadratic).
wide_csv() {
	seq -f 'c%g' "$1" | paste -sd, | sed 's/$/,y/'
	seq "$1" | awk '{ print $1 % 7 }' | paste -sd, | sed 's/$/,0/'
	seq "$1" | awk '{ print ($1 + 1) % 7 }' | paste -sd, | sed 's/$/,1/'
}

@test "a file with 99,999 feature columns trains and predicts" {
	wide_csv 99999 >wide.csv
	run --separate-stderr cnai -q train --data wide.csv --target y -o m --epochs 1 --valid-split 0 --hidden 2
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	assert_equal "$(jq '.features | length' m/cnai-model.json)" 99999
	run --separate-stderr cnai -q predict m --data wide.csv
	[ "$status" -eq 0 ]
	assert_equal "${#lines[@]}" 3
}

@test "a header past 100,000 columns is refused, naming the line and the limit" {
	wide_csv 200000 >wider.csv
	run --separate-stderr cnai -q train --data wider.csv --target y -o m
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: wider.csv:1: more than 100000 fields, the limit"
	[ ! -e m ]
	assert_equal "$(store_state)" "$BEFORE"
}

@test "drift refuses a header past the column limit the same way" {
	wide_csv 100000 >wider.csv
	run --separate-stderr cnai drift wider.csv wider.csv
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: wider.csv:1: more than 100000 fields, the limit"
}

@test "a duplicate column name at the end of a wide header is refused by name" {
	wide_csv 50000 | sed -e '1s/,y$/,c49999,y/' -e '2,$s/^/5,/' >dup.csv
	run --separate-stderr cnai -q train --data dup.csv --target y -o m
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: dup.csv:1: column 'c49999' appears twice"
	[ ! -e m ]
	assert_equal "$(store_state)" "$BEFORE"
}
