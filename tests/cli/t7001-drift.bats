#!/usr/bin/env bats
# cnai drift: verdicts, selection and typing options, output formats,
# stdin, exit statuses, and what a report records in the store.
load lib

# $1 rows of x (normal, + $2), y (normal), color (a/b/c), n (ints 0..2),
# seeded by $3: deterministic on one machine.
gen() {
	awk -v n="$1" -v shift="$2" -v seed="$3" 'BEGIN {
		srand(seed); print "x,y,color,n"
		for (i = 0; i < n; i++) {
			u = rand(); v = rand(); w = rand(); z = rand()
			if (u < 1e-12) u = 1e-12
			if (w < 1e-12) w = 1e-12
			x = sqrt(-2 * log(u)) * cos(6.283185307179586 * v)
			y = sqrt(-2 * log(w)) * cos(6.283185307179586 * z)
			c = rand(); col = c < 0.5 ? "a" : (c < 0.8 ? "b" : "c")
			printf "%.6f,%.6f,%s,%d\n", x + shift, y, col, int(rand() * 3)
		}
	}'
}

# A copy of $1 in another row order with $2 added to x: only x can drift.
shifted() {
	{ head -n 1 "$1"; tail -n +2 "$1" | sort -t, -k2 |
		awk -F, -v s="$2" '{ printf "%.6f,%s,%s,%s\n", $1 + s, $2, $3, $4 }'; }
}

setup() {
	setup_common
	cnai init >/dev/null
}

@test "identical files: no column drifted, exit 0, the whole table" {
	printf 'x,color\n1.5,a\n2.5,b\n3.5,a\n4.5,b\n5.5,a\n6.5,b\n7.5,a\n' >ref.csv
	cp ref.csv cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	cat >expect <<-'EOT'
	reference  ref.csv  7 rows
	current    cur.csv  7 rows

	column  type         method  statistic  p-value  score  threshold  drift
	x       numerical    ks      0          1        1      0.05       no
	color   categorical  z       0          1        1      0.05       no

	0 of 2 columns drifted (share 0); data set drift: no (drift share 0.5)
	EOT
	diff -u expect <(printf '%s\n' "$output")
}

@test "a strong shift in one column drifts exactly that column" {
	gen 2000 0 1 >ref.csv
	gen 2000 1.5 2 >cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '[.columns[] | select(.drifted) | .name] | join(",")' <<<"$output")" "x"
	assert_equal "$(jq -r '[.columns[] | .method] | join(",")' <<<"$output")" \
		"wasserstein,wasserstein,jensenshannon,jensenshannon"
	assert_equal "$(jq -r '.columns_drifted, .columns_evaluated, .dataset_drift' <<<"$output")" "$(printf '1\n4\nfalse')"
}

@test "a small sample gets the p-value tests Evidently picks" {
	gen 300 0 1 >ref.csv
	gen 300 0 2 >cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '[.columns[] | "\(.name)=\(.method)/\(.type)"] | join(" ")' <<<"$output")" \
		"x=ks/numerical y=ks/numerical color=chisquare/categorical n=chisquare/categorical"
	assert_equal "$(jq -r '.columns[0].ks_mode' <<<"$output")" "exact"
}

@test "--fail-on-drift exits 1 on data set drift, 0 without it" {
	gen 500 3 1 >ref.csv
	awk -F, 'NR == 1 { print; next } { printf "%s,%s,%s,%s\n", $1 + 4, $2 + 4, "c", $4 }' ref.csv >cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv --fail-on-drift
	[ "$status" -eq 1 ]
	assert_equal "${lines[-1]}" "3 of 4 columns drifted (share 0.75); data set drift: yes (drift share 0.5)"
	run --separate-stderr cnai drift ref.csv cur.csv
	[ "$status" -eq 0 ]
	assert_equal "${lines[-1]}" "3 of 4 columns drifted (share 0.75); data set drift: yes (drift share 0.5)"
	run --separate-stderr cnai drift ref.csv ref.csv --fail-on-drift
	[ "$status" -eq 0 ]
}

@test "--drift-share and --threshold change the verdict" {
	gen 500 0 1 >ref.csv
	gen 500 1 2 >cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv --drift-share 0.25 --fail-on-drift
	[ "$status" -eq 1 ]
	run --separate-stderr cnai drift ref.csv cur.csv --json --threshold 1e-300
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '[.columns[].threshold] | unique | join(",")' <<<"$output")" "1e-300"
	assert_equal "$(jq -r '.columns_drifted' <<<"$output")" "0"
}

