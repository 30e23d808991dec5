#!/usr/bin/env bats
# Help, version and man pages: every command's -h/--help/help works outside
# a store and prints the usage its man page's SYNOPSIS holds (git's
# t0450-txt-doc-vs-help.sh); the pages render without warnings; their
# EXAMPLES run (jq's mantests).
load lib

@test "the command table is not empty and each name is a word" {
	run table_commands
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -ge 6 ]
	for c in "${lines[@]}"; do
		[[ "$c" =~ ^[a-z]+$ ]]
	done
	# "keep alphabetical", says the table
	diff -u <(table_commands) <(table_commands | LC_ALL=C sort)
}

@test "cnai --help lists every command of the table, in its order" {
	run --separate-stderr cnai --help
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	listed=$(printf '%s\n' "$output" | sed -n '/^commands:$/,/^$/s/^   \([a-z]*\) .*/\1/p')
	assert_equal "$listed" "$(table_commands)"
}

@test "cnai help and cnai with -h print the same as --help" {
	expect=$(cnai --help)
	run --separate-stderr cnai help
	[ "$status" -eq 0 ]
	assert_equal "$output" "$expect"
	run --separate-stderr cnai -h
	[ "$status" -eq 0 ]
	assert_equal "$output" "$expect"
}

@test "every command's -h, --help and 'help CMD' exit 0 outside a store" {
	export CNAI_STORE= # empty: ignored, as unset
	for c in $(table_commands); do
		run --separate-stderr cnai "$c" -h
		[ "$status" -eq 0 ] || { echo "cnai $c -h: exit $status: $stderr"; false; }
		[ -z "$stderr" ] || { echo "cnai $c -h wrote to stderr: $stderr"; false; }
		assert_contains "$output" "usage: cnai $c"
		short=$output
		run --separate-stderr cnai "$c" --help
		[ "$status" -eq 0 ] || { echo "cnai $c --help: exit $status"; false; }
		assert_equal "$output" "$short"
		run --separate-stderr cnai help "$c"
		[ "$status" -eq 0 ] || { echo "cnai help $c: exit $status"; false; }
		assert_equal "$output" "$short"
	done
	[ ! -e .cnai ]
	[ -z "$(ls -A)" ]
}

@test "cnai help track ls is cnai track ls --help, outside a store" {
	run --separate-stderr cnai help track ls
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	assert_equal "$output" "$(cnai track ls --help)"
	assert_equal "$(echo "$output" | head -n 1)" "usage: $(man_synopsis "$CNAI_ROOT/man/cnai-track.1" | grep '^cnai track ls ')"
	run --separate-stderr cnai help track nosuch
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown 'track' sub-command 'nosuch'; see 'cnai track --help'"
	[ ! -e .cnai ]
}

@test "help outside a store does not look for one even with a bad CNAI_STORE" {
	export CNAI_STORE=$TEST_DIR/nowhere
	for c in $(table_commands); do
		run --separate-stderr cnai "$c" --help
		[ "$status" -eq 0 ] || { echo "cnai $c --help: exit $status: $stderr"; false; }
	done
	[ ! -e nowhere ]
}

@test "every command in the table has a man page" {
	missing=
	for c in $(table_commands); do
		[ -f "$CNAI_ROOT/man/cnai-$c.1" ] || missing="$missing man/cnai-$c.1"
	done
	assert_equal "${missing# }" ""
}

@test "each command's usage lines equal its man page's SYNOPSIS" {
	for c in $(table_commands); do
		page=$CNAI_ROOT/man/cnai-$c.1
		[ -f "$page" ] || continue # reported by the test above
		help=$(cnai "$c" --help | usage_lines)
		[ -n "$help" ]
		diff -u <(printf '%s\n' "$help") <(man_synopsis "$page") ||
			{ echo "man/cnai-$c.1 SYNOPSIS differs from 'cnai $c --help'"; false; }
	done
}

@test "cnai.1's SYNOPSIS is the usage of cnai --help" {
	usage=$(cnai --help | sed -n '1,/^$/p' | sed -e '/^$/d' -e 's/^usage: //')
	diff -u <(printf '%s\n' "$usage") <(man_synopsis "$CNAI_ROOT/man/cnai.1")
}

@test "each track sub-command's usage is a line of cnai-track.1's SYNOPSIS" {
	synopsis=$(man_synopsis "$CNAI_ROOT/man/cnai-track.1")
	subs=$(cnai track --help | usage_lines | awk '{ print $3 }' | uniq)
	[ "$(echo "$subs" | wc -l)" -ge 11 ]
	for s in $subs; do
		run --separate-stderr cnai track "$s" -h
		[ "$status" -eq 0 ] || { echo "cnai track $s -h: exit $status: $stderr"; false; }
		mine=$(printf '%s\n' "$output" | usage_lines)
		[ -n "$mine" ]
		expect=$(printf '%s\n' "$synopsis" | grep -F "cnai track $s ")
		assert_equal "$mine" "$expect"
	done
	[ ! -e .cnai ]
}

