#!/usr/bin/env bats
# Input errors of the commands that read a CSV file (train, predict, eval,
# drift): a directory where a file belongs is bad input (exit 2), not a
# runtime failure, and a number float32 cannot hold says so.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	IRIS=$DATA/iris.csv
	mkdir dir
}

fails_with() { cnai_fails 2 "$@"; }

@test "train refuses a directory as --data, --valid or --test" {
	fails_with "'dir' is a directory" train --data dir --target y -o out
	fails_with "'dir' is a directory" train --data "$IRIS" --valid dir --target target -o out
	fails_with "'dir' is a directory" train --data "$IRIS" --test dir --target target -o out
	[ ! -e out ]
}

@test "predict and eval refuse a directory as --data" {
	cnai -q train --data "$IRIS" --target target -o m --epochs 1 >/dev/null
	fails_with "'dir' is a directory" predict m --data dir
	fails_with "'dir' is a directory" eval m --data dir --target target
}

@test "drift refuses a directory for either side" {
	fails_with "'dir' is a directory" drift dir "$IRIS"
	fails_with "'dir' is a directory" drift "$IRIS" dir
}

@test "a number past float32's range says so" {
	printf 'a,y\n1,0\n1e308,1\n3,0\n' >big.csv
	fails_with "big.csv:3: column 'a': '1e308' is out of float32 range (at most 3.40282e+38 in magnitude)" train --data big.csv --target y -o out
	printf 'a,y\n1,0\n-4e38,1\n3,0\n' >neg.csv
	fails_with "neg.csv:3: column 'a': '-4e38' is out of float32 range (at most 3.40282e+38 in magnitude)" train --data neg.csv --target y -o out
}

@test "an infinity is still not a finite number" {
	printf 'a,y\n1,0\ninf,1\n3,0\n' >inf.csv
	fails_with "inf.csv:3: column 'a': 'inf' is not a finite number" train --data inf.csv --target y -o out
}
