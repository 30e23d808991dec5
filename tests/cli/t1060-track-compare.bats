#!/usr/bin/env bats
# cnai track compare: params and latest metrics of runs side by side.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	a=$(cnai track start --name a -p lr=0.01 -p batch=64)
	cnai track log --run a --metric acc=0.9@1 --metric acc=0.95@2 --metric loss=0.2
	b=$(cnai track start --name b -p lr=0.1 -p batch=64)
	cnai track log --run b --metric acc=0.8 --metric loss=0.2 --metric extra=nan
}

@test "track compare -h prints its synopsis outside a store" {
	rm -rf .cnai
	run cnai track compare -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai track compare <run> <run>..."
}

@test "track compare shows params and latest metrics side by side, '*' marking differences" {
	run --separate-stderr cnai track compare a b
	[ "$status" -eq 0 ]
	cat >expect <<'EOF'
   KEY            a     b
   params.batch   64    64
*  params.lr      0.01  0.1
*  metrics.acc    0.95  0.8
*  metrics.extra  -     nan
   metrics.loss   0.2   0.2
EOF
	echo "$output" >actual
	diff -u expect actual
}

@test "track compare takes three runs and names unnamed runs by id" {
	c=$(cnai track start -p lr=0.01 -p batch=32)
	run cnai track compare a b "$c"
	[ "$status" -eq 0 ]
	assert_equal "$(echo "${lines[0]}" | tr -s ' ')" " KEY a b $c"
	assert_equal "$(echo "$output" | grep 'params.batch' | tr -s ' ')" "* params.batch 64 64 32"
	assert_equal "$(echo "$output" | grep 'metrics.loss' | tr -s ' ')" "* metrics.loss 0.2 0.2 -"
}

@test "track compare --json gives values per run, as text, and whether they differ" {
	run --separate-stderr cnai track compare --json a b
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c .runs)" "[\"$a\",\"$b\"]"
	assert_equal "$(echo "$output" | jq -c .params)" \
		'{"batch":{"values":["64","64"],"differs":false},"lr":{"values":["0.01","0.1"],"differs":true}}'
	assert_equal "$(echo "$output" | jq -c .metrics)" \
		'{"acc":{"values":["0.95","0.8"],"differs":true},"extra":{"values":[null,"nan"],"differs":true},"loss":{"values":["0.2","0.2"],"differs":false}}'
}

@test "comparing a run with itself marks nothing" {
	run cnai track compare a a
	[ "$status" -eq 0 ]
	[ -z "$(echo "$output" | grep '^\*')" ]
}

@test "track compare needs at least two runs" {
	run --separate-stderr cnai track compare a
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: 'track compare' needs more arguments; usage: cnai track compare <run> <run>..."
	assert_equal "$output" ""
}

@test "track compare with an unknown run is an error" {
	run --separate-stderr cnai track compare a nope
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: run 'nope' not found"
	assert_equal "$output" ""
}