@test "cnai --version prints the version of the VERSION file" {
	run --separate-stderr cnai --version
	[ "$status" -eq 0 ]
	assert_equal "$output" "cnai version $(cat "$CNAI_ROOT/VERSION")"
	run --separate-stderr cnai version
	[ "$status" -eq 0 ]
	assert_equal "$output" "cnai version $(cat "$CNAI_ROOT/VERSION")"
}

@test "every man page renders with man and groff without a warning" {
	for page in "$CNAI_ROOT"/man/*.1; do
		run bash -c 'MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null' _ "$page"
		[ "$status" -eq 0 ]
		assert_equal "$output" ""
		run groff -man -ww -z "$page"
		[ "$status" -eq 0 ]
		assert_equal "$output" ""
		# Rendered, the page is more than its title.
		[ "$(MANWIDTH=80 man -l "$page" 2>/dev/null | wc -l)" -gt 20 ]
	done
}

@test "every man page's title names its page and the version in VERSION" {
	version=$(cat "$CNAI_ROOT/VERSION")
	for page in "$CNAI_ROOT"/man/*.1; do
		name=$(basename "$page" .1 | tr a-z A-Z | sed 's/-/\\-/g')
		th=$(grep '^\.TH ' "$page")
		case "$th" in
		".TH $name 1 "*" \"cnai $version\" \"cnai manual\"") ;;
		*) echo "$page: $th"; false ;;
		esac
	done
}

@test "every man page has the sections a page needs, in order" {
	want="NAME SYNOPSIS DESCRIPTION OPTIONS JSON OUTPUT EXIT STATUS EXAMPLES SEE ALSO"
	for page in "$CNAI_ROOT"/man/*.1; do
		got=$(sed -n 's/^\.SH "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$page" |
			grep -xE 'NAME|SYNOPSIS|DESCRIPTION|OPTIONS|JSON OUTPUT|EXIT STATUS|EXAMPLES|SEE ALSO' |
			tr '\n' ' ')
		assert_equal "${got% }" "$want" || { echo "in $page"; false; }
	done
}

@test "every man page lists each exit status it can end with" {
	for page in "$CNAI_ROOT"/man/*.1; do
		statuses=$(man_section 'EXIT STATUS' "$page" |
			sed -n '/^\.TP/{n;s/^\.B //p;}' | tr '\n' ' ')
		case "$statuses" in
		"0 "*"2 "*"3 ") ;;
		*) echo "$page: EXIT STATUS lists '$statuses'"; false ;;
		esac
	done
}

@test "cnai.1 names every command and its page" {
	for c in $(table_commands); do
		grep -q "^\.B cnai $c\$" "$CNAI_ROOT/man/cnai.1" ||
			{ echo "cnai.1 has no entry for 'cnai $c'"; false; }
		grep -q "^\.BR cnai\\\\-$c (1)" "$CNAI_ROOT/man/cnai.1" ||
			{ echo "cnai.1 does not refer to cnai-$c(1)"; false; }
	done
}

# Runs man page $1's EXAMPLES in the current folder; fails naming the first
# that did not exit 0.
run_examples() {
	local page=$CNAI_ROOT/man/$1
	[ "$(man_examples "$page" | wc -l)" -ge "${2:-1}" ]
	man_examples_script "$page" >"$TEST_DIR/examples.sh"
	run bash "$TEST_DIR/examples.sh"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

# The folder the EXAMPLES expect: data.csv, train.sh, cnai on PATH, and a
# store unless the page starts by making one.
examples_fixture() {
	cnai_on_path
	mkdir work && cd work || return 1
	make_data_csv
	make_train_sh
	if [ "$(man_examples "$CNAI_ROOT/man/$1" | head -n 1)" != "cnai init" ]; then
		cnai init >/dev/null
	fi
}

@test "cnai-track.1 EXAMPLES run and exit 0" {
	examples_fixture cnai-track.1
	run_examples cnai-track.1 15
	# They did what they say: two runs remain, sweep-3 was removed.
	assert_equal "$(cnai track ls --json | jq -r '[.[].name] | sort | join(" ")')" "first second"
}

@test "cnai-lineage.1 EXAMPLES run and exit 0" {
	examples_fixture cnai-lineage.1
	run_examples cnai-lineage.1 5
	head -c 5 lineage.svg | grep -q '<'
	assert_equal "$(head -n 1 lineage.mmd)" "graph LR"
}

@test "the EXAMPLES of the other man pages run and exit 0" {
	for page in cnai.1 cnai-init.1 cnai-config.1 cnai-fsck.1 cnai-gc.1; do
		cd "$TEST_DIR" && rm -rf work bin
		examples_fixture "$page"
		run_examples "$page" 2 || { echo "in $page"; false; }
	done
}
