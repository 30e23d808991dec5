#!/usr/bin/env bats
# The CUDA plug-in's loader on machines without a GPU: stub plug-ins
# (tests/gpu/stub/plugin.c) chosen with $CNAI_CUDA_PLUGIN stand for a
# driver too old, no driver, an ops table of another version, a CUDA
# error during training; then the real plug-in's GPU code, read back.
load lib

setup_file() {
	STUBS=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cnai-stubs.XXXXXX")
	export STUBS
	for mode in FAIL NODEV OLD UPLOAD NOENTRY; do
		cc -std=c11 -shared -fPIC -I"$CNAI_ROOT" -DSTUB_$mode \
			-o "$STUBS/$mode.so" "$CNAI_ROOT/tests/gpu/stub/plugin.c" ||
			return 1
	done
	printf 'not a library\n' >"$STUBS/junk.so"
}

teardown_file() {
	rm -rf "$STUBS"
}

setup() {
	setup_common
	cnai init >/dev/null
	IRIS=$DATA/iris.csv
}

# cnai train on iris for one epoch with the plug-in $1 and --device $2.
train_with() {
	CNAI_CUDA_PLUGIN=$STUBS/$1 run --separate-stderr cnai train \
		--data "$IRIS" --target target -o m --epochs 1 --device "$2"
}

# --device cuda with the plug-in $1 exits 3 with stderr $2, recording
# nothing.
cuda_refused() {
	local before

	before=$(store_state)
	train_with "$1" cuda
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "$2"
	assert_equal "$(store_state)" "$before"
}

@test "auto trains on the CPU in silence when the plug-in finds no NVIDIA driver or device" {
	train_with NODEV.so auto
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	[ -s m/model.safetensors ]
}

@test "--device cuda names the missing driver when the plug-in finds none" {
	cuda_refused NODEV.so "cnai: error: --device cuda: no NVIDIA driver (libcuda.so.1)"
}

@test "auto says in one line why a plug-in that cannot use the GPU is not used" {
	train_with FAIL.so auto
	[ "$status" -eq 0 ]
	assert_equal "$stderr" "cnai: cannot use the GPU (the NVIDIA driver 550.54.14 runs CUDA 12.4; the plug-in needs CUDA 13.0, a driver R580 or newer); training on the CPU"
	[ -s m/model.safetensors ]
}

@test "--device cuda fails with the plug-in's reason and records nothing" {
	cuda_refused FAIL.so "cnai: error: --device cuda: the NVIDIA driver 550.54.14 runs CUDA 12.4; the plug-in needs CUDA 13.0, a driver R580 or newer"
}

@test "-q silences the fallback notice" {
	CNAI_CUDA_PLUGIN=$STUBS/FAIL.so run --separate-stderr cnai -q train \
		--data "$IRIS" --target target -o m --epochs 1
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
}

@test "a \$CNAI_CUDA_PLUGIN that is not a library is named in the notice" {
	train_with junk.so auto
	[ "$status" -eq 0 ]
	assert_contains "$stderr" "cnai: cannot use the GPU ($STUBS/junk.so: "
	assert_contains "$stderr" "); training on the CPU"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	train_with junk.so cuda
	[ "$status" -eq 3 ]
	assert_contains "$stderr" "cnai: error: --device cuda: $STUBS/junk.so: "
}

@test "a plug-in without the entry point is refused" {
	cuda_refused NOENTRY.so "cnai: error: --device cuda: the CUDA plug-in has no cnai_cuda_backend_open"
}

@test "a plug-in handing back an ops table of another version is refused" {
	cuda_refused OLD.so "cnai: error: --device cuda: the CUDA plug-in's ops table is version 1, not 2"
	train_with OLD.so auto
	[ "$status" -eq 0 ]
	assert_contains "$stderr" "ops table is version 1, not 2); training on the CPU"
}

@test "a CUDA error inside the plug-in reaches the user with its message and fails the run" {
	train_with UPLOAD.so cuda
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "cnai: error: CUDA upload: an illegal memory access was encountered"
	assert_equal "$(cnai track ls --json | jq -r '.[].status')" FAILED
}

@test "the plug-in built here stays silent under auto and names the missing driver under --device cuda" {
	[ -e "$CNAI_ROOT/build/libcnai-cuda.so" ] || skip "no plug-in built (no nvcc)"
	if ls /dev/nvidia[0-9]* >/dev/null 2>&1 || [ -e /proc/driver/nvidia/version ]; then
		skip "an NVIDIA driver or device is here"
	fi
	export CNAI_CUDA_PLUGIN=$CNAI_ROOT/build/libcnai-cuda.so
	run --separate-stderr cnai train --data "$IRIS" --target target -o m --epochs 1
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	run --separate-stderr cnai train --data "$IRIS" --target target -o m2 --epochs 1 --device cuda
	[ "$status" -eq 3 ]
	assert_contains "$stderr" "cnai: error: --device cuda: no NVIDIA driver (libcuda.so.1); the plug-in needs CUDA 13."
	assert_contains "$stderr" ", a driver R580 or newer"
}

@test "the plug-in carries machine code for sm_75, sm_80 and sm_90 and PTX for compute_90" {
	command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || skip "no nvcc: no plug-in is built"
	[ -e "$CNAI_ROOT/build/libcnai-cuda.so" ] || skip "no plug-in built in build/"
	run "$CNAI_ROOT/tests/gpu/fatbin-archs.sh" "$CNAI_ROOT/build/libcnai-cuda.so"
	[ "$status" -eq 0 ]
	assert_equal "$output" "compute_90 sm_75 sm_80 sm_90"
}

@test "a plug-in next to the binary that does not load is named in the notice" {
	mkdir bin
	cp "$CNAI_BIN" bin/cnai
	cp "$STUBS/junk.so" bin/libcnai-cuda.so
	unset CNAI_CUDA_PLUGIN
	run --separate-stderr bin/cnai train --data "$IRIS" --target target -o m --epochs 1
	[ "$status" -eq 0 ]
	assert_contains "$stderr" "cnai: cannot use the GPU ($TEST_DIR/bin/libcnai-cuda.so: "
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
	rm bin/libcnai-cuda.so
	run --separate-stderr bin/cnai train --data "$IRIS" --target target -o m2 --epochs 1
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	run --separate-stderr bin/cnai train --data "$IRIS" --target target -o m3 --epochs 1 --device cuda
	[ "$status" -eq 3 ]
	assert_equal "$stderr" "cnai: error: --device cuda: no CUDA plug-in (libcnai-cuda.so) next to the cnai binary"
}
