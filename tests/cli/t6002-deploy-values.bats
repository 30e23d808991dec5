#!/usr/bin/env bats
# cnai deploy checks every value a user gives with Kubernetes' own rules
# (core/deploy/validate.c): a value the API server would refuse is refused
# with status 2, a message naming the flag, the value and the rule, and
# nothing written (no manifest, no file under -o, the store unchanged).
load deploy

setup_file() {
	deploy_fixture
	printf 'data: d.csv\ntarget: label\n' >train.yaml
}

# refused MESSAGE ARGS...: `cnai deploy ARGS -o out` exits 2 with
# "cnai: error: MESSAGE" alone on stderr, nothing on stdout, no out/,
# and the store as it was.
refused() {
	local want=$1 before
	shift
	before=$(store_state)
	run --separate-stderr "$CNAI_BIN" deploy "$@" -o out
	if [ "$status" -ne 2 ]; then
		echo "status $status for: $*" >&2
		return 1
	fi
	assert_equal "$stderr" "cnai: error: $want"
	assert_equal "$output" ""
	[ ! -e out ]
	assert_equal "$(store_state)" "$before"
}

@test "names and namespaces that are not DNS labels are refused" {
	refused "--name 'Bad_Name' is not a DNS-1035 label: it has a character other than a-z 0-9 '-'" \
		digits@1 --name Bad_Name
	refused "--name '9lives' is not a DNS-1035 label: it does not start with a letter a-z" \
		digits@1 --name 9lives
	long=$(printf 'a%.0s' {1..64})
	refused "--name '$long' is not a DNS-1035 label: it is longer than 63 characters" \
		digits@1 --name "$long"
	refused "--namespace 'Prod' is not a DNS-1123 label: it has a character other than a-z 0-9 '-'" \
		digits@1 --namespace Prod
	refused "--namespace 'a\\nb' is not a DNS-1123 label: it has a character other than a-z 0-9 '-'" \
		digits@1 --namespace $'a\nb'
	refused "name 'Bad' is not a DNS-1035 label: it has a character other than a-z 0-9 '-'" \
		promote Bad
}

@test "a namespace may start with a digit, as DNS-1123 allows" {
	cnai deploy digits@1 --namespace 1prod >out.yaml
	"$CNAI_ROOT/tools/k8s-validate" -q out.yaml
	grep -q 'namespace: 1prod' out.yaml
}

@test "label and node selector keys and values follow the label rules" {
	refused "--label 'a b=x': the key 'a b' is not a qualified name (label or annotation key): its name has a character other than A-Z a-z 0-9 '-' '_' '.'" \
		digits@1 --label 'a b=x'
	refused "--label 'k=a\\nb': the value 'a\\nb' is not a label value: it has a character other than A-Z a-z 0-9 '-' '_' '.'" \
		digits@1 --label $'k=a\nb'
	v64=$(printf 'v%.0s' {1..64})
	refused "--label 'k=$v64': the value '$v64' is not a label value: it is longer than 63 characters" \
		digits@1 --label "k=$v64"
	refused "--label 'k=-x': the value '-x' is not a label value: it does not start and end with a letter or digit" \
		digits@1 --label 'k=-x'
	refused "--label 'Team.io/x=1': the key 'Team.io/x' is not a qualified name (label or annotation key): its prefix is not a DNS-1123 subdomain: it has a character other than a-z 0-9 '-' '.'" \
		digits@1 --label 'Team.io/x=1'
	refused "--label 'a/b/c=1': the key 'a/b/c' is not a qualified name (label or annotation key): its name has a character other than A-Z a-z 0-9 '-' '_' '.'" \
		digits@1 --label 'a/b/c=1'
	refused "--label 'team' is not KEY=VALUE" digits@1 --label team
	refused "--node-selector 'accelerator=a 100': the value 'a 100' is not a label value: it has a character other than A-Z a-z 0-9 '-' '_' '.'" \
		digits@1 --node-selector 'accelerator=a 100'
}

