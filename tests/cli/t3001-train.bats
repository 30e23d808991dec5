#!/usr/bin/env bats
# cnai train: the model folder, the tracked run, determinism, config files,
# early stopping, categorical and missing values, the registry.
load lib

setup() {
	setup_common
	cnai init >/dev/null
	IRIS=$DATA/iris.csv
	DIABETES=$DATA/diabetes.csv
}

@test "train writes model.onnx, model.safetensors and cnai-model.json" {
	run --separate-stderr cnai train --data "$IRIS" --target target -o m --epochs 5
	[ "$status" -eq 0 ]
	assert_contains "$output" "softmax classification, 5 epochs on 120 rows"
	assert_contains "$output" "model written to m"
	[ -s m/model.onnx ] && [ -s m/model.safetensors ] && [ -s m/cnai-model.json ]
	run jq -r '.model, .task, (.features | map(.name) | join(",")), (.target.classes | join(",")), has("run")' m/cnai-model.json
	assert_equal "${lines[0]}" softmax
	assert_equal "${lines[1]}" classification
	assert_equal "${lines[2]}" "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm"
	assert_equal "${lines[3]}" "0,1,2"
	assert_equal "${lines[4]}" false
}

@test "the run is FINISHED with every option as a param and metrics per epoch" {
	cnai train --data "$IRIS" --target target -o m --hidden 8 --epochs 4 --lr 0.01 --seed 3 --name iris-mlp >/dev/null
	assert_equal "$(run_field iris-mlp status)" FINISHED
	run cnai track show iris-mlp --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r '.params.lr, .params.hidden, .params.epochs, .params.seed, .params.optimizer, .params.batch_size, .params.model_kind')" "$(printf '0.01\n8\n4\n3\nadam\n32\nmlp')"
	run cnai track metrics iris-mlp --json
	for k in train_loss val_loss val_accuracy samples_per_second epoch_seconds; do
		n=$(echo "$output" | jq "[.. | objects | select(.key? == \"$k\")] | length")
		[ "$n" -eq 4 ] || { echo "$k: $n points"; false; }
	done
}

@test "the same seed gives bit-identical weights and metrics" {
	cnai train --data "$IRIS" --target target -o a --hidden 16,8 --epochs 6 --seed 7 --dropout 0.1 --json >a.json
	cnai train --data "$IRIS" --target target -o b --hidden 16,8 --epochs 6 --seed 7 --dropout 0.1 --json >b.json
	cmp a/model.safetensors b/model.safetensors
	cmp a/model.onnx b/model.onnx
	assert_equal "$(jq -c .metrics a.json)" "$(jq -c .metrics b.json)"
	cnai train --data "$IRIS" --target target -o c --hidden 16,8 --epochs 6 --seed 8 >/dev/null
	! cmp -s a/model.safetensors c/model.safetensors
}

@test "each input file is a dataset with an edge to the run" {
	awk 'NR == 1 || NR % 3' "$IRIS" >train.csv
	awk 'NR == 1 || NR % 3 == 0' "$IRIS" >valid.csv
	cnai train --data train.csv --valid valid.csv --test valid.csv --target target -o m --epochs 2 --name r1 >/dev/null
	run cnai lineage r1 --up --json
	[ "$status" -eq 0 ]
	d=$(sha256sum train.csv | cut -d' ' -f1)
	assert_contains "$output" "sha256:$d"
	assert_contains "$output" "sha256:$(sha256sum valid.csv | cut -d' ' -f1)"
	assert_equal "$(jq -r '.datasets | map(.role) | join(",")' m/cnai-model.json)" "train,valid,test"
	run cnai track show r1 --json
	echo "$output" | jq -e '.metrics.test_accuracy != null' >/dev/null
}

@test "-f reads options from YAML; the command line overrides them" {
	cat >train.yaml <<YAML
data: $IRIS
target: target
hidden: [8, 4]
activation: tanh
epochs: 3
lr: 0.02
output: fromfile
YAML
	run --separate-stderr cnai train -f train.yaml --epochs 2 --name y1
	[ "$status" -eq 0 ]
	assert_contains "$output" "mlp classification, 2 epochs"
	assert_equal "$(jq -r '.activation, (.hidden | join(","))' fromfile/cnai-model.json)" "$(printf 'tanh\n8,4')"
	assert_equal "$(run_field y1 params.lr)" 0.02
	echo "bogus: 1" >>train.yaml
	run --separate-stderr cnai train -f train.yaml
	[ "$status" -eq 2 ]
	assert_contains "$stderr" "train.yaml:8: unknown key 'bogus'"
}

@test "early stopping ends training and keeps the best epoch's weights" {
	run --separate-stderr cnai train --data "$IRIS" --target target -o m --hidden 32 --lr 0.3 --optimizer sgd --epochs 200 --early-stopping 3 --json
	[ "$status" -eq 0 ]
	epochs=$(echo "$output" | jq .epochs)
	[ "$epochs" -lt 200 ]
	best=$(jq .best_epoch m/cnai-model.json)
	assert_equal "$(jq .epochs_trained m/cnai-model.json)" "$epochs"
	[ "$best" -eq $((epochs - 3)) ]
	# the model's val_loss is the lowest logged
	min=$(cnai track metrics "$(echo "$output" | jq -r .run)" --json | jq '[.. | objects | select(.key? == "val_loss") | .value] | min')
	assert_equal "$(echo "$output" | jq .metrics.val_loss)" "$min"
}

