/*
 * make test-gpu: every op of the CUDA backend against the CPU backend on
 * random inputs, relative error <= 1e-4 in fp32, edge shapes included
 * (one row, no rows, gemm with m or n of 1, in-place and bias-less
 * activations), and the loss sums' bits on a rerun. Prints TAP.
 *
 * Skips (exit 0, "1..0 # SKIP") only where this machine has no NVIDIA
 * device node (/dev/nvidia0...); with one, a plug-in that does not open
 * is a failure: a GPU machine must not pass by skipping.
 */
#include <glob.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/error.h"
#include "core/ml/model.h"
#include "gpu/backend.h"
#include "core/util/banned.h"

static struct cnai_backend *cpu, *gpu;
static uint64_t rng = 1;
static int test_no, failed;

static float rnd(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (float)((rng >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static void *xmalloc(size_t bytes)
{
	void *p = malloc(bytes ? bytes : 1);

	if (!p) {
		printf("Bail out! out of memory\n");
		exit(1);
	}
	return p;
}

static float *rand_buf(size_t n)
{
	float *p = xmalloc(n * sizeof(float));
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = rnd();
	return p;
}

/* A backend call that must work: else the run stops here, saying why. */
static void must(int err, const char *what)
{
	if (err < 0) {
		printf("Bail out! %s: %s\n", what,
		       cnai_error_last() ? cnai_error_last()->message : "?");
		exit(1);
	}
}

static void *dalloc(size_t bytes)
{
	void *d = gpu->alloc(gpu->ctx, bytes);

	if (!d) {
		printf("Bail out! cannot allocate %zu bytes on the GPU\n",
		       bytes);
		exit(1);
	}
	return d;
}

/* A device copy of host data on the GPU. */
static void *up(const void *h, size_t bytes)
{
	void *d = dalloc(bytes);

	must(gpu->upload(gpu->ctx, d, h, bytes), "upload");
	return d;
}

static void get(void *h, const void *d, size_t bytes)
{
	must(gpu->download(gpu->ctx, h, d, bytes), "download");
}

static void down(void *h, void *d, size_t bytes)
{
	get(h, d, bytes);
	gpu->free(gpu->ctx, d);
}

static void verdict(int ok, const char *name, const char *detail)
{
	test_no++;
	printf("%s %d - %s%s\n", ok ? "ok" : "not ok", test_no, name, detail);
	failed += !ok;
}

static void report(const char *name, const float *want, const float *got,
		   size_t n)
{
	double worst = 0;
	char detail[64];
	size_t i;

	for (i = 0; i < n; i++) {
		double e = fabs((double)want[i] - got[i]) /
			   fmax(1.0, fabs((double)want[i]));

		if (!(e <= worst))
			worst = isnan(e) ? INFINITY : fmax(worst, e);
	}
	snprintf(detail, sizeof(detail), " (max rel err %.2g)", worst);
	verdict(worst <= 1e-4, name, detail);
}

static void report_bits(const char *name, const void *want, const void *got,
			size_t bytes)
{
	verdict(!memcmp(want, got, bytes), name, " (bit for bit)");
}

static void check_gemm(int ta, int tb, int m, int n, int k)
{
	size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
	float *a = rand_buf(na), *b = rand_buf(nb), *c = rand_buf(nc);
	float *g = xmalloc(nc * sizeof(float));
	void *da = up(a, na * 4), *db = up(b, nb * 4), *dc = up(c, nc * 4);
	char name[96];
	int lda = ta ? m : k, ldb = tb ? k : n;

	cpu->gemm(cpu->ctx, ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 0.25f, c, n);
	gpu->gemm(gpu->ctx, ta, tb, m, n, k, 0.5f, da, lda, db, ldb, 0.25f,
		  dc, n);
	down(g, dc, nc * 4);
	gpu->free(gpu->ctx, da);
	gpu->free(gpu->ctx, db);
	snprintf(name, sizeof(name), "gemm %s%s %dx%dx%d", ta ? "T" : "N",
		 tb ? "T" : "N", m, n, k);
	report(name, c, g, nc);
	free(a);
	free(b);
	free(c);
	free(g);
}

enum act_flags {
	ACT_INPLACE = (1 << 0), /* a = z (relu, tanh, none only) */
	ACT_NO_BIAS = (1 << 1), /* bias NULL */
};

/*
 * bias_act_fwd (a and the pre-activation z it leaves) and bias_act_bwd
 * (g and the bias gradient) on rows x cols.
 */
static void check_act(enum cnai_act act, int rows, int cols, unsigned flags)
{
	size_t n = (size_t)rows * cols;
	int inplace = flags & ACT_INPLACE;
	float *z = rand_buf(n), *bias = rand_buf(cols), *g = rand_buf(n);
	float *a = inplace ? z : xmalloc(n * 4), *ga = xmalloc(n * 4);
	float *gz = xmalloc(n * 4), *gg = xmalloc(n * 4);
	float *db = xmalloc(cols * 4), *gdb = xmalloc(cols * 4);
	void *dz = up(z, n * 4), *da = inplace ? dz : dalloc(n * 4);
	void *dbias = up(bias, cols * 4), *dg = up(g, n * 4);
	void *ddb = dalloc(cols * 4);
	const float *b = flags & ACT_NO_BIAS ? NULL : bias;
	char name[96], shape[64];

	snprintf(shape, sizeof(shape), "%s %dx%d%s%s", cnai_act_name(act),
		 rows, cols, inplace ? " in place" : "",
		 flags & ACT_NO_BIAS ? " no bias" : "");
	cpu->bias_act_fwd(cpu->ctx, z, a, b, rows, cols, act);
	gpu->bias_act_fwd(gpu->ctx, dz, da, b ? dbias : NULL, rows, cols,
			  act);
	get(ga, da, n * 4);
	snprintf(name, sizeof(name), "bias_act_fwd %s", shape);
	report(name, a, ga, n);
	if (!inplace) {
		get(gz, dz, n * 4);
		snprintf(name, sizeof(name), "bias_act_fwd z %s", shape);
		report(name, z, gz, n);
	}
	cpu->bias_act_bwd(cpu->ctx, g, z, a, db, rows, cols, act);
	gpu->bias_act_bwd(gpu->ctx, dg, dz, da, ddb, rows, cols, act);
	get(gg, dg, n * 4);
	get(gdb, ddb, cols * 4);
	snprintf(name, sizeof(name), "bias_act_bwd %s", shape);
	report(name, g, gg, n);
	snprintf(name, sizeof(name), "bias gradient %s", shape);
	report(name, db, gdb, (size_t)cols);
	gpu->free(gpu->ctx, dz);
	if (!inplace)
		gpu->free(gpu->ctx, da);
	gpu->free(gpu->ctx, dbias);
	gpu->free(gpu->ctx, dg);
	gpu->free(gpu->ctx, ddb);
	free(z);
	if (!inplace)
		free(a);
	free(bias);
	free(g);
	free(ga);
	free(gz);
	free(gg);
	free(db);
	free(gdb);
}

/* The three losses and the inference heads over `rows` rows. */
static void check_losses(int rows, int cols)
{
	size_t n = (size_t)rows * cols;
	float *z = rand_buf(n), *g = xmalloc(n * 4), *gg = xmalloc(n * 4);
	float *t = rand_buf(rows), loss = 0, gl = 0, zero = 0;
	int32_t *lab = xmalloc(rows * 4), *bin = xmalloc(rows * 4);
	void *dz, *dl, *dg, *dloss, *dt, *db;
	char name[96];
	int i;

	for (i = 0; i < rows; i++) {
		lab[i] = (int32_t)((rnd() + 1) * 0.4999f * cols);
		bin[i] = rnd() > 0;
	}
	dz = up(z, n * 4);
	dl = up(lab, rows * 4);
	db = up(bin, rows * 4);
	dt = up(t, rows * 4);
	dg = dalloc(n * 4);
	dloss = up(&zero, 4);
	cpu->softmax_xent(cpu->ctx, z, lab, g, &loss, rows, cols, 0.01f);
	gpu->softmax_xent(gpu->ctx, dz, dl, dg, dloss, rows, cols, 0.01f);
	get(gg, dg, n * 4);
	get(&gl, dloss, 4);
	snprintf(name, sizeof(name), "softmax_xent gradient %dx%d", rows, cols);
	report(name, g, gg, n);
	snprintf(name, sizeof(name), "softmax_xent loss %dx%d", rows, cols);
	report(name, &loss, &gl, 1);
	loss = 0;
	must(gpu->upload(gpu->ctx, dloss, &zero, 4), "upload");
	cpu->sigmoid_bce(cpu->ctx, z, bin, g, &loss, rows, 0.01f);
	gpu->sigmoid_bce(gpu->ctx, dz, db, dg, dloss, rows, 0.01f);
	get(gg, dg, rows * 4);
	get(&gl, dloss, 4);
	snprintf(name, sizeof(name), "sigmoid_bce gradient %d rows", rows);
	report(name, g, gg, (size_t)rows);
	snprintf(name, sizeof(name), "sigmoid_bce loss %d rows", rows);
	report(name, &loss, &gl, 1);
	loss = 0;
	must(gpu->upload(gpu->ctx, dloss, &zero, 4), "upload");
	cpu->mse(cpu->ctx, z, t, g, &loss, rows, 1, 0.01f);
	gpu->mse(gpu->ctx, dz, dt, dg, dloss, rows, 1, 0.01f);
	get(gg, dg, rows * 4);
	get(&gl, dloss, 4);
	snprintf(name, sizeof(name), "mse gradient %d rows", rows);
	report(name, g, gg, (size_t)rows);
	snprintf(name, sizeof(name), "mse loss %d rows", rows);
	report(name, &loss, &gl, 1);
	/* inference heads, in place */
	memcpy(g, z, n * 4);
	must(gpu->upload(gpu->ctx, dg, z, n * 4), "upload");
	cpu->softmax(cpu->ctx, g, rows, cols);
	gpu->softmax(gpu->ctx, dg, rows, cols);
	get(gg, dg, n * 4);
	snprintf(name, sizeof(name), "softmax %dx%d", rows, cols);
	report(name, g, gg, n);
	memcpy(g, z, n * 4);
	must(gpu->upload(gpu->ctx, dg, z, n * 4), "upload");
	cpu->sigmoid(cpu->ctx, g, n);
	gpu->sigmoid(gpu->ctx, dg, n);
	get(gg, dg, n * 4);
	snprintf(name, sizeof(name), "sigmoid %zu", n);
	report(name, g, gg, n);
	memcpy(g, z, n * 4);
	must(gpu->upload(gpu->ctx, dg, z, n * 4), "upload");
	cpu->dropout(cpu->ctx, g, n, 0.3f, 1234);
	gpu->dropout(gpu->ctx, dg, n, 0.3f, 1234);
	get(gg, dg, n * 4);
	snprintf(name, sizeof(name), "dropout (same mask) %zu", n);
	report(name, g, gg, n);
	gpu->free(gpu->ctx, dz);
	gpu->free(gpu->ctx, dl);
	gpu->free(gpu->ctx, db);
	gpu->free(gpu->ctx, dg);
	gpu->free(gpu->ctx, dloss);
	gpu->free(gpu->ctx, dt);
	free(z);
	free(g);
	free(gg);
	free(t);
	free(lab);
	free(bin);
}

/* A loss over many blocks, twice: the same bits (no atomics). */
static void check_loss_bits(int rows, int cols)
{
	size_t n = (size_t)rows * cols;
	float *z = rand_buf(n), zero = 0, l1, l2;
	int32_t *lab = xmalloc(rows * 4);
	void *dz, *dl, *dg, *dloss;
	char detail[96];
	int i;

	for (i = 0; i < rows; i++)
		lab[i] = (int32_t)((rnd() + 1) * 0.4999f * cols);
	dz = up(z, n * 4);
	dl = up(lab, rows * 4);
	dg = dalloc(n * 4);
	dloss = up(&zero, 4);
	gpu->softmax_xent(gpu->ctx, dz, dl, dg, dloss, rows, cols, 1.0f);
	get(&l1, dloss, 4);
	must(gpu->upload(gpu->ctx, dloss, &zero, 4), "upload");
	gpu->softmax_xent(gpu->ctx, dz, dl, dg, dloss, rows, cols, 1.0f);
	get(&l2, dloss, 4);
	snprintf(detail, sizeof(detail), " (%.9g, %.9g)", l1, l2);
	verdict(!memcmp(&l1, &l2, sizeof(l1)),
		"softmax_xent loss over many blocks: the same bits twice",
		detail);
	gpu->free(gpu->ctx, dz);
	gpu->free(gpu->ctx, dl);
	gpu->free(gpu->ctx, dg);
	gpu->free(gpu->ctx, dloss);
	free(z);
	free(lab);
}

/* One optimiser step from the same state on both backends. */
static void check_optim(const char *name, int adam, float momentum,
			float wd, int decoupled)
{
	size_t n = 10000, i;
	float *w = rand_buf(n), *g = rand_buf(n), *m = rand_buf(n);
	float *v = xmalloc(n * 4), *out = xmalloc(n * 4);
	void *dw = up(w, n * 4), *dg = up(g, n * 4), *dm = up(m, n * 4), *dv;

	for (i = 0; i < n; i++)
		v[i] = fabsf(rnd());
	dv = up(v, n * 4);
	if (adam) {
		cpu->adam(cpu->ctx, w, g, m, v, n, 0.01f, 0.9f, 0.999f, 1e-8f,
			  wd, decoupled, 3);
		gpu->adam(gpu->ctx, dw, dg, dm, dv, n, 0.01f, 0.9f, 0.999f,
			  1e-8f, wd, decoupled, 3);
	} else {
		cpu->sgd(cpu->ctx, w, g, momentum ? m : NULL, n, 0.1f,
			 momentum, wd);
		gpu->sgd(gpu->ctx, dw, dg, momentum ? dm : NULL, n, 0.1f,
			 momentum, wd);
	}
	get(out, dw, n * 4);
	report(name, w, out, n);
	if (adam || momentum) {
		get(out, dm, n * 4);
		report(adam ? "adam first moment" : "momentum velocity", m,
		       out, n);
	}
	gpu->free(gpu->ctx, dw);
	gpu->free(gpu->ctx, dg);
	gpu->free(gpu->ctx, dm);
	gpu->free(gpu->ctx, dv);
	free(w);
	free(g);
	free(m);
	free(v);
	free(out);
}

static void check_gather_copy(void)
{
	size_t n = 10000;
	float *src = rand_buf(n), *rows = xmalloc(64 * 100 * 4);
	float *grows = xmalloc(64 * 100 * 4), *back = xmalloc(n * 4);
	int32_t idx[64], *lab = xmalloc(100 * 4), want[64], got[64];
	void *didx, *dsrc, *drows, *dlab, *dout, *dcopy;
	int i;

	for (i = 0; i < 64; i++)
		idx[i] = (int32_t)((rnd() + 1) * 49.9f);
	for (i = 0; i < 100; i++)
		lab[i] = (int32_t)(rnd() * 1000);
	didx = up(idx, sizeof(idx));
	dsrc = up(src, n * 4);
	drows = dalloc(64 * 100 * 4);
	cpu->gather_rows(cpu->ctx, rows, src, idx, 64, 100);
	gpu->gather_rows(gpu->ctx, drows, dsrc, didx, 64, 100);
	get(grows, drows, 64 * 100 * 4);
	report("gather_rows", rows, grows, 6400);
	dlab = up(lab, 100 * 4);
	dout = dalloc(sizeof(got));
	cpu->gather_i32(cpu->ctx, want, lab, idx, 64);
	gpu->gather_i32(gpu->ctx, dout, dlab, didx, 64);
	get(got, dout, sizeof(got));
	report_bits("gather_i32", want, got, sizeof(got));
	dcopy = dalloc(n * 4);
	must(gpu->copy(gpu->ctx, dcopy, dsrc, n * 4), "copy");
	must(gpu->sync(gpu->ctx), "sync");
	get(back, dcopy, n * 4);
	report_bits("copy", src, back, n * 4);
	gpu->free(gpu->ctx, didx);
	gpu->free(gpu->ctx, dsrc);
	gpu->free(gpu->ctx, drows);
	gpu->free(gpu->ctx, dlab);
	gpu->free(gpu->ctx, dout);
	gpu->free(gpu->ctx, dcopy);
	free(src);
	free(rows);
	free(grows);
	free(back);
	free(lab);
}

static int have_nvidia_device(void)
{
	glob_t gl;
	int found = glob("/dev/nvidia[0-9]*", 0, NULL, &gl) == 0 &&
		    gl.gl_pathc > 0;

	globfree(&gl);
	return found;
}

int main(void)
{
	static const enum cnai_act acts[] = { CNAI_ACT_NONE, CNAI_ACT_RELU,
					      CNAI_ACT_TANH, CNAI_ACT_GELU };
	size_t i;

	if (cnai_backend_open(&gpu, "cuda", 0, NULL, 0) < 0) {
		if (!have_nvidia_device()) {
			printf("1..0 # SKIP no NVIDIA device (%s)\n",
			       cnai_error_last()->message);
			return 0;
		}
		printf("Bail out! an NVIDIA device is here but %s\n",
		       cnai_error_last()->message);
		return 1;
	}
	if (cnai_backend_cpu_open(&cpu, 1) < 0) {
		printf("Bail out! %s\n", cnai_error_last()->message);
		return 1;
	}
	printf("# %s against %s\n", gpu->device, cpu->device);
	check_gemm(0, 0, 256, 128, 64);
	check_gemm(1, 0, 64, 128, 256);
	check_gemm(0, 1, 256, 64, 128);
	check_gemm(0, 0, 1000, 10, 784);
	check_gemm(0, 0, 1, 64, 32);
	check_gemm(0, 0, 64, 1, 32);
	check_gemm(1, 1, 1, 1, 300);
	check_gemm(0, 1, 300, 1, 17);
	for (i = 0; i < sizeof(acts) / sizeof(*acts); i++) {
		check_act(acts[i], 300, 77, 0);
		check_act(acts[i], 1, 77, 0);
		check_act(acts[i], 0, 5, 0);
		check_act(acts[i], 300, 77, ACT_NO_BIAS);
		if (acts[i] != CNAI_ACT_GELU)
			check_act(acts[i], 300, 77, ACT_INPLACE);
	}
	check_losses(500, 10);
	check_losses(1, 3);
	check_losses(0, 3);
	check_losses(300000, 2); /* more rows than the loss kernels' blocks */
	check_loss_bits(200000, 10);
	check_optim("adamw step", 1, 0, 0.01f, 1);
	check_optim("adam step (L2)", 1, 0, 0.01f, 0);
	check_optim("momentum step", 0, 0.9f, 0.001f, 0);
	check_optim("plain sgd step", 0, 0, 0.001f, 0);
	check_gather_copy();
	printf("1..%d\n", test_no);
	gpu->close(gpu);
	cpu->close(cpu);
	return failed ? 1 : 0;
}
