#!/usr/bin/env bats
# cnai deploy: every target and option combination is validated by the
# offline strict schema validator (tools/k8s-validate); images are
# by the digest cnai package recorded; values can never change structure.
load deploy

VALIDATE="$CNAI_ROOT/tools/k8s-validate"

setup_file() {
	export COSIGN_PASSWORD=x
	deploy_fixture
	"$CNAI_BIN" package digits --format modelcar >/dev/null
	echo v2 >m/model.onnx
	"$CNAI_BIN" model register digits m >/dev/null
	"$CNAI_BIN" package digits@2 >/dev/null
	"$CNAI_BIN" sign keygen >/dev/null 2>&1
}

validate() {
	run "$VALIDATE" -q "$@"
	if [ "$status" -ne 0 ]; then
		echo "$output" >&2
		return 1
	fi
}

serve_digest() {
	cnai package ls --json | jq -r '.[] | select(.tag == "digits:1") | .digest'
}

@test "k8s output is valid and complete, images by the packaged digest" {
	cnai deploy digits@1 >out.yaml
	validate out.yaml

	assert_equal "$(grep '^kind:' out.yaml | tr '\n' ' ')" "kind: ServiceAccount kind: Deployment kind: Service kind: PodDisruptionBudget kind: NetworkPolicy "
	assert_equal "$(grep 'image:' out.yaml | sed 's/.*image: //')" "digits@$(serve_digest)"
}

@test "the Deployment is hardened and probes the inference protocol" {
	cnai deploy digits@1 >out.yaml
	run /usr/bin/python3 -c '
import sys, yaml
d = [x for x in yaml.safe_load_all(open("out.yaml")) if x["kind"] == "Deployment"][0]
c = d["spec"]["template"]["spec"]["containers"][0]
s = c["securityContext"]
print(s["runAsNonRoot"], s["readOnlyRootFilesystem"], s["allowPrivilegeEscalation"], s["capabilities"]["drop"])
print(d["spec"]["template"]["spec"]["securityContext"]["seccompProfile"]["type"])
print(c["readinessProbe"]["httpGet"]["path"], c["livenessProbe"]["httpGet"]["path"])'
	assert_equal "$output" "$(printf "True True False ['ALL']\nRuntimeDefault\n/v2/health/ready /v2/health/live")"
}

@test "every target and option combination validates" {
	cnai deploy digits@1 --target kserve >a.yaml && validate a.yaml
	cnai deploy digits@1 --target kserve --min-replicas 0 --max-replicas 4 --scale-metric concurrency --scale-target 10 --canary 10 >b.yaml && validate b.yaml
	cnai deploy digits@1 --target knative --min-scale 0 --concurrency 20 >c.yaml && validate c.yaml
	cnai deploy digits@1 --target seldon >d.yaml && validate d.yaml
	cnai deploy digits@1 --autoscale hpa --min-replicas 2 --max-replicas 9 --target-cpu 60 --monitor >e.yaml && validate e.yaml
	cnai deploy digits@1 --autoscale keda --keda-threshold 50 >f.yaml && validate f.yaml
	cnai deploy digits@1 --gpu 2 --node-selector accelerator=a100 --cpu 2 --memory 4Gi --env A=1 --label team=vision --annotation owner=ml --replicas 3 --port 9000 --namespace prod >g.yaml && validate g.yaml
	cnai deploy digits@1 --policy sigstore --key cosign.pub >h.yaml && validate h.yaml
	cnai deploy digits@1 --policy kyverno --key cosign.pub >i.yaml && validate i.yaml
	cnai deploy digits@2 --canary 20 --stable digits@1 --replicas 5 >j.yaml && validate j.yaml
	cnai deploy digits@1 --target kserve --gpu 1 >k.yaml && validate k.yaml
}

@test "kserve serves the modelcar by digest as an ONNX model" {
	cnai deploy digits@1 --target kserve >out.yaml
	mc=$(cnai package ls --json | jq -r '.[] | select(.tag == "digits:1-modelcar") | .digest')
	grep -q "storageUri: oci://digits@$mc" out.yaml
	grep -q "name: onnx" out.yaml
}