@test "annotation keys are qualified names and values UTF-8" {
	refused "--annotation 'bad key=x': the key 'bad key' is not a qualified name (label or annotation key): its name has a character other than A-Z a-z 0-9 '-' '_' '.'" \
		digits@1 --annotation 'bad key=x'
	refused "--annotation 'a=\\xff': the value '\\xff' is not UTF-8 text: it is not valid UTF-8" \
		digits@1 --annotation $'a=\xff'
}

@test "environment variable names are C identifiers and values UTF-8" {
	refused "--env 'A B=1': the name 'A B' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*): it has a character other than A-Z a-z 0-9 '_'" \
		digits@1 --env 'A B=1'
	refused "--env 'A\\nB=1': the name 'A\\nB' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*): it has a character other than A-Z a-z 0-9 '_'" \
		digits@1 --env $'A\nB=1'
	refused "--env '1A=x': the name '1A' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*): it starts with a digit" \
		digits@1 --env 1A=x
	refused "--env 'A=\\xc3': the value '\\xc3' is not UTF-8 text: it is not valid UTF-8" \
		digits@1 --env $'A=\xc3'
	refused "--env '=x' is not KEY=VALUE" digits@1 --env =x
}

@test "cpu and memory requests are Kubernetes quantities" {
	refused "--cpu 'lots' is not a quantity (as 500m, 2, 1.5Gi, 1e3): it does not start with a number" \
		digits@1 --cpu lots
	refused "--memory '1Gi';' is not a quantity (as 500m, 2, 1.5Gi, 1e3): its suffix is not one of n u m k M G T P E, Ki Mi Gi Ti Pi Ei or an exponent e<n>" \
		digits@1 --memory "1Gi';"
	refused "--memory '1gb' is not a quantity (as 500m, 2, 1.5Gi, 1e3): its suffix is not one of n u m k M G T P E, Ki Mi Gi Ti Pi Ei or an exponent e<n>" \
		digits@1 --memory 1gb
	refused "--cpu '-1' is not a quantity (as 500m, 2, 1.5Gi, 1e3): it is negative" \
		digits@1 --cpu -1
	refused "--cpu '2\\n' is not a quantity (as 500m, 2, 1.5Gi, 1e3): its suffix is not one of n u m k M G T P E, Ki Mi Gi Ti Pi Ei or an exponent e<n>" \
		digits@1 --cpu $'2\n'
}

@test "every quantity form Kubernetes parses is accepted" {
	for q in 500m 2 1.5 .5 +1 1e3 1E-1 100n 1k 1Gi 128Mi 2Ti; do
		cnai deploy digits@1 --cpu "$q" --memory "$q" >out.yaml
		"$CNAI_ROOT/tools/k8s-validate" -q out.yaml
	done
}

@test "--gpu-resource is an extended resource name" {
	refused "--gpu-resource 'amd.com/gpu\\n' is not an extended resource name: its name has a character other than A-Z a-z 0-9 '-' '_' '.'" \
		digits@1 --gpu 1 --gpu-resource $'amd.com/gpu\n'
	refused "--gpu-resource 'gpu' is not an extended resource name: it has no domain: an extended resource is <domain>/<name>, as nvidia.com/gpu" \
		digits@1 --gpu 1 --gpu-resource gpu
	refused "--gpu-resource 'kubernetes.io/gpu' is not an extended resource name: the kubernetes.io domain is kept for native resources" \
		digits@1 --gpu 1 --gpu-resource kubernetes.io/gpu
}

