#!/usr/bin/env bats
# Integer options are range-checked by the shared parser (cli/options.c):
# a value too large for the option, or for 64 bits, says "too large" with
# the limit, never "must be at least"; a small one says the least.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	IRIS=$DATA/iris.csv
}

fails_with() { cnai_fails 2 "$@"; }

@test "a train option past its range says too large, with the limit" {
	fails_with "--batch-size: '99999999999' is too large (at most 2147483647)" train --data "$IRIS" --target target -o out --batch-size 99999999999
	fails_with "--epochs: '2147483648' is too large (at most 2147483647)" train --data "$IRIS" --target target -o out --epochs 2147483648
	[ ! -e out ]
}

@test "a value past 64 bits is too large, not 'not a whole number'" {
	fails_with "--epochs: '99999999999999999999' is too large (at most 2147483647)" train --data "$IRIS" --target target -o out --epochs 99999999999999999999
	fails_with "--seed: '99999999999999999999' is too large (at most 9223372036854775807)" train --data "$IRIS" --target target -o out --seed 99999999999999999999
	fails_with "--seed: must be at least -9223372036854775808, not -99999999999999999999" train --data "$IRIS" --target target -o out --seed -99999999999999999999
	fails_with "--threads: must be at least 1, not -99999999999999999999" train --data "$IRIS" --target target -o out --threads -99999999999999999999
}

@test "the options name themselves with their dashes" {
	fails_with "--epochs: 'x' is not a whole number" train --data "$IRIS" --target target -o out --epochs x
	fails_with "--early-stopping: must be at least 0, not -1" train --data "$IRIS" --target target -o out --early-stopping -1
	fails_with "--batch-size: ' 8' is not a whole number" train --data "$IRIS" --target target -o out --batch-size ' 8'
}

@test "the YAML file's values are checked the same way" {
	printf 'data: %s\ntarget: target\noutput: out\nbatch-size: 99999999999\n' "$IRIS" >t.yaml
	fails_with "--batch-size: '99999999999' is too large (at most 2147483647)" train -f t.yaml
}

@test "other commands' integer options share the parser" {
	fails_with "--limit: '99999999999999999999' is too large (at most 9223372036854775807)" track ls --limit 99999999999999999999
	fails_with "--depth: must be at least -9223372036854775808, not -99999999999999999999" lineage x --depth -99999999999999999999
}
