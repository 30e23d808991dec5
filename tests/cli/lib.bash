# Shared set-up for the CLI tests: every test runs in its own temporary
# folder with its own store, never in the repository.
bats_require_minimum_version 1.5.0

setup_common() {
	TEST_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/cnai-test.XXXXXX")
	cd "$TEST_DIR" || return 1
	unset CNAI_STORE CNAI_RUN_ID
	export NO_COLOR=1
	SHARED="$CNAI_ROOT/../shared"
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
