#!/bin/bash
# Lists the GPU code a CUDA library carries, one line, sorted:
# "compute_90 sm_75 sm_80 sm_90" (sm_N: machine code, compute_N: PTX).
# Uses cuobjdump where it is installed; else reads the .nv_fatbin
# section's headers (magic 0xba55ed50, then per image: kind 1 PTX or
# 2 ELF at 0, header size at 4, payload size at 8, architecture at 28).
set -eu -o pipefail
lib=$1
CUOBJDUMP=${CUOBJDUMP:-$(command -v cuobjdump || echo /usr/local/cuda/bin/cuobjdump)}
if [ -x "$CUOBJDUMP" ]; then
	{
		"$CUOBJDUMP" --list-elf "$lib" | grep -o 'sm_[0-9]*[a-z]*'
		"$CUOBJDUMP" --list-ptx "$lib" | grep -o 'sm_[0-9]*[a-z]*' |
			sed 's/^sm_/compute_/'
	} | sort -u | paste -sd' '
	exit 0
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
objcopy -O binary --only-section=.nv_fatbin "$lib" "$tmp"
size=$(stat -c %s "$tmp")
u32() { od -An -t u4 -j "$1" -N 4 "$tmp" | tr -d ' '; }
u64() { od -An -t u8 -j "$1" -N 8 "$tmp" | tr -d ' '; }
off=0
while [ $((off + 16)) -le "$size" ]; do
	magic=$(u32 $off)
	if [ "$magic" = 0 ]; then # padding between fat binaries
		off=$((off + 8))
		continue
	fi
	[ "$magic" = 3126193488 ] || { echo "$lib: no fat binary at $off" >&2; exit 1; }
	end=$((off + ($(u32 $((off + 4))) >> 16) + $(u64 $((off + 8)))))
	e=$((off + ($(u32 $((off + 4))) >> 16)))
	while [ $e -lt $end ]; do
		case $(($(u32 $e) & 0xffff)) in
		1) echo "compute_$(u32 $((e + 28)))" ;;
		2) echo "sm_$(u32 $((e + 28)))" ;;
		esac
		e=$((e + $(u32 $((e + 4))) + $(u64 $((e + 8)))))
	done
	off=$end
done | sort -u | paste -sd' '