@test "--gpu asks nvidia.com/gpu limits and tolerates GPU nodes" {
	cnai deploy digits@1 --gpu 2 --node-selector accelerator=a100 >out.yaml
	grep -q 'nvidia.com/gpu: 2' out.yaml
	grep -q 'key: nvidia.com/gpu' out.yaml
	grep -q 'accelerator: a100' out.yaml
	cnai deploy digits@1 --gpu 1 --gpu-resource amd.com/gpu >amd.yaml
	grep -q 'amd.com/gpu: 1' amd.yaml
	validate amd.yaml
}

@test "a canary splits replicas in the ratio behind one Service" {
	cnai deploy digits@2 --canary 20 --stable digits@1 --replicas 5 >out.yaml
	run /usr/bin/python3 -c '
import yaml
for d in yaml.safe_load_all(open("out.yaml")):
    if d["kind"] == "Deployment":
        print(d["metadata"]["name"], d["spec"]["replicas"], d["metadata"]["labels"]["track"])
    if d["kind"] == "Service":
        print("service selects", sorted(d["spec"]["selector"]))'
	assert_equal "$output" "$(printf 'digits-stable 4 stable\ndigits-canary 1 canary\nservice selects [%s]' "'app.kubernetes.io/name'")"
}

@test "promote and rollback finish a canary from the recorded history" {
	cnai deploy digits@2 --canary 20 --stable digits@1 --replicas 5 >/dev/null
	new=$(cnai package ls --json | jq -r '.[] | select(.tag == "digits:2") | .digest')
	cnai deploy promote digits >p.yaml
	validate p.yaml
	run /usr/bin/python3 -c '
import yaml
for d in yaml.safe_load_all(open("p.yaml")):
    if d["kind"] == "Deployment":
        print(d["metadata"]["name"], d["spec"]["replicas"], d["spec"]["template"]["spec"]["containers"][0]["image"].split("@")[1])'
	assert_equal "$output" "$(printf 'digits-stable 5 %s\ndigits-canary 0 %s' "$new" "$new")"
	cnai deploy rollback digits >r.yaml
	grep -c 'replicas: 5' r.yaml
}

@test "hostile values stay one scalar" {
	cnai deploy digits@1 --env $'EVIL=a\nb: c' --env 'T={{ .Values.x }}' --env 'TAG=!!python/object' \
		--annotation 'note=key: value # not a comment' --label 'x=yes' >out.yaml
	validate out.yaml
	run /usr/bin/python3 -c '
import yaml
d = [x for x in yaml.safe_load_all(open("out.yaml")) if x["kind"] == "Deployment"][0]
env = {e["name"]: e["value"] for e in d["spec"]["template"]["spec"]["containers"][0]["env"]}
print(repr(env["EVIL"]), repr(env["T"]), repr(env["TAG"]))
print(repr(d["metadata"]["annotations"]["note"]), repr(d["metadata"]["labels"]["x"]))'
	cat >expect <<'TXT'
'a\nb: c' '{{ .Values.x }}' '!!python/object'
'key: value # not a comment' 'yes'
TXT
	assert_equal "$output" "$(cat expect)"
}

@test "the same inputs give byte-identical YAML" {
	cnai deploy digits@1 --target kserve --autoscale hpa >a.yaml 2>/dev/null || cnai deploy digits@1 --target kserve >a.yaml
	cnai deploy digits@1 --target kserve >b.yaml
	cnai deploy digits@1 --target kserve >c.yaml
	cmp b.yaml c.yaml
}

