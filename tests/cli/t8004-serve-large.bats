#!/usr/bin/env bats
# cnai serve and large infer requests: numbers are read from the body
# straight into the feature matrix, never into a tree of JSON values (8
# times the body's size), in every request form. The server's peak memory
# stays within a bound of the body's size.
load lib
load serve

setup_file() {
	serve_fixture diabetes diabetes || return 1
	# ~20 MB: the 442 diabetes rows 1,400 times, as one input per feature
	# (the general decoder) and as one [N, F] matrix (the fast one)
	python3 - "$CNAI_ROOT/examples/data/diabetes.csv" <<'PY'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1]))) * 1400
names = [k for k in rows[0] if k != "target"]
def dump(doc, path):
    open(path, "w").write(json.dumps(doc, separators=(",", ":")))
dump({"inputs": [{"name": n, "shape": [len(rows)], "datatype": "FP64",
                  "data": [json.loads(r[n]) for r in rows]} for n in names]},
     "features.json")
dump({"inputs": [{"name": "input", "shape": [len(rows), len(names)],
                  "datatype": "FP32",
                  "data": [[json.loads(r[n]) for n in names] for r in rows]}]},
     "matrix.json")
PY
	cd / || return 1
}

# The server's resident set now, and its peak, in kB.
rss() { awk "/^$1:/ { print \$2 }" "/proc/$SERVE_PID/status"; }

# POSTs file $2 (over 20 MB) to path $1, the answer into $3: a 200, and
# the server's peak memory grown by at most 4 times the file's size.
post_within_4x() {
	local size base peak
	size=$(wc -c <"$2")
	[ "$size" -gt 20000000 ]
	base=$(rss VmRSS)
	curl -s -o "$3" -w '%{http_code}' --data-binary @"$2" "$URL$1" >code
	peak=$(rss VmHWM)
	assert_equal "$(cat code)" 200
	echo "body $((size / 1024)) kB; RSS before ${base} kB, peak ${peak} kB"
	asan_build || [ $((peak - base)) -le $((4 * size / 1024)) ]
}

@test "a 20 MB request of one input per feature is answered as its matrix form, within 4 times its size in memory" {
	serve_start -q diabetes --max-body 33554432
	post /v2/models/diabetes/infer '{"inputs":[{"name":"input","shape":[1,10],"datatype":"FP32","data":[59,2,32.1,101,157,93.2,38,4,4.8598,87]}]}'
	assert_equal "$CODE" 200
	post_within_4x /v2/models/diabetes/infer features.json features.out
	# the same rows through the fast decoder give the same answer
	curl -s -o matrix.out --data-binary @matrix.json \
		"$URL/v2/models/diabetes/infer"
	assert_equal "$(jq -c '.outputs[0].shape' features.out)" '[618800]'
	cmp features.out matrix.out
}

@test "a request of more than 4,096 tensors gets 400 (each would be a JSON object in memory)" {
	serve_start -q diabetes
	python3 -c 'import json; print(json.dumps({"inputs": [{}] * 4097}))' >many.json
	run req --data-binary @many.json "$URL/v2/models/diabetes/infer"
	assert_equal "$output" "$(printf '%s\n' '{"error":"'"'inputs'"' holds more than 4096 tensors"}' 400)"
	# 4,096 are read as before: the first has no name
	python3 -c 'import json; print(json.dumps({"inputs": [{}] * 4096}))' >many.json
	run req --data-binary @many.json "$URL/v2/models/diabetes/infer"
	assert_equal "$output" "$(printf '%s\n' '{"error":"each input needs name, shape, datatype and data"}' 400)"
}

@test "a 20 MB v1 request is answered as the v2 one, within 4 times its size in memory" {
	jq -c '{instances: [.inputs[0].data[]]}' matrix.json >instances.json
	serve_start -q diabetes --max-body 33554432
	post /v1/models/diabetes:predict '{"instances":[[59,2,32.1,101,157,93.2,38,4,4.8598,87]]}'
	assert_equal "$CODE" 200
	post_within_4x /v1/models/diabetes:predict instances.json v1.out
	curl -s -o matrix.out --data-binary @matrix.json \
		"$URL/v2/models/diabetes/infer"
	cmp <(jq -c .predictions v1.out) <(jq -c '.outputs[0].data' matrix.out)
}
