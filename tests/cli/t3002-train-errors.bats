#!/usr/bin/env bats
# cnai train on bad input: a clear one-line error naming the file, line or
# option, exit 2, and nothing recorded (no run, no model, no dataset).
load lib

setup() {
	setup_common
	cnai init >/dev/null
	IRIS=$DATA/iris.csv
	BEFORE=$(store_state)
}

# Runs cnai train with the arguments; expects exit 2, the exact error, and
# an unchanged store.
fails_with() {
	local msg=$1
	shift
	run --separate-stderr cnai -q train "$@"
	[ "$status" -eq 2 ] || { echo "exit $status: $stderr"; false; }
	assert_equal "$stderr" "cnai: error: $msg"
	[ -z "$output" ]
	assert_equal "$(store_state)" "$BEFORE"
	[ ! -e out ]
}

@test "a target column that does not exist" {
	fails_with "$IRIS: no column 'species' (--target)" --data "$IRIS" --target species -o out
}

@test "a non-numeric value in a numeric column names file, line and column" {
	printf 'a,b,y\n1,2,0\n3,x4,1\n5,6,0\n' >bad.csv
	fails_with "bad.csv:3: column 'b': 'x4' is not a number" --data bad.csv --target y -o out
}

@test "a NaN in the data" {
	printf 'a,b,y\n1,2,0\n3,nan,1\n5,6,0\n' >nan.csv
	fails_with "nan.csv:3: column 'b': 'nan' is not a finite number" --data nan.csv --target y -o out
	printf 'a,b,y\n1,2,0\n3,4,1\n5,inf,0\n' >inf.csv
	fails_with "inf.csv:4: column 'b': 'inf' is not a finite number" --data inf.csv --target y -o out
}

@test "one class only" {
	printf 'a,y\n1,yes\n2,yes\n3,yes\n' >one.csv
	fails_with "one.csv: column 'y' has only one class ('yes'); a classifier needs two or more" --data one.csv --target y -o out
}

@test "an empty file, and a header without rows" {
	: >empty.csv
	fails_with "empty.csv: empty file, expected a header line" --data empty.csv --target y -o out
	echo 'a,y' >header.csv
	fails_with "header.csv: no data rows" --data header.csv --target y -o out
}

@test "--epochs 0 and other bad option values" {
	fails_with "--epochs: must be at least 1, not 0" --data "$IRIS" --target target -o out --epochs 0
	fails_with "--lr: 'fast' is not a number" --data "$IRIS" --target target -o out --lr fast
	fails_with "--model: 'svm' is not auto, linear, logistic, softmax or mlp" --data "$IRIS" --target target -o out --model svm
	fails_with "--dropout: must be in [0, 1)" --data "$IRIS" --target target -o out --dropout 1
	fails_with "--hidden: '64,,x' is not a list of layer widths like 256,128" --data "$IRIS" --target target -o out --hidden 64,,x
}

@test "a malformed row: expected N fields, found M" {
	printf 'a,b,y\n1,2,0\n3,1\n' >short.csv
	fails_with "short.csv:3: expected 3 fields, found 2" --data short.csv --target y -o out
}

@test "missing --data, --target or an output" {
	fails_with "--data is required" --target y -o out
	fails_with "--target is required" --data "$IRIS" -o out
	fails_with "give -o <dir>, --register <name>, or both" --data "$IRIS" --target target
}

@test "a data file that does not exist" {
	fails_with "cannot read 'nowhere.csv': No such file or directory" --data nowhere.csv --target y -o out
}

@test "logistic regression on three classes, and a text regression target" {
	fails_with "--model logistic: column 'target' has 3 classes; use softmax" --data "$IRIS" --target target --model logistic -o out
	printf 'a,y\n1,p\n2,q\n' >text.csv
	fails_with "text.csv: column 'y' holds text; a regression target must be numbers" --data text.csv --target y --model linear -o out
}

@test "an empty target cell" {
	printf 'a,y\n1,0\n2,\n3,1\n' >hole.csv
	fails_with "hole.csv:3: column 'y': empty target" --data hole.csv --target y -o out
}

@test "a failed --register leaves no model and a FAILED run, never RUNNING" {
	run --separate-stderr cnai -q train --data "$IRIS" --target target --register 'Bad Name'
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "--register: 'Bad Name' is not a valid model name"
	assert_equal "$(store_state)" "$BEFORE"
	[ "$(sqlite3 .cnai/cnai.db "SELECT count(*) FROM runs WHERE status = 'RUNNING'")" -eq 0 ]
}

@test "no store: train says to run cnai init, exit 2" {
	rm -rf .cnai
	run --separate-stderr cnai train --data "$IRIS" --target target -o out
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "cnai init"
}