@test "--image is an image reference without whitespace" {
	refused "--image 'digits\\nkind: Secret' is not an image reference: it has whitespace or a control character" \
		digits@1 --image $'digits\nkind: Secret'
	refused "--image 'Digits:1' is not an image reference: the repository has a character other than a-z 0-9 . _ - /" \
		digits@1 --image Digits:1
	refused "--image 'ghcr.io/x:' is not an image reference: the tag is empty or over 128 characters" \
		digits@1 --image ghcr.io/x:
	refused "--image 'reg_istry:5000/x' is not an image reference: its registry is not a host name or [IPv6] address with an optional :port" \
		digits@1 --image reg_istry:5000/x
	refused "--image 'digits\\n' is not an image reference: it has whitespace or a control character" \
		train-job train.yaml --image $'digits\n'
}

@test "--keda-threshold is a number greater than 0" {
	refused "--keda-threshold '50\\n' is not a number greater than 0: it is not a number such as 50 or 0.5" \
		digits@1 --autoscale keda --keda-threshold $'50\n'
	refused "--keda-threshold 'lots' is not a number greater than 0: it is not a number such as 50 or 0.5" \
		digits@1 --autoscale keda --keda-threshold lots
	refused "--keda-threshold '0' is not a number greater than 0: it is 0" \
		digits@1 --autoscale keda --keda-threshold 0
}

@test "--context is one line" {
	refused "--context 'prod\\nkind: Secret' is not one line of text: it has a control character" \
		digits@1 --apply --dry-run --context $'prod\nkind: Secret'
}

@test "train-job: --schedule is a cron schedule Kubernetes parses" {
	refused "--schedule '61 * * * *' is not a cron schedule: its minute field '61' is not *, ?, a value 0-59, a range a-b or a list of them, each with an optional /step" \
		train-job train.yaml --image digits:1 --schedule '61 * * * *'
	refused "--schedule '0 3 * * *\\nkind: x' is not a cron schedule: it has a control character" \
		train-job train.yaml --image digits:1 --schedule $'0 3 * * *\nkind: x'
	refused "--schedule 'TZ=UTC 0 3 * * *' is not a cron schedule: it names a time zone (TZ=, CRON_TZ=): a CronJob takes that in its timeZone field" \
		train-job train.yaml --image digits:1 --schedule 'TZ=UTC 0 3 * * *'
	refused "--schedule 'daily' is not a cron schedule: it does not have 5 fields (minute hour day-of-month month day-of-week)" \
		train-job train.yaml --image digits:1 --schedule daily
	long=$(printf 'a%.0s' {1..53})
	refused "--name '$long' is not a CronJob name: it is longer than 52 characters (its Jobs add 11)" \
		train-job train.yaml --image digits:1 --schedule @daily --name "$long"
}

@test "train-job: cron descriptors and ranges are accepted" {
	for c in '@daily' '@every 1h30m' '*/15 9-17 * JAN-MAR mon-fri' '0 0 1,15 * ?'; do
		cnai deploy train-job train.yaml --image digits:1 --schedule "$c" >cron.yaml
		"$CNAI_ROOT/tools/k8s-validate" -q cron.yaml
	done
}

@test "train-job: --sweep names a train option and lists non-empty values" {
	refused "--sweep 'lr=0.1,,0.2': the value '0.1,,0.2' is not a list of values V1,V2,...: it has an empty value" \
		train-job train.yaml --image digits:1 --sweep 'lr=0.1,,0.2'
	refused "--sweep 'lr=,': the value ',' is not a list of values V1,V2,...: it has an empty value" \
		train-job train.yaml --image digits:1 --sweep 'lr=,'
	refused "--sweep 'LR=1': the key 'LR' is not a train option name: it does not start with a letter a-z" \
		train-job train.yaml --image digits:1 --sweep 'LR=1'
	refused "--sweep 'l r=1': the key 'l r' is not a train option name: it has a character other than a-z 0-9 '-' '_'" \
		train-job train.yaml --image digits:1 --sweep 'l r=1'
}

@test "a --key file that is not text is not a public key" {
	printf -- '-----BEGIN PUBLIC KEY-----\n\0\n' >bin.pub
	refused "bin.pub: not a PEM public key" digits@1 --policy kyverno --key bin.pub
}