@test "string columns are one-hot encoded and empty cells imputed" {
	{
		echo "size,colour,weight,label"
		for i in $(seq 1 60); do
			c=$([ $((i % 3)) -eq 0 ] && echo red || echo blue)
			w=$([ $((i % 10)) -eq 0 ] && echo "" || echo $((i % 7)))
			l=$([ "$c" = red ] && echo yes || echo no)
			echo "$i,$c,$w,$l"
		done
	} >cat.csv
	run --separate-stderr cnai train --data cat.csv --target label -o m --epochs 30 --lr 0.1
	[ "$status" -eq 0 ]
	assert_contains "$output" "logistic classification"
	assert_contains "$stderr" "empty cells imputed"
	assert_equal "$(jq -r '.features[] | .name + ":" + .type' m/cnai-model.json | tr '\n' ' ')" "size:number weight:number colour:string "
	assert_equal "$(jq -r '.features[2].categories | join(",")' m/cnai-model.json)" "blue,red"
	printf 'size,colour,weight\n3,red,1\n4,green,\n' >new.csv
	run --separate-stderr cnai predict m --data new.csv
	[ "$status" -eq 0 ]
	assert_equal "${lines[1]}" yes
	assert_contains "$stderr" "1 cells held categories unseen in training"
}

@test "--register makes a model version; predict and eval take the reference" {
	run --separate-stderr cnai train --data "$IRIS" --target target --register iris --epochs 20 --lr 0.05
	[ "$status" -eq 0 ]
	assert_contains "$output" "registered iris version 1"
	[ ! -e m ]
	run --separate-stderr cnai predict iris@1 --data "$IRIS"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 151 ]
	run --separate-stderr cnai eval iris --data "$IRIS" --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq .rows)" 150
	run cnai lineage iris@1 --up --json
	assert_contains "$output" "dataset"
}

@test "train inside 'track run' logs to that run and leaves ending it to track" {
	cnai_on_path
	run --separate-stderr cnai track run --name outer -- cnai train --data "$IRIS" --target target -o m --epochs 2
	[ "$status" -eq 0 ]
	assert_equal "$(run_field outer status)" FINISHED
	assert_equal "$(run_field outer params.epochs)" 2
	[ "$(cnai track ls --json | jq length)" -eq 1 ]
}

@test "--device auto trains on the CPU in silence when no GPU answers" {
	if [ -e "$CNAI_ROOT/build/libcnai-cuda.so" ] && nvidia-smi >/dev/null 2>&1; then
		skip "a GPU answers here"
	fi
	run --separate-stderr cnai train --data "$IRIS" --target target -o m --epochs 1
	[ "$status" -eq 0 ]
	assert_equal "$stderr" ""
	before=$(store_state)
	run --separate-stderr cnai train --data "$IRIS" --target target -o m2 --epochs 1 --device cuda
	[ "$status" -eq 3 ]
	assert_contains "$stderr" "cnai: error: --device cuda: "
	assert_equal "$(store_state)" "$before"
	run --separate-stderr cnai -q train --data "$IRIS" --target target -o m3 --epochs 1 --device cpu
	[ -z "$stderr" ]
}

@test "--sweep runs one child run per combination and reports the best" {
	run --separate-stderr cnai train --data "$IRIS" --target target -o sw --epochs 3 --name grid --sweep lr=0.01,0.1 --sweep hidden=4,8 --parallel 2 --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq '.runs | length')" 4
	best=$(echo "$output" | jq -r .best)
	[ -d "sw/$best" ]
	assert_equal "$(run_field grid status)" FINISHED
	[ "$(cnai track ls --json | jq '[.[] | select(.status == "FINISHED")] | length')" -eq 5 ]
	cnai track compare $(echo "$output" | jq -r '.runs[].run') >/dev/null
}

@test "a sweep can come from the YAML file" {
	cat >sweep.yaml <<YAML
data: $IRIS
target: target
epochs: 2
output: runs
sweep:
  lr: [0.01, 0.05, 0.1]
YAML
	run --separate-stderr cnai train -f sweep.yaml --json
	[ "$status" -eq 0 ]
	assert_equal "$(echo "$output" | jq -r '[.runs[].params.lr] | join(" ")')" "0.01 0.05 0.1"
	[ "$(ls runs | wc -l)" -eq 3 ]
}

@test "SIGINT while training ends the run KILLED, exit 130, never RUNNING" {
	# the binary itself in the background (not the cnai function, whose
	# subshell would get the signal); bounded, should the signal be lost
	timeout 60 "$CNAI_BIN" train --data "$IRIS" --target target -o m --hidden 64 --epochs 20000 --name long 2>err &
	pid=$!
	for _ in $(seq 50); do
		[ "$(sqlite3 .cnai/cnai.db "SELECT count(*) FROM runs" 2>/dev/null)" = 1 ] && break
		sleep 0.2
	done
	sleep 0.5
	kill -INT $pid
	status=0
	wait $pid || status=$?
	[ "$status" -eq 130 ]
	assert_equal "$(run_field long status)" KILLED
	assert_contains "$(cat err)" "marked KILLED"
	[ ! -e m ]
}
