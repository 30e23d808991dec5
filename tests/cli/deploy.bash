# Shared set-up for the cnai deploy tests (t6xxx): a store in which model
# digits@1 is registered and packaged, made once per file and copied into
# each test's folder.
load lib

# Makes the store in $BATS_FILE_TMPDIR/fixture and leaves the shell there,
# for setup_file() to add what its file needs.
deploy_fixture() {
	export SOURCE_DATE_EPOCH=1700000000
	FIXTURE="$BATS_FILE_TMPDIR/fixture"
	mkdir -p "$FIXTURE/m" && cd "$FIXTURE" || return 1
	"$CNAI_BIN" init >/dev/null
	echo weights >m/model.onnx
	echo '{"features":[]}' >m/cnai-model.json
	"$CNAI_BIN" model register digits m >/dev/null
	"$CNAI_BIN" package digits >/dev/null
}

setup() {
	setup_common
	cp -a "$BATS_FILE_TMPDIR/fixture/." .
}