@test "--columns, --ignore, --categorical, --numerical and --column-method" {
	gen 300 0 1 >ref.csv
	gen 300 0 2 >cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv --json --columns x,n --categorical n
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '[.columns[] | "\(.name):\(.type)"] | join(" ")' <<<"$output")" "x:numerical n:categorical"
	run --separate-stderr cnai drift ref.csv cur.csv --json --ignore x,y,color --numerical n
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '[.columns[] | "\(.name):\(.type):\(.method)"] | join(" ")' <<<"$output")" "n:numerical:chisquare"
	run --separate-stderr cnai drift ref.csv cur.csv --json --method psi --column-method x=wasserstein --column-method color=chi2
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '[.columns[] | .method] | join(",")' <<<"$output")" "wasserstein,psi,chi2,psi"
	# a method the type does not take keeps auto for that column
	run --separate-stderr cnai drift ref.csv cur.csv --json --method ks
	assert_equal "$(jq -r '[.columns[] | .method] | join(",")' <<<"$output")" "ks,ks,chisquare,chisquare"
}

@test "integers with at most 10 values are categorical, as Evidently types them" {
	printf 'age\n' >ref.csv; printf 'age\n' >cur.csv
	for i in $(seq 1 30); do echo $((i % 10 + 25)) >>ref.csv; echo $((i % 7 + 25)) >>cur.csv; done
	run --separate-stderr cnai drift ref.csv cur.csv --json
	assert_equal "$(jq -r '.columns[0] | "\(.type) \(.method) \(.n_unique)"' <<<"$output")" "categorical chisquare 10"
	echo 99.5 >>cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv --json
	assert_equal "$(jq -r '.columns[0] | "\(.type) \(.method)"' <<<"$output")" "numerical ks"
}

@test "missing values are counted and dropped; an all-missing column is reported, not tested" {
	printf 'x,e\n1,\n2,NA\n3,\nNaN,null\n5,\n6,\n7,\n' >ref.csv
	printf 'x,e\n1,\n,\n3,\n4,\n5,None\n6,\n7,inf\n' >cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -c '.columns[0] | [.reference.missing, .current.missing, .reference.count, .evaluated]' <<<"$output")" "[1,1,6,true]"
	assert_equal "$(jq -c '.columns[1] | [.evaluated, .note, .drifted, .method]' <<<"$output")" '[false,"no values in ref.csv",false,null]'
	assert_equal "$(jq -r '.columns_evaluated' <<<"$output")" "1"
	run --separate-stderr cnai drift ref.csv cur.csv
	assert_contains "$output" "e       numerical  -       -          -        -      -          no values in ref.csv"
}

@test "'-' reads one side from stdin, named <stdin>, hashed like a file" {
	gen 300 0 1 >ref.csv
	gen 300 0 2 >cur.csv
	run --separate-stderr bash -c 'cat cur.csv | "$CNAI_BIN" drift ref.csv - --json'
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '.current.path, .current.digest, .current.rows' <<<"$output")" \
		"$(printf '<stdin>\nsha256:%s\n300' "$(sha256sum <cur.csv | cut -d' ' -f1)")"
	expect=$(cnai drift ref.csv cur.csv --json | jq -c '.columns')
	assert_equal "$(jq -c '.columns' <<<"$output")" "$expect"
	run --separate-stderr bash -c 'cat ref.csv | "$CNAI_BIN" drift - cur.csv --json'
	[ "$status" -eq 0 ]
	assert_equal "$(jq -c '.columns' <<<"$output")" "$expect"
}

@test "-o writes the report to a file and prints the verdict only" {
	gen 300 0 1 >ref.csv
	shifted ref.csv 0 >cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv --format json -o out.json
	[ "$status" -eq 0 ]
	assert_equal "$output" "0 of 4 columns drifted (share 0); data set drift: no (drift share 0.5)"
	assert_equal "$(jq -r '.columns | length' out.json)" "4"
	cnai drift ref.csv cur.csv >text.out
	cnai drift ref.csv cur.csv -o text2.out >/dev/null
	diff -u text.out text2.out
}

@test "the prometheus format has the documented metrics" {
	gen 300 0 1 >ref.csv
	shifted ref.csv 2 >cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv --format prometheus
	[ "$status" -eq 0 ]
	assert_equal "$(grep -c '^cnai_drift_score{column="[a-z]*",method="[a-z]*"} ' <<<"$output")" "4"
	assert_contains "$output" 'cnai_drift_column_drifted{column="x",method="ks"} 1'
	assert_contains "$output" "$(printf 'cnai_drift_detected 0\n')"
	assert_contains "$output" "$(printf '# TYPE cnai_drift_share gauge\ncnai_drift_share 0.25')"
}