@test "-o DIR writes one file per object" {
	cnai deploy digits@1 --monitor -o out
	run ls out
	assert_equal "$output" "$(printf '01-serviceaccount-digits.yaml\n02-deployment-digits.yaml\n03-service-digits.yaml\n04-poddisruptionbudget-digits.yaml\n05-networkpolicy-digits.yaml\n06-servicemonitor-digits.yaml')"
	validate out/*.yaml
}

@test "the deployment shows in the lineage of the model" {
	cnai deploy digits@1 -o out 2>/dev/null
	run cnai lineage digits@1 --down --format json
	assert_equal "$(echo "$output" | jq -r '[.nodes[].kind] | sort | unique | join(",")')" "deployment,image,model_version"
}

@test "--templates overrides a template by file name" {
	mkdir t
	sed 's/protocol: TCP/protocol: TCP/; s/type: ClusterIP/type: NodePort/' "$CNAI_ROOT/templates/k8s/service.yaml" >t/service.yaml
	cnai deploy digits@1 --templates t >out.yaml
	grep -q 'type: NodePort' out.yaml
	validate out.yaml
}

@test "a template that is not valid YAML is an error naming the file" {
	mkdir t
	printf 'apiVersion: v1\nkind: [Service\n' >t/service.yaml
	before=$(store_state)
	run --separate-stderr cnai deploy digits@1 --templates t
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "cnai: error: t/service.yaml:"
	assert_equal "$(store_state)" "$before"
}

@test "a model never packaged says to run cnai package, nothing recorded" {
	echo w >x.onnx
	cnai model register other x.onnx >/dev/null
	before=$(store_state)
	run --separate-stderr cnai deploy other
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: model other@1 has never been packaged; run 'cnai package other@1' (and 'cnai package push' to a registry)"
	assert_equal "$(store_state)" "$before"
}

@test "bad names, percentages and counts are refused, nothing recorded" {
	before=$(store_state)
	run --separate-stderr cnai deploy digits@1 --name Bad_Name
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --name 'Bad_Name' is not a DNS-1035 label: it has a character other than a-z 0-9 '-'"
	run --separate-stderr cnai deploy digits@1 --canary 150
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --canary: 150 is not 0 to 100"
	run --separate-stderr cnai deploy digits@1 --gpu -1
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --gpu: -1 is not 0 to 64"
	run --separate-stderr cnai deploy digits@1 --policy kyverno
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --policy needs --key cosign.pub"
	assert_equal "$(store_state)" "$before"
}

@test "--apply pipes the manifests to kubectl with server-side apply" {
	mkdir bin
	cat >bin/kubectl <<'SH'
#!/bin/sh
echo "$@" >"$KUBECTL_LOG.args"
cat >"$KUBECTL_LOG.stdin"
SH
	chmod +x bin/kubectl
	export KUBECTL_LOG="$TEST_DIR/kubectl"
	PATH="$TEST_DIR/bin:$PATH" cnai deploy digits@1 --apply --context prod-cluster 2>/dev/null
	assert_equal "$(cat kubectl.args)" "--context=prod-cluster apply --server-side --field-manager cnai -f -"
	cnai deploy digits@1 >expect.yaml
	diff -u expect.yaml kubectl.stdin
}

@test "--apply --dry-run prints the command and the manifests only" {
	run cnai deploy digits@1 --apply --dry-run
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | head -1)" "# kubectl apply --server-side --field-manager cnai -f -"
}

@test "--apply without kubectl on PATH is a clear error" {
	mkdir empty
	run --separate-stderr env PATH="$TEST_DIR/empty" "$CNAI_BIN" deploy digits@1 --apply
	[ "$status" -eq 2 ]
	assert_equal "$stderr" "cnai: error: --apply: kubectl not found on PATH; install it or drop --apply and use the manifests"
}

@test "train-job: a Job, an Indexed Job for a sweep, a CronJob, a PyTorchJob" {
	printf 'data: d.csv\ntarget: label\nepochs: 5\n' >train.yaml
	cnai deploy train-job train.yaml --image digits:1 >job.yaml && validate job.yaml
	cnai deploy train-job train.yaml --image digits:1 --sweep lr=0.1,0.01 --sweep hidden=64,128 >sweep.yaml && validate sweep.yaml
	grep -q 'completionMode: Indexed' sweep.yaml
	grep -q 'completions: 4' sweep.yaml
	grep -q 'point-3.yaml' sweep.yaml
	cnai deploy train-job train.yaml --image digits:1 --schedule '0 3 * * *' >cron.yaml && validate cron.yaml
	cnai deploy train-job train.yaml --image digits:1 --kind pytorchjob >pt.yaml && validate pt.yaml
	cnai deploy train-job train.yaml --image digits:1 --gpu 1 >gpu.yaml && validate gpu.yaml
}
