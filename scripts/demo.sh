#!/bin/bash
# The main job, end to end: data -> tracked training run -> registered
# model -> promoted alias -> reproducible OCI image -> cosign signature ->
# Kubernetes manifests (validated offline) -> a live inference server ->
# a drift check -> the lineage that ties it together. Runs from the
# repository alone, in a temporary folder it removes afterwards.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CNAI="$ROOT/build/cnai"
DATA="$ROOT/examples/data/iris.csv"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/cnai-demo.XXXXXX")
SERVER_PID=
cleanup() {
	[ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"
export SOURCE_DATE_EPOCH=1700000000 COSIGN_PASSWORD=demo NO_COLOR=1

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "A store: SQLite for metadata, an OCI layout for every file"
run "$CNAI" init

step "Train a model (a tracked run: params, per-epoch metrics, dataset digest)"
run "$CNAI" train --data "$DATA" --target target --model mlp --hidden 16 \
	--epochs 60 --lr 0.01 --valid-split 0.2 --seed 7 --register iris -o model
run "$CNAI" track ls --columns id,name,status,metrics.val_accuracy,params.model

step "Any script can be a tracked run too"
cat >probe.sh <<'SH'
#!/bin/sh
"$CNAI" track log --metric rows="$(($(wc -l <"$1") - 1))" --param source=iris
echo "probed $1"
SH
chmod +x probe.sh
export CNAI
run "$CNAI" track run --name probe --input "$DATA" -- ./probe.sh "$DATA"
run "$CNAI" track ls --filter "params.source = 'iris' AND metrics.rows > 100" \
	--columns id,name,metrics.rows

step "Promote the model: aliases, as MLflow's registry"
run "$CNAI" model alias set iris prod 1
run "$CNAI" model show iris@prod

step "Package it: a reproducible OCI image that runs 'cnai serve' on scratch"
run "$CNAI" package iris@prod
run "$CNAI" package iris@prod --format modelcar
run "$CNAI" package ls

step "Sign it (cosign-compatible) and verify"
run "$CNAI" sign keygen
run "$CNAI" sign image iris:1 --key cosign.key
run "$CNAI" sign verify iris:1 --key cosign.pub >/dev/null
echo "signature verified"
run "$CNAI" sign attest iris:1 --key cosign.key --provenance

step "Deploy: Kubernetes and KServe manifests by digest, validated offline"
run "$CNAI" deploy iris@prod --autoscale hpa --monitor \
	--policy kyverno --key cosign.pub -o manifests/k8s
run "$CNAI" deploy iris@prod --target kserve -o manifests/kserve
run /usr/bin/python3 "$ROOT/tools/k8s-validate" manifests/*/*.yaml

step "Serve it: the Open Inference Protocol on loopback"
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CNAI" -q serve iris@prod --port "$PORT" &
SERVER_PID=$!
for _ in $(seq 100); do
	curl -sf "http://127.0.0.1:$PORT/v2/health/ready" >/dev/null && break
	sleep 0.1
done
run curl -s -X POST "http://127.0.0.1:$PORT/v2/models/iris/infer" \
	-H 'Content-Type: application/json' \
	-d '{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[[5.1,3.5,1.4,0.2],[6.7,3.0,5.2,2.3]]}]}'
echo
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
SERVER_PID=

step "Watch for drift: the same data against a shifted copy"
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } { $1 = $1 * 1.3; print }' "$DATA" >shifted.csv
run "$CNAI" drift "$DATA" shifted.csv --format html -o drift.html
run "$CNAI" drift "$DATA" shifted.csv

step "Lineage: from the data set to the running deployment"
run "$CNAI" lineage iris@prod
run "$CNAI" fsck
echo
echo "demo complete"