@test "the html report is one self-contained page with a chart per column" {
	gen 2000 0 1 >ref.csv
	gen 2000 1 2 >cur.csv
	cnai drift ref.csv cur.csv --format html -o report.html >/dev/null
	head -n 1 report.html | grep -qx '<!DOCTYPE html>'
	assert_equal "$(grep -c '<svg ' report.html)" "4"
	assert_equal "$(grep -ciE 'https?:|src=|<script|<link' report.html)" "0"
	tail -n 1 report.html | grep -qx '</html>'
}

@test "a report is recorded: data sets, the report blob and lineage edges" {
	gen 300 0 1 >ref.csv
	gen 300 0 2 >cur.csv
	cnai drift ref.csv cur.csv >/dev/null
	cnai drift ref.csv cur.csv --json >/dev/null # the same report: recorded once
	run sqlite3 .cnai/cnai.db "SELECT ref FROM entities WHERE kind = 'drift_report'"
	[ "${#lines[@]}" -eq 1 ]
	digest=$output
	blob=.cnai/oci/blobs/sha256/${digest#sha256:}
	assert_equal "sha256:$(sha256sum <"$blob" | cut -d' ' -f1)" "$digest"
	assert_equal "$(jq -c '.columns' "$blob")" "$(cnai drift ref.csv cur.csv --json | jq -c '.columns')"
	run cnai lineage "$digest" --up --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -r '[.edges[].relation] | sort | join(",")' <<<"$output")" "current,reference"
	assert_equal "$(jq -r '[.nodes[] | select(.kind == "dataset") | .name] | sort | join(",")' <<<"$output")" "cur.csv,ref.csv"
	assert_equal "$(sqlite3 .cnai/cnai.db 'SELECT count(*) FROM datasets')" "2"
	run cnai fsck
	[ "$status" -eq 0 ]
}

@test "--run and CNAI_RUN_ID log drift metrics to the run" {
	gen 300 0 1 >ref.csv
	shifted ref.csv 2 >cur.csv
	run_id=$(cnai track start --name d)
	cnai drift ref.csv cur.csv --run "$run_id" >/dev/null
	run cnai track metrics "$run_id"
	assert_contains "$output" "drift.x.score"
	assert_contains "$output" "drift.x.ks_d"
	assert_contains "$output" "drift.x.p_value"
	assert_contains "$output" "drift.share"
	assert_equal "$(cnai --json track show "$run_id" | jq -r '.metrics["drift.x.drifted"], .metrics["drift.share"]')" "$(printf '1\n0.25')"
	run2=$(cnai track start --name e)
	CNAI_RUN_ID=$run2 cnai drift ref.csv cur.csv >/dev/null
	assert_equal "$(cnai --json track show "$run2" | jq -r '.metrics["drift.share"]')" "0.25"
}

@test "drift -h works outside a store and prints the usage" {
	cd "$BATS_TEST_TMPDIR" && mkdir -p outside && cd outside
	run --separate-stderr cnai drift -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai drift [<options>] <reference> <current>"
	[ ! -e .cnai ]
}

@test "cnai-drift.1 EXAMPLES run and exit 0" {
	gen 300 0 1 | cut -d, -f1,3 | sed '1s/.*/x,color/' >ref.csv
	gen 300 0 2 | cut -d, -f1,3 | sed '1s/.*/x,color/' >cur.csv
	man_examples "$CNAI_ROOT/man/cnai-drift.1" >examples.txt
	[ "$(wc -l <examples.txt)" -ge 5 ]
	mkdir -p bin && ln -s "$CNAI_BIN" bin/cnai
	PATH=$PWD/bin:$PATH run bash -e examples.txt
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -s report.html ] && [ -s drift.prom ]
}

@test "quoted fields, CRLF line ends and a byte order mark are read" {
	printf '\xef\xbb\xbfx,"name, full"\r\n1.5,"a ""q"""\r\n2.5,b\r\n3.5,"c\nd"\r\n' >ref.csv
	printf 'x,"name, full"\n1.5,b\n2.5,b\n3.5,"a ""q"""\n' >cur.csv
	run --separate-stderr cnai drift ref.csv cur.csv --json
	[ "$status" -eq 0 ]
	assert_equal "$(jq -c '[.columns[] | [.name, .type, .n_unique]], .reference.rows' <<<"$output")" \
		"$(printf '%s\n%s' '[["x","numerical",3],["name, full","categorical",3]]' 3)"
	assert_equal "$(jq -r '.columns[1].chart.bars | map(.label) | join("|")' <<<"$output")" "$(printf 'a "q"|b|c\nd')"
}
