#!/usr/bin/env bats
# Column names and category values must be UTF-8 text: cnai-model.json is
# JSON, and a name it cannot hold once left a registered model that never
# loaded. Such a file is refused as it is read, at FILE:LINE:COLUMN (a
# 1-based byte column), with nothing recorded.
load lib

setup() {
	setup_common
	cnai init >/dev/null
}

# train with the arguments fails with exit 2 and the error, leaving no
# output folder and the store as it was.
fails_with() {
	cnai_fails 2 "$1" train "${@:2}" && [ ! -e out ]
}

@test "a column name that is not UTF-8 is refused and nothing is registered" {
	printf 'a,b\xff,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n' >bad.csv
	fails_with "bad.csv:1:4: the name of column 2 is not valid UTF-8" --data bad.csv --target y -o out --register bad
	run cnai model ls --json
	assert_equal "$output" "[]"
}

@test "the column counts the bytes of a quoted name, quotes included" {
	printf '"a""\xc3(",y\n1,0\n2,1\n' >quoted.csv
	fails_with "quoted.csv:1:5: the name of column 1 is not valid UTF-8" --data quoted.csv --target y -o out
}

@test "a category value that is not UTF-8 names its line, even inside a multi-line field" {
	printf 'a,c,y\n1,ok,0\n2,"two\nlines \xe9t\xe9",1\n3,ok,0\n' >cat.csv
	fails_with "cat.csv:4:7: column 'c': the value is not valid UTF-8" --data cat.csv --target y -o out --register cat
}

@test "a target class that is not UTF-8 is refused" {
	printf 'a,y\n1,yes\n2,no\n3,\xed\xa0\x80\n' >class.csv
	fails_with "class.csv:4:3: column 'y': the value is not valid UTF-8" --data class.csv --target y -o out
}

@test "a NUL byte in a column name is refused" {
	printf 'a,b\000c,y\n1,2,0\n3,4,1\n' >nul.csv
	fails_with "nul.csv:1:4: the name of column 2 holds a NUL byte" --data nul.csv --target y -o out
}

@test "UTF-8 names and categories train, register and predict" {
	printf 'taille,ville,côté,y\n1,Zürich,日本,0\n2,Genève,日本,1\n3,Zürich,中国,0\n4,Genève,中国,1\n5,Zürich,日本,0\n' >utf8.csv
	run --separate-stderr cnai -q train --data utf8.csv --target y --register utf8 --epochs 2 --valid-split 0
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	run --separate-stderr cnai -q predict utf8 --data utf8.csv
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	assert_equal "${#lines[@]}" 6
}

@test "predict refuses a category value that is not UTF-8 the same way" {
	printf 'a,c,y\n1,ok,0\n2,no,1\n3,ok,0\n4,no,1\n' >train.csv
	cnai -q train --data train.csv --target y -o m --epochs 1 >/dev/null
	printf 'a,c\n1,ok\n2,\xff\n' >new.csv
	cnai_fails 2 "new.csv:3:3: column 'c': the value is not valid UTF-8" predict m --data new.csv
}
