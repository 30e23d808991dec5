#!/usr/bin/env bats
# The repository is all a clone needs: no tracked file reads anything from
# beside the checkout (the developers' shared folder is not in a user's
# clone), and the data sets the tests, demo and benchmarks use are here,
# unchanged.
load lib

@test "no tracked file names the shared folder beside the checkout" {
	# Built from two parts so that this file does not name it itself.
	local pat="..""/shared"
	cd "$CNAI_ROOT"
	if [ -d .git ] || [ -f .git ]; then
		run git grep -n -F "$pat"
	else
		run grep -rnF --exclude-dir='build*' --exclude-dir=node_modules "$pat" .
	fi
	[ "$status" -eq 1 ] || { echo "$output"; return 1; }
	[ -z "$output" ]
}

@test "the bundled data sets are present and match their checksums" {
	cd "$CNAI_ROOT/examples/data"
	run sha256sum -c SHA256SUMS
	echo "$output"
	[ "$status" -eq 0 ]
	# Every CSV in the folder is listed (none added without a checksum).
	local listed on_disk
	listed=$(awk '{print $2}' SHA256SUMS | sort)
	on_disk=$(find . -name '*.csv' | sed 's|^\./||' | sort)
	assert_equal "$on_disk" "$listed"
}

@test "every bundled data set has a line in the data README" {
	cd "$CNAI_ROOT/examples/data"
	local f
	for f in $(awk '{print $2}' SHA256SUMS); do
		grep -qF "\`$f\`" README.md || { echo "no README line for $f"; return 1; }
	done
}

@test "no two test files share a number (CLI and interop are one space)" {
	cd "$CNAI_ROOT/tests"
	run bash -c "ls cli interop | grep -oE '^t[0-9]{4}' | sort | uniq -d"
	[ "$status" -eq 0 ]
	assert_equal "$output" ""
}
