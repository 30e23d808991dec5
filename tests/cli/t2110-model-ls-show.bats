#!/usr/bin/env bats
# cnai model ls and show: listing models and versions, one version whole.
load lib

setup() {
	setup_common
	cnai init >/dev/null
}

# Table output with its timestamps replaced by TIME.
untime() {
	sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}/TIME/g'
}

# Registers version N of NAME: one file with its own content.
reg() {
	printf '%s %s\n' "$1" "$2" >"w-$1-$2.bin"
	cnai model register "$1" "w-$1-$2.bin" "${@:3}" >/dev/null
}

@test "model ls -h and model show -h print their synopses and exit 0 outside a store" {
	rm -rf .cnai
	run cnai model ls -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai model ls [<name>]"
	run cnai model show -h
	[ "$status" -eq 0 ]
	assert_equal "${lines[0]}" "usage: cnai model show <model>"
}

@test "model --help lists every sub-command's usage" {
	rm -rf .cnai
	run cnai model --help
	[ "$status" -eq 0 ]
	cat >expect <<'EOF'
usage: cnai model register <name> <path>... [--run <run>] [--flavor onnx|safetensors|cnai|files] [--description <text>] [--tag <key>=<value>]...
   or: cnai model ls [<name>]
   or: cnai model show <model>
   or: cnai model alias set <name> <alias> <version>
   or: cnai model alias rm <name> <alias>
   or: cnai model export <model> <dir> [--force]
   or: cnai model rm <model> [--force]
   or: cnai model diff <model> <model>

<model> is NAME, NAME@latest, NAME@VERSION, NAME@ALIAS or sha256:<digest prefix>
see 'cnai model <sub-command> --help' for each one's options
EOF
	echo "$output" >actual
	diff -u expect actual
}

@test "model without a sub-command prints the usage on stderr, exit 2" {
	run --separate-stderr cnai model
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	assert_contains "$stderr" "usage: cnai model register"
}

@test "an unknown sub-command suggests the nearest one, exit 2" {
	run --separate-stderr cnai model shwo digits
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: unknown 'model' sub-command 'shwo'; did you mean 'show'?"
}

@test "model ls in an empty store prints only the header" {
	run cnai model ls
	[ "$status" -eq 0 ]
	assert_equal "$output" "NAME  VERSIONS  LATEST  ALIASES  CREATED"
	run cnai model ls --json
	assert_equal "$output" "[]"
}

@test "model ls lists each model with its version count, latest version and aliases" {
	reg digits 1
	reg digits 2
	reg digits 3
	reg letters 1
	cnai model alias set digits prod 2 >/dev/null
	cnai model alias set digits canary 3 >/dev/null
	run cnai model ls
	[ "$status" -eq 0 ]
	cat >expect <<'EOF'
NAME     VERSIONS  LATEST  ALIASES          CREATED
digits   3         3       canary=3 prod=2  TIME
letters  1         1       -                TIME
EOF
	echo "$output" | untime >actual
	diff -u expect actual
}

@test "model ls --json gives name, versions, latest, aliases and created" {
	reg digits 1
	reg digits 2
	cnai model alias set digits prod 1 >/dev/null
	run cnai model ls --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '.[] | [.name, .versions, .latest, .aliases, (.created | type)]')" \
		'["digits",2,2,["prod=1"],"number"]'
}

@test "model ls NAME lists that model's versions, newest first" {
	reg digits 1
	run_id=$(cnai track start --name train)
	reg digits 2 --run "$run_id"
	reg digits 3 --flavor onnx
	cnai model alias set digits prod 2 >/dev/null
	run cnai model ls digits
	[ "$status" -eq 0 ]
	d() { cnai model show "digits@$1" --json | jq -r '.digest[0:19]'; }
	cat >expect <<EOF
VERSION  DIGEST               FLAVOR  RUN           ALIASES  CREATED
3        $(d 3)  onnx    -             -        TIME
2        $(d 2)  files   ${run_id:0:12}  prod     TIME
1        $(d 1)  files   -             -        TIME
EOF
	echo "$output" | untime >actual
	diff -u expect actual
}

@test "model ls NAME --json gives every version with its files" {
	reg digits 1
	reg digits 2
	run cnai model ls digits --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -c '[.[] | [.version, (.files | map(.path))]]')" \
		'[[2,["w-digits-2.bin"]],[1,["w-digits-1.bin"]]]'
}

@test "model ls of an unknown model is an error, exit 2" {
	run --separate-stderr cnai model ls nosuch
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'nosuch' not found"
	[ -z "$output" ]
}

@test "model ls takes at most one name" {
	run --separate-stderr cnai model ls a b
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: too many arguments; usage: cnai model ls [<name>]"
}

@test "model show prints the version, its aliases, tags and files" {
	mkdir m
	printf 'abc\n' >m/model.onnx
	printf '{}\n' >m/config.json
	cnai model register digits m --description 'the first' --tag stage=dev >/dev/null
	cnai model alias set digits prod 1 >/dev/null
	json=$(cnai model show digits --json)
	digest=$(echo "$json" | jq -r .digest)
	dc=$(echo "$json" | jq -r '.files[0].digest')
	dm=$(echo "$json" | jq -r '.files[1].digest')
	run cnai model show digits
	[ "$status" -eq 0 ]
	cat >expect <<EOF
model       digits@1
digest      $digest
flavor      onnx
description the first
aliases     prod
tag         stage=dev

files:
  config.json                       3  $dc
  model.onnx                        4  $dm

alias history:
  TIME  prod -> 1  by $(id -un)

signed:     no (cnai sign model digits@1)

lineage: 0 upstream, 0 downstream (cnai lineage $digest)
EOF
	echo "$output" | untime >actual
	diff -u expect actual
}

@test "model show --json has the version's fields, its run, alias history and lineage" {
	reg digits 1
	run cnai model show digits --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r 'keys_unsorted | join(",")')" \
		"name,version,digest,flavor,description,run_id,created,created_by,files,aliases,tags,run,alias_history,lineage,signatures"
	assert_equal "$(echo "$output" | jq -c '[.run, .alias_history, .lineage, .signatures]')" \
		'[null,[],{"upstream":[],"downstream":[]},[]]'
}

@test "model show of an unknown model is an error, exit 2" {
	run --separate-stderr cnai model show nosuch
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'nosuch' not found"
	[ -z "$output" ]
}

@test "model show takes exactly one reference" {
	run --separate-stderr cnai model show
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: missing arguments; usage: cnai model show <model>"
	run --separate-stderr cnai model show a b
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: too many arguments; usage: cnai model show <model>"
}

@test "a model whose versions were all removed lists with no latest version" {
	reg digits 1
	cnai model rm digits@1 >/dev/null
	run cnai model ls
	cat >expect <<'EOF'
NAME    VERSIONS  LATEST  ALIASES  CREATED
digits  0         -       -        TIME
EOF
	echo "$output" | untime >actual
	diff -u expect actual
	assert_equal "$(cnai model ls --json | jq -c '.[0] | [.versions, .latest]')" '[0,null]'
	run --separate-stderr cnai model show digits
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model 'digits' has no versions"
}
