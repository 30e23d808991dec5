#!/usr/bin/env bats
# The serve image that cnai package builds, unpacked by umoci, runs
# `cnai serve` in a chroot of its root file system (nothing of the host's
# libraries to lean on) and answers /v2/health/ready and an infer request
# exactly as `cnai predict` does on the host. Needs root for chroot.
load ../cli/lib

# One store with a digits MLP registered and packaged, its image unpacked
# (a serve build and an unpack take seconds: do them once).
setup_file() {
	BASE=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cnai-serve-image.XXXXXX")
	export BASE
	cd "$BASE" || return 1
	"$CNAI_BIN" init >/dev/null
	"$CNAI_BIN" train --data "$CNAI_ROOT/examples/data/digits.csv" \
		--target target --register digits -o m --epochs 3 --hidden 32 \
		>/dev/null 2>&1
	"$CNAI_BIN" package digits >package.out
	umoci raw unpack --image .cnai/oci:digits:1 rootfs >/dev/null
	head -n 21 "$CNAI_ROOT/examples/data/digits.csv" >rows.csv
	cd / || return 1
}

teardown_file() {
	rm -rf "$BASE"
}

setup() {
	setup_common
	SERVE_PID=
}

teardown() {
	if [ -n "$SERVE_PID" ]; then
		kill -TERM "$SERVE_PID" 2>/dev/null
		wait "$SERVE_PID" || true
	fi
	teardown_common
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

@test "the serve image holds OpenBLAS, which cnai opens with dlopen" {
	# no DT_NEEDED names it: without it every inference would fail
	lib=$BASE/rootfs/lib/x86_64-linux-gnu
	[ -f "$lib/libopenblas.so.0" ]
	for need in $(readelf -d "$lib/libopenblas.so.0" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
		[ -f "$lib/$need" ] || { echo "no $need"; false; }
	done
}

@test "cnai serve runs in a chroot of the image and answers like cnai predict" {
	skip_chroot_unless_plain
	port=$(free_port)
	url=http://127.0.0.1:$port
	chroot "$BASE/rootfs" /usr/local/bin/cnai serve /models/digits \
		--host 127.0.0.1 --port "$port" 2>serve.err 3>&- &
	SERVE_PID=$!
	for _ in $(seq 100); do
		curl -sf -o /dev/null "$url/v2/health/ready" && break
		kill -0 "$SERVE_PID" 2>/dev/null || { cat serve.err; false; }
		sleep 0.05
	done
	run curl -s -w ' %{http_code}' "$url/v2/health/ready"
	assert_equal "$output" '{"ready":true} 200'
	run curl -s "$url/v2/models/digits"
	assert_equal "$(jq -c '[.name, .versions, .inputs[0].shape]' <<<"$output")" '["digits",["1"],[-1,64]]'
	# 20 rows of digits.csv, without the target column
	req=$(jq -Rsc 'split("\n") | map(select(length > 0)) | .[1:] | map(split(",") | .[:64] | map(tonumber)) |
		{inputs: [{name: "input", shape: [length, 64], datatype: "FP32", data: .}]}' "$BASE/rows.csv")
	run curl -s -w '\n%{http_code}' -d "$req" "$url/v2/models/digits/infer"
	assert_equal "${lines[1]}" 200
	resp=${lines[0]}
	"$CNAI_BIN" predict "$BASE/m" --data "$BASE/rows.csv" --proba >pred.csv
	assert_equal "$(jq -r '.outputs[1].data[]' <<<"$resp")" "$(tail -n +2 pred.csv | cut -d, -f1)"
	# probabilities within 1e-6 of cnai predict's
	jq -r '.outputs[0].data | _nwise(10) | map(tostring) | join(",")' <<<"$resp" >served.csv
	tail -n +2 pred.csv | cut -d, -f2- >host.csv
	[ "$(wc -l <served.csv)" -eq 20 ]
	paste -d, served.csv host.csv | awk -F, '{ for (i = 1; i <= 10; i++) { d = $i - $(i + 10); if (d < -1e-6 || d > 1e-6) { print NR ": " $i " " $(i + 10); exit 1 } } }'
	kill -TERM "$SERVE_PID"
	wait "$SERVE_PID"
	SERVE_PID=
}
