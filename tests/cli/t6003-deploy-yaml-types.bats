#!/usr/bin/env bats
# cnai deploy's YAML reads back as the strings given, in YAML 1.1 readers
# too (PyYAML's safe_load here, go-yaml v2 in kubectl): a value such as
# 1:20 (base 60: 80), yes, off, ~, 0o17, 012, 0x1f, 1_000, .inf,
# 2001-12-14, << or = is quoted, and the manifests stay valid.
load deploy

VALIDATE="$CNAI_ROOT/tools/k8s-validate"

setup_file() {
	deploy_fixture
	echo v2 >m/model.onnx
	"$CNAI_BIN" model register digits m >/dev/null
	"$CNAI_BIN" package digits@2 >/dev/null
}

# Values YAML 1.1 or 1.2 readers take for something other than a string,
# and values whose syntax libyaml has to quote; one per line, C escapes.
TRICKY='1:20
1:20:30
190:20:30.15
-1:20
yes
No
ON
off
y
N
TRUE
False
null
Null
~

0o17
017
089
0x1F
0b101
-0b1
1_000
-_1
0
+12
1.5
.5
1e3
12e+5
1.0E-3
.inf
-.Inf
+.inf
.NaN
+nan
2001-12-14
2001-12-14t21:59:43.10-05:00
2001-12-14 21:59:43.10 -5
=
<<
v1
1.2.3
a: b
- x
#c
it'"'"'s
"q"
{a}
[1]
&a
*a
!!python/object
%x
@x
|
>
 lead
trail 
---
...
? x
{{ .Values.x }}
multi\nline
cr\rx
tab\tx
nel\xc2\x85x
ls\xe2\x80\xa8x
bom\xef\xbb\xbfx
caf\xc3\xa9'

# Label values (and keys) that are valid labels yet look like other types.
LABELY='yes
No
on
OFF
y
N
true
False
null
NULL
0
012
089
0o17
0x1F
0b101
1_000
1e3
1.5
1.0
2001-12-14
1-2'

@test "every env value and annotation comes back from PyYAML as the exact string" {
	args=()
	i=0
	while IFS= read -r v; do
		v=$(printf '%b' "$v")
		args+=(--env "V$i=$v" --annotation "a$i=$v")
		i=$((i + 1))
	done <<<"$TRICKY"
	cnai deploy digits@1 "${args[@]}" >out.yaml
	validate_all=$("$VALIDATE" -q out.yaml 2>&1) || { echo "$validate_all" >&2; false; }
	printf '%s\n' "$TRICKY" >tricky.txt
	run /usr/bin/python3 -c '
import codecs, sys, yaml
want = [codecs.escape_decode(l.encode())[0].decode() for l in open("tricky.txt").read().split("\n")[:-1]]
d = [x for x in yaml.safe_load_all(open("out.yaml")) if x["kind"] == "Deployment"][0]
env = {e["name"]: e["value"] for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
ann = d["metadata"]["annotations"]
bad = [(w, env["V%d" % i], ann["a%d" % i]) for i, w in enumerate(want)
       if env["V%d" % i] != w or ann["a%d" % i] != w
       or type(env["V%d" % i]) is not str or type(ann["a%d" % i]) is not str]
print(len(want), "values", bad)'
	assert_equal "$output" "70 values []"
}

@test "labels and node selectors that look like bools, numbers or dates stay strings" {
	args=()
	while IFS= read -r v; do
		args+=(--label "$v=$v" --node-selector "$v=$v")
	done <<<"$LABELY"
	cnai deploy digits@1 --target knative "${args[@]}" >kn.yaml
	cnai deploy digits@1 "${args[@]}" >out.yaml
	"$VALIDATE" -q out.yaml kn.yaml
	printf '%s\n' "$LABELY" >labely.txt
	run /usr/bin/python3 -c '
import yaml
want = open("labely.txt").read().split()
bad = []
for f in ("out.yaml", "kn.yaml"):
    for d in yaml.safe_load_all(open(f)):
        maps = [d["metadata"]["labels"]]
        if d["kind"] in ("Deployment", "Service") and "template" in d["spec"]:
            maps.append(d["spec"]["template"]["metadata"]["labels"])
            maps.append(d["spec"]["template"]["spec"]["nodeSelector"])
        for m in maps:
            for w in want:
                if m.get(w) != w or any(type(k) is not str for k in m):
                    bad.append((f, d["kind"], w, m.get(w)))
print(len(want), "labels", bad)'
	assert_equal "$output" "22 labels []"
}

@test "promote and rollback keep strings strings when they re-emit the canary" {
	cnai deploy digits@2 --canary 20 --stable digits@1 --replicas 5 \
		--env 'T=1:20' --env 'B=yes' --label 'v=0o17' >/dev/null
	cnai deploy promote digits >p.yaml
	cnai deploy rollback digits >r.yaml
	"$VALIDATE" -q p.yaml
	"$VALIDATE" -q r.yaml
	run /usr/bin/python3 -c '
import yaml
for f in ("p.yaml", "r.yaml"):
    for d in yaml.safe_load_all(open(f)):
        if d["kind"] == "Deployment":
            env = d["spec"]["template"]["spec"]["containers"][0]["env"]
            print(d["metadata"]["name"], [(e["name"], e["value"]) for e in env], repr(d["metadata"]["labels"]["v"]), d["spec"]["replicas"])'
	cat >expect <<'TXT'
digits-stable [('T', '1:20'), ('B', 'yes')] '0o17' 5
digits-canary [('T', '1:20'), ('B', 'yes')] '0o17' 0
digits-stable [('T', '1:20'), ('B', 'yes')] '0o17' 5
digits-canary [('T', '1:20'), ('B', 'yes')] '0o17' 0
TXT
	assert_equal "$output" "$(cat expect)"
}

@test "sweep values stay numbers when they are numbers and strings otherwise" {
	printf 'data: d.csv\ntarget: label\n' >train.yaml
	cnai deploy train-job train.yaml --image digits:1 --sweep lr=0.1,0.001 \
		--sweep optimizer=yes,1:20 >sweep.yaml
	"$VALIDATE" -q sweep.yaml
	run /usr/bin/python3 -c '
import yaml
cm = [d for d in yaml.safe_load_all(open("sweep.yaml")) if d["kind"] == "ConfigMap"][0]
for i in range(4):
    p = yaml.safe_load(cm["data"]["point-%d.yaml" % i])
    print(repr(p["lr"]), repr(p["optimizer"]))'
	cat >expect <<'TXT'
0.1 'yes'
0.001 'yes'
0.1 '1:20'
0.001 '1:20'
TXT
	assert_equal "$output" "$(cat expect)"
}

@test "a KEDA threshold and GPU resource name are strings where the schema wants strings" {
	cnai deploy digits@1 --autoscale keda --keda-threshold 50 --gpu 1 \
		--gpu-resource example.com/accel_1 >out.yaml
	"$VALIDATE" -q out.yaml
	run /usr/bin/python3 -c '
import yaml
for d in yaml.safe_load_all(open("out.yaml")):
    if d["kind"] == "ScaledObject":
        print(repr(d["spec"]["triggers"][0]["metadata"]["threshold"]))
    if d["kind"] == "Deployment":
        print(repr(d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["example.com/accel_1"]))'
	assert_equal "$output" "$(printf "1\n'50'")"
}
