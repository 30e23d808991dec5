#!/usr/bin/env bats
# Every jansson pack/unpack format in the sources matches its arguments
# (scripts/check-json-formats.py): jansson reads them with va_arg and no
# compiler checks them, so a pair too few packs a pointer as a number.
load lib

CHECK() { /usr/bin/python3 "$CNAI_ROOT/scripts/check-json-formats.py" "$@"; }

@test "every json_pack and json_unpack format in the sources matches its arguments" {
	run CHECK "$CNAI_ROOT"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ -z "$output" ]
}

@test "the check finds a format with fewer pairs than arguments" {
	cat >bad.c <<'C'
static json_t *f(const char *d, long n)
{
	/* json_pack("{s:i}", "not", "checked", 1) in a comment */
	return json_pack("{s:s, s:I}", "role", "train", "digest", d,
			 "rows", (json_int_t)n);
}
C
	run CHECK bad.c
	[ "$status" -eq 1 ]
	assert_equal "$output" 'bad.c:4: json_pack: "{s:s, s:I}" takes 4 arguments, given 6'
}

@test "the check counts unpack, _ex, s#, s+, optional and strict formats" {
	cat >ok.c <<'C'
static int f(json_t *o, json_error_t *e)
{
	const char *a, *b;
	size_t n;
	int i;
	json_t *x = json_pack_ex(e, 0, "{s:s#, s:s+, s:o?, s:[i, f]}", "a",
				 "xy", 1, "b", "p", "q", "c", NULL, "d", 1, 2.0);
	json_decref(x);
	return json_unpack(o, "{s:s%, s?i, s:{s:b}!}", "a", &a, &n, "i",
			   &i, "c", "d", &i) ||
	       json_unpack_ex(o, e, 0, "[s, *]", &b) ||
	       json_unpack_ex(o, e, JSON_VALIDATE_ONLY, "{s:s}");
}
C
	run CHECK ok.c
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	sed 's/"\[s, \*\]", &b/"[s, *]"/' ok.c >bad.c
	run CHECK bad.c
	[ "$status" -eq 1 ]
	assert_equal "$output" 'bad.c:11: json_unpack_ex: "[s, *]" takes 1 arguments, given 0'
}

@test "the check refuses a format it cannot read" {
	printf 'void f(const char *fmt) { json_pack(fmt, 1); }\n' >var.c
	run CHECK var.c
	[ "$status" -eq 1 ]
	assert_equal "$output" "var.c:1: json_pack: format is not a string literal: fmt"
}
