# Shared set-up for the CLI tests: every test runs in its own temporary
# folder with its own store, never in the repository.
bats_require_minimum_version 1.5.0

setup_common() {
	TEST_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cnai-test.XXXXXX")
	cd "$TEST_DIR" || return 1
	unset CNAI_STORE CNAI_RUN_ID
	export NO_COLOR=1
	DATA="$CNAI_ROOT/examples/data"
}

teardown_common() {
	cd / && rm -rf "$TEST_DIR"
}

setup() { setup_common; }
teardown() { teardown_common; }

cnai() { "$CNAI_BIN" "$@"; }

# A fingerprint of everything a store holds: the database's rows and the
# blob folder's listing. Equal before and after = nothing was written.
store_state() {
	local dir=${1:-.cnai}
	{
		sqlite3 "$dir/cnai.db" .dump | grep -v '^PRAGMA'
		(cd "$dir/oci" && find . -type f | sort && cat index.json)
	} | sha256sum
}

# Fails with both texts shown when they differ.
assert_equal() {
	if [ "$1" != "$2" ]; then
		printf 'expected: %s\nactual:   %s\n' "$2" "$1" >&2
		return 1
	fi
}

# Fails unless $2 occurs in $1.
assert_contains() {
	case "$1" in
	*"$2"*) return 0 ;;
	esac
	printf 'expected to find: %s\nin: %s\n' "$2" "$1" >&2
	return 1
}

# The full id of the run that a reference (a name, an id prefix) selects.
run_id() {
	cnai track show "$1" --json | jq -r .run_id
}

# One field of `cnai track show --json` for a run, as jq -r prints it.
run_field() {
	cnai track show "$1" --json | jq -r ".$2"
}

# ---- man pages (t0010-help.bats) -------------------------------------

# Undoes the roff escapes the man pages use in literal text: \- \e \(aq
# \(dq \(ga \&.
man_unescape() {
	sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' \
		-e 's/\\(ga/`/g' -e 's/\\&//g' -e 's/\\e/\\/g'
}

# The roff source of section $1 (.SH $1) of man page $2, without the .SH.
man_section() {
	awk -v want="$1" '/^\.SH / { sub(/^\.SH "?/, ""); sub(/"$/, "");
		on = ($0 == want); next } on' "$2"
}

# The SYNOPSIS lines of man page $1: the text lines between .nf and .fi in
# its SYNOPSIS section, unescaped.
man_synopsis() {
	man_section SYNOPSIS "$1" | sed -n '/^\.nf/,/^\.fi/{/^\./!p;}' |
		man_unescape
}

# The example commands of man page $1: the lines starting "$ " inside .nf
# blocks of its EXAMPLES section, without the "$ ", unescaped.
man_examples() {
	man_section EXAMPLES "$1" | sed -n '/^\.nf/,/^\.fi/s/^\$ //p' |
		man_unescape
}

# The usage lines of a command's help on stdin ("usage: " and "   or: "
# stripped), as the man SYNOPSIS holds them.
usage_lines() {
	sed -n -e 's/^usage: //p' -e 's/^   or: //p'
}

# The command names of the table in cli/main.c, one a line.
table_commands() {
	sed -n 's/^	{ "\([a-z-]*\)", cmd_.*/\1/p' "$CNAI_ROOT/cli/main.c"
}

# Puts a `cnai` on PATH (for scripts that cnai runs, and man EXAMPLES).
cnai_on_path() {
	mkdir -p "$TEST_DIR/bin"
	ln -sf "$CNAI_BIN" "$TEST_DIR/bin/cnai"
	export PATH="$TEST_DIR/bin:$PATH"
}

# A training script for examples and lineage tests: logs loss and acc to
# $CNAI_RUN_ID and stores model.bin as an artifact.
make_train_sh() {
	cat >train.sh <<'SCRIPT'
#!/bin/sh
set -e
cnai track log --metric loss=0.5@1 --metric loss=0.25@2 --metric acc=0.93@2
echo weights >model.bin
cnai track log --artifact model.bin
echo trained
SCRIPT
	chmod +x train.sh
}

# Runs `cnai -q ARGS...` and expects exit status $1, the one-line error
# "cnai: error: $2", nothing on stdout, and the store as it was.
cnai_fails() {
	local want=$1 msg=$2 before
	shift 2
	before=$(store_state)
	run --separate-stderr cnai -q "$@"
	[ "$status" -eq "$want" ] || { echo "exit $status: $stderr"; return 1; }
	assert_equal "$stderr" "cnai: error: $msg" || return 1
	[ -z "$output" ] || { echo "stdout: $output"; return 1; }
	assert_equal "$(store_state)" "$before"
}

# A small CSV dataset: 3 rows, 2 columns.
make_data_csv() {
	printf 'x,y\n1,2\n3,4\n5,6\n' >"${1:-data.csv}"
}

# Writes a script running man page $1's EXAMPLES in order, each line
# echoed to stderr first, stopping at the first that exits non-zero.
man_examples_script() {
	local n=0 line
	echo 'set -o pipefail'
	while IFS= read -r line; do
		n=$((n + 1))
		printf 'printf "%%s\\n" %q >&2\n' "\$ $line"
		printf '%s\n' "$line"
		printf 'st=$?; [ $st -eq 0 ] || { echo "example %d exited $st" >&2; exit 1; }\n' "$n"
	done < <(man_examples "$1")
}

# asan_build: true when $CNAI_BIN is a sanitizer build. Its memory figures
# include ASan's shadow memory and quarantine, so a test's memory bound
# does not apply to it (the test still checks everything else).
asan_build() { ldd "$CNAI_BIN" 2>/dev/null | grep -q libasan; }

# skip_chroot_unless_plain: chroot tests run the packaged binary with no
# /proc inside; an ASan build cannot even read its options there (its
# leak checker then aborts the exit), so they are for plain builds only.
skip_chroot_unless_plain() {
	[ "$(id -u)" -eq 0 ] || skip "chroot needs root"
	if asan_build; then
		skip "an ASan build cannot run in a chroot without /proc"
	fi
}
