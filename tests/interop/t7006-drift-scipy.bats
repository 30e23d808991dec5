#!/usr/bin/env bats
# cnai drift against independent tools: scipy (the statistics and KS
# p-values, recomputed here on the same data), promtool (the Prometheus
# exposition) and headless Chromium (the HTML report renders; the
# screenshot is kept next to the TAP output).
load ../cli/lib

PY=/usr/bin/python3

setup() {
	setup_common
	cnai init >/dev/null
	$PY -c 'import scipy, numpy' 2>/dev/null || skip "python3-scipy is not installed"
}

# Writes ref.csv and cur.csv: x (normal), r (rounded: ties), c (categories,
# one only in current), sized $1 and $2, x and r shifted by $3.
gen() {
	$PY - "$@" <<-'EOP'
	import sys, numpy as np
	n1, n2, shift, seed = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
	rng = np.random.default_rng(seed)
	def write(path, n, s, cats, p):
	    x = rng.normal(s, 1, n); r = np.round(rng.normal(s, 3, n)); c = rng.choice(cats, n, p=p)
	    with open(path, 'w') as f:
	        f.write('x,r,c\n')
	        for i in range(n):
	            f.write('%r,%r,%s\n' % (float(x[i]), float(r[i]), c[i]))
	write('ref.csv', n1, 0.0, ['a', 'b', 'c', 'd'], [.4, .3, .2, .1])
	write('cur.csv', n2, shift, ['a', 'b', 'c', 'd', 'e'], [.38, .3, .2, .1, .02])
	EOP
}

# Compares out-<method>.json with scipy on ref.csv/cur.csv; prints one line
# per mismatch and exits 1 if any.
check() {
	$PY - "$@" <<-'EOP'
	import csv, json, sys, warnings
	import numpy as np
	from scipy import stats
	from scipy.spatial import distance
	warnings.simplefilter('ignore')
	def load(p):
	    with open(p) as f:
	        rows = list(csv.DictReader(f))
	    return {k: [r[k] for r in rows] for k in rows[0]}
	R, C = load('ref.csv'), load('cur.csv')
	bad = []
	def close(tag, ours, ref, rel=1e-9):
	    if isinstance(ours, str):
	        ours = float(ours.replace('Infinity', 'inf'))
	    if not (ours == ref or abs(ours - ref) <= rel * abs(ref)):
	        bad.append('%s: cnai %r scipy %r' % (tag, ours, ref))
	def shares(a, b, numerical):
	    if numerical and len(set(a)) > 20:
	        e = np.histogram_bin_edges(np.concatenate([a, b]), bins='sturges')
	        return np.histogram(a, e)[0] / len(a), np.histogram(b, e)[0] / len(b)
	    keys = sorted(set(a) | set(b))
	    return (np.array([np.sum(a == k) for k in keys]) / len(a),
	            np.array([np.sum(b == k) for k in keys]) / len(b))
	def fill(p):
	    m = min(p[p != 0]); np.place(p, p == 0, m / 10**6 if m <= 0.0001 else 0.0001)
	for m in sys.argv[1:]:
	    rep = json.load(open('out-%s.json' % m))
	    for col in rep['columns']:
	        name, num = col['name'], col['type'] == 'numerical'
	        a = np.array([float(v) for v in R[name]] if num else R[name])
	        b = np.array([float(v) for v in C[name]] if num else C[name])
	        tag = '%s/%s' % (m, name)
	        if col['method'] != m and not num and m in ('ks', 'wasserstein', 'ed', 'anderson', 'cramer_von_mises'):
	            continue # categorical columns keep auto for numerical tests
	        if col['method'] != m:
	            bad.append('%s: method %s' % (tag, col['method'])); continue
	        if m == 'ks':
	            res = stats.ks_2samp(a, b)
	            close(tag + ' D', col['statistic'], res.statistic)
	            p, q = col['p_value'], res.pvalue
	            mode = 'exact' if max(len(a), len(b)) <= 10000 else 'asymp'
	            if col['ks_mode'] != mode:
	                bad.append('%s: ks_mode %s, scipy %s' % (tag, col['ks_mode'], mode))
	            if abs(p - q) > 1e-6 or (q > 1e-12 and abs(p - q) > 0.01 * q):
	                bad.append('%s p: cnai %r scipy %r' % (tag, p, q))
	        elif m == 'wasserstein':
	            w = stats.wasserstein_distance(a, b)
	            close(tag, col['statistic'], w)
	            close(tag + ' normed', col['score'], w / max(np.std(a), 0.001))
	        elif m == 'cramer_von_mises':
	            res = stats.cramervonmises_2samp(a, b)
	            close(tag, col['statistic'], res.statistic)
	            close(tag + ' p', col['p_value'], res.pvalue, 1e-7)
	        elif m == 'ed':
	            close(tag, col['statistic'], stats.energy_distance(a, b))
	        elif m == 'anderson':
	            res = stats.anderson_ksamp([a, b])
	            close(tag, col['statistic'], res.statistic, 1e-7)
	            close(tag + ' p', col['p_value'], res.significance_level, 1e-6)
	        elif m in ('chi2', 'chisquare'):
	            keys = sorted(set(a) | set(b))
	            rc = np.array([np.sum(a == k) for k in keys]); cc = np.array([np.sum(b == k) for k in keys])
	            if m == 'chi2':
	                s, p, _, _ = stats.chi2_contingency(np.array([rc, cc]), correction=False)
	            else:
	                s, p = stats.chisquare(cc, rc * (len(b) / len(a)))
	            close(tag, col['statistic'], s)
	            close(tag + ' p', col['p_value'], p, 1e-9)
	        elif m in ('jensenshannon', 'psi', 'kl_div'):
	            p, q = shares(a, b, num)
	            if m == 'jensenshannon':
	                close(tag, col['statistic'], distance.jensenshannon(p, q))
	            else:
	                fill(p); fill(q)
	                v = np.sum((p - q) * np.log(p / q)) if m == 'psi' else stats.entropy(p, q)
	                close(tag, col['statistic'], v)
	print('\n'.join(bad))
	sys.exit(1 if bad else 0)
	EOP
}

