// Runs a cnai model.onnx in onnxruntime (npm onnxruntime-node) on a CSV
// and prints one line per row: the label (classifiers), then the
// probabilities or the prediction, each with 9 significant digits. The
// inputs are built from cnai-model.json's features: the numeric ones in a
// float tensor "input" (empty cells as NaN), each string one in its own
// [N, 1] string tensor. Usage: node ort_predict.js MODEL_DIR DATA.csv
const path = require('path');
const fs = require('fs');
const ort = require(path.join(process.env.ORT_DIR, 'node_modules', 'onnxruntime-node'));

(async () => {
	const [dir, csv] = process.argv.slice(2);
	const meta = JSON.parse(fs.readFileSync(path.join(dir, 'cnai-model.json'), 'utf8'));
	const lines = fs.readFileSync(csv, 'utf8').split('\n').filter((l) => l.length);
	const head = lines[0].split(',');
	const rows = lines.slice(1).map((l) => l.split(','));
	const num = meta.features.filter((f) => f.type === 'number').map((f) => head.indexOf(f.name));
	const feeds = {};
	if (num.length) {
		const data = new Float32Array(rows.length * num.length);
		rows.forEach((r, i) => num.forEach((c, j) => {
			data[i * num.length + j] = r[c] === '' ? NaN : parseFloat(r[c]);
		}));
		feeds.input = new ort.Tensor('float32', data, [rows.length, num.length]);
	}
	for (const f of meta.features.filter((g) => g.type === 'string')) {
		const c = head.indexOf(f.name);
		feeds[f.name] = new ort.Tensor('string', rows.map((r) => r[c]), [rows.length, 1]);
	}
	const session = await ort.InferenceSession.create(path.join(dir, 'model.onnx'));
	const out = await session.run(feeds);
	const o = out.probabilities || out.prediction;
	const k = o.dims[1];
	const res = [];
	for (let i = 0; i < rows.length; i++) {
		const vals = Array.from(o.data.slice(i * k, (i + 1) * k)).map((v) => v.toPrecision(9));
		if (out.label)
			vals.unshift(String(out.label.data[i]));
		res.push(vals.join(','));
	}
	process.stdout.write(res.join('\n') + '\n');
})().catch((e) => {
	process.stderr.write(e.message + '\n');
	process.exit(1);
});