# Runs each method over ref.csv/cur.csv and checks it against scipy.
compare() {
	local m
	for m in "$@"; do
		cnai drift ref.csv cur.csv --method "$m" --json --categorical c >"out-$m.json"
	done
	run check "$@"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "exact KS path: unequal sizes, ties; statistics within 1e-9 of scipy" {
	gen 500 700 0.15 7
	compare ks wasserstein jensenshannon psi kl_div chi2 chisquare ed anderson cramer_von_mises
	gen 12 17 1 16
	compare ks cramer_von_mises anderson
}

@test "exact KS path: equal sizes and sizes up to 10000" {
	gen 3000 3000 0.05 8
	compare ks
	gen 9000 10000 0.03 9
	compare ks psi
}

@test "asymptotic KS path: p-values from kstwo.sf as scipy computes them" {
	gen 20000 15000 0.02 10
	compare ks jensenshannon
	gen 20000 15000 0.2 11
	compare ks
	gen 30000 30000 0 12
	compare ks wasserstein
}

@test "asymptotic KS path with a small current sample" {
	gen 50000 100 0.3 13
	compare ks
	gen 12000 40 0.5 14
	compare ks
}

@test "the Prometheus exposition passes promtool check metrics" {
	command -v promtool >/dev/null || skip "promtool (prometheus) is not installed"
	gen 2000 2000 0.5 15
	printf 'a"b\\c,x\n' >q-ref.csv; printf 'a"b\\c,x\n' >q-cur.csv
	for i in 1 2 3 4 5; do echo "$i,$i" >>q-ref.csv; echo "$((i + 1)),$i" >>q-cur.csv; done
	cnai drift ref.csv cur.csv --format prometheus -o drift.prom >/dev/null
	run promtool check metrics <drift.prom
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	cnai drift q-ref.csv q-cur.csv --format prometheus -o q.prom >/dev/null
	grep -qF 'cnai_drift_score{column="a\"b\\c",method="chisquare"} ' q.prom
	run promtool check metrics <q.prom
	[ "$status" -eq 0 ] || { echo "$output"; false; }
}

@test "the HTML report renders in headless Chromium; a screenshot is kept" {
	command -v chromium >/dev/null || skip "chromium is not installed"
	cnai drift "$DATA/drift/cps_1992.csv" "$DATA/drift/cps_2004.csv" --format html -o report.html >/dev/null
	shot=${CNAI_TAP_DIR:-$TEST_DIR}/drift-report.png
	home=$TEST_DIR/chromium-home
	run timeout 120 env HOME="$home" chromium --headless --no-sandbox --disable-gpu \
		--no-first-run --user-data-dir="$home" --window-size=1000,1600 \
		--screenshot="$shot" "file://$TEST_DIR/report.html"
	[ -s "$shot" ] || { echo "$output"; false; }
	[ "$(head -c 8 "$shot" | od -An -c | tr -d ' \n')" = '211PNG\r\n032\n' ]
	[ "$(stat -c %s "$shot")" -gt 20000 ] # a blank page is a few kB
	run timeout 120 env HOME="$home" chromium --headless --no-sandbox --disable-gpu \
		--no-first-run --user-data-dir="$home" --dump-dom "file://$TEST_DIR/report.html"
	assert_equal "$(grep -o '<svg ' <<<"$output" | wc -l)" "4"
	assert_contains "$output" '<td class="drift">DRIFT</td>'
}
