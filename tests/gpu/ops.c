/*
 * make test-gpu: every op of the CUDA backend against the CPU backend on
 * random inputs, relative error <= 1e-4 in fp32. Prints TAP; skips (exit
 * 0, "1..0 # SKIP") where the plug-in does not load or no GPU answers.
 */
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

static float *rand_buf(size_t n)
{
	float *p = malloc(n * sizeof(float));
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = rnd();
	return p;
}

/* A device copy of host data on the GPU. */
static void *up(const void *h, size_t bytes)
{
	void *d = gpu->alloc(gpu->ctx, bytes);

	gpu->upload(gpu->ctx, d, h, bytes);
	return d;
}

static void down(void *h, void *d, size_t bytes)
{
	gpu->download(gpu->ctx, h, d, bytes);
	gpu->free(gpu->ctx, d);
}

static void report(const char *name, const float *want, const float *got,
		   size_t n)
{
	double worst = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		double e = fabs((double)want[i] - got[i]) /
			   fmax(1.0, fabs((double)want[i]));

		if (!(e <= worst))
			worst = isnan(e) ? INFINITY : fmax(worst, e);
	}
	test_no++;
	if (worst <= 1e-4) {
		printf("ok %d - %s (max rel err %.2g)\n", test_no, name, worst);
	} else {
		printf("not ok %d - %s (max rel err %.2g)\n", test_no, name,
		       worst);
		failed++;
	}
}

static void check_gemm(int ta, int tb, int m, int n, int k)
{
	size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
	float *a = rand_buf(na), *b = rand_buf(nb), *c = rand_buf(nc);
	float *g = malloc(nc * sizeof(float));
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

static void check_act(enum cnai_act act)
{
	int rows = 300, cols = 77;
	size_t n = (size_t)rows * cols;
	float *z = rand_buf(n), *a = malloc(n * 4), *bias = rand_buf(cols);
	float *g = rand_buf(n), *gz = malloc(n * 4), *ga = malloc(n * 4);
	float *db = malloc(cols * 4), *gdb = malloc(cols * 4);
	float *z2 = malloc(n * 4);
	void *dz = up(z, n * 4), *da = gpu->alloc(gpu->ctx, n * 4);
	void *dbias = up(bias, cols * 4), *dg = up(g, n * 4);
	void *ddb = gpu->alloc(gpu->ctx, cols * 4);
	char name[64];

	cpu->bias_act_fwd(cpu->ctx, z, a, bias, rows, cols, act);
	gpu->bias_act_fwd(gpu->ctx, dz, da, dbias, rows, cols, act);
	gpu->download(gpu->ctx, z2, dz, n * 4);
	gpu->download(gpu->ctx, ga, da, n * 4);
	snprintf(name, sizeof(name), "bias_act_fwd %s", cnai_act_name(act));
	report(name, a, ga, n);
	cpu->bias_act_bwd(cpu->ctx, g, z, a, db, rows, cols, act);
	gpu->bias_act_bwd(gpu->ctx, dg, dz, da, ddb, rows, cols, act);
	gpu->download(gpu->ctx, gz, dg, n * 4);
	gpu->download(gpu->ctx, gdb, ddb, cols * 4);
	snprintf(name, sizeof(name), "bias_act_bwd %s", cnai_act_name(act));
	report(name, g, gz, n);
	snprintf(name, sizeof(name), "bias gradient %s", cnai_act_name(act));
	report(name, db, gdb, (size_t)cols);
	gpu->free(gpu->ctx, dz);
	gpu->free(gpu->ctx, da);
	gpu->free(gpu->ctx, dbias);
	gpu->free(gpu->ctx, dg);
	gpu->free(gpu->ctx, ddb);
	free(z);
	free(a);
	free(bias);
	free(g);
	free(gz);
	free(ga);
	free(db);
	free(gdb);
	free(z2);
}

static void check_losses(void)
{
	int rows = 500, cols = 10;
	size_t n = (size_t)rows * cols;
	float *z = rand_buf(n), *g = malloc(n * 4), *gg = malloc(n * 4);
	float *t = rand_buf(rows), loss = 0, gl = 0, zero = 0;
	int32_t *lab = malloc(rows * 4), *bin = malloc(rows * 4);
	void *dz, *dl, *dg, *dloss, *dt;
	int i;

	for (i = 0; i < rows; i++) {
		lab[i] = (int32_t)((rnd() + 1) * 4.99f);
		bin[i] = rnd() > 0;
	}
	dz = up(z, n * 4);
	dl = up(lab, rows * 4);
	dg = gpu->alloc(gpu->ctx, n * 4);
	dloss = up(&zero, 4);
	cpu->softmax_xent(cpu->ctx, z, lab, g, &loss, rows, cols, 0.01f);
	gpu->softmax_xent(gpu->ctx, dz, dl, dg, dloss, rows, cols, 0.01f);
	gpu->download(gpu->ctx, gg, dg, n * 4);
	gpu->download(gpu->ctx, &gl, dloss, 4);
	report("softmax_xent gradient", g, gg, n);
	report("softmax_xent loss", &loss, &gl, 1);
	gpu->free(gpu->ctx, dl);
	dl = up(bin, rows * 4);
	loss = 0;
	gpu->upload(gpu->ctx, dloss, &zero, 4);
	cpu->sigmoid_bce(cpu->ctx, z, bin, g, &loss, rows, 0.01f);
	gpu->sigmoid_bce(gpu->ctx, dz, dl, dg, dloss, rows, 0.01f);
	gpu->download(gpu->ctx, gg, dg, rows * 4);
	gpu->download(gpu->ctx, &gl, dloss, 4);
	report("sigmoid_bce gradient", g, gg, (size_t)rows);
	report("sigmoid_bce loss", &loss, &gl, 1);
	dt = up(t, rows * 4);
	loss = 0;
	gpu->upload(gpu->ctx, dloss, &zero, 4);
	cpu->mse(cpu->ctx, z, t, g, &loss, rows, 1, 0.01f);
	gpu->mse(gpu->ctx, dz, dt, dg, dloss, rows, 1, 0.01f);
	gpu->download(gpu->ctx, gg, dg, rows * 4);
	gpu->download(gpu->ctx, &gl, dloss, 4);
	report("mse gradient", g, gg, (size_t)rows);
	report("mse loss", &loss, &gl, 1);
	/* inference heads, in place */
	memcpy(g, z, n * 4);
	gpu->upload(gpu->ctx, dg, z, n * 4);
	cpu->softmax(cpu->ctx, g, rows, cols);
	gpu->softmax(gpu->ctx, dg, rows, cols);
	gpu->download(gpu->ctx, gg, dg, n * 4);
	report("softmax", g, gg, n);
	memcpy(g, z, n * 4);
	gpu->upload(gpu->ctx, dg, z, n * 4);
	cpu->sigmoid(cpu->ctx, g, n);
	gpu->sigmoid(gpu->ctx, dg, n);
	gpu->download(gpu->ctx, gg, dg, n * 4);
	report("sigmoid", g, gg, n);
	memcpy(g, z, n * 4);
	gpu->upload(gpu->ctx, dg, z, n * 4);
	cpu->dropout(cpu->ctx, g, n, 0.3f, 1234);
	gpu->dropout(gpu->ctx, dg, n, 0.3f, 1234);
	gpu->download(gpu->ctx, gg, dg, n * 4);
	report("dropout (same mask)", g, gg, n);
	gpu->free(gpu->ctx, dz);
	gpu->free(gpu->ctx, dl);
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

static void check_optim_gather(void)
{
	size_t n = 10000, i;
	float *w = rand_buf(n), *g = rand_buf(n), *m = rand_buf(n);
	float *v = malloc(n * 4), *out = malloc(n * 4);
	void *dw, *dg, *dm, *dv;
	int32_t idx[64];
	float *rows, *grows;
	void *drows, *didx, *dsrc;

	for (i = 0; i < n; i++)
		v[i] = fabsf(rnd());
	dw = up(w, n * 4);
	dg = up(g, n * 4);
	dm = up(m, n * 4);
	dv = up(v, n * 4);
	cpu->adam(cpu->ctx, w, g, m, v, n, 0.01f, 0.9f, 0.999f, 1e-8f, 0.01f,
		  1, 3);
	gpu->adam(gpu->ctx, dw, dg, dm, dv, n, 0.01f, 0.9f, 0.999f, 1e-8f,
		  0.01f, 1, 3);
	gpu->download(gpu->ctx, out, dw, n * 4);
	report("adamw step", w, out, n);
	cpu->sgd(cpu->ctx, w, g, m, n, 0.1f, 0.9f, 0.001f);
	gpu->sgd(gpu->ctx, dw, dg, dm, n, 0.1f, 0.9f, 0.001f);
	gpu->download(gpu->ctx, out, dw, n * 4);
	report("momentum step", w, out, n);
	for (i = 0; i < 64; i++)
		idx[i] = (int32_t)((rnd() + 1) * 49.9f);
	rows = malloc(64 * 100 * 4);
	grows = malloc(64 * 100 * 4);
	didx = up(idx, sizeof(idx));
	dsrc = up(g, n * 4);
	drows = gpu->alloc(gpu->ctx, 64 * 100 * 4);
	cpu->gather_rows(cpu->ctx, rows, g, idx, 64, 100);
	gpu->gather_rows(gpu->ctx, drows, dsrc, didx, 64, 100);
	gpu->download(gpu->ctx, grows, drows, 64 * 100 * 4);
	report("gather_rows", rows, grows, 6400);
	gpu->free(gpu->ctx, dw);
	gpu->free(gpu->ctx, dg);
	gpu->free(gpu->ctx, dm);
	gpu->free(gpu->ctx, dv);
	gpu->free(gpu->ctx, didx);
	gpu->free(gpu->ctx, dsrc);
	gpu->free(gpu->ctx, drows);
	free(w);
	free(g);
	free(m);
	free(v);
	free(out);
	free(rows);
	free(grows);
}

int main(void)
{
	if (cnai_backend_open(&gpu, "cuda", 0, NULL, 0) < 0) {
		printf("1..0 # SKIP %s\n", cnai_error_last()->message);
		return 0;
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
	check_act(CNAI_ACT_NONE);
	check_act(CNAI_ACT_RELU);
	check_act(CNAI_ACT_TANH);
	check_act(CNAI_ACT_GELU);
	check_losses();
	check_optim_gather();
	printf("1..%d\n", test_no);
	gpu->close(gpu);
	cpu->close(cpu);
	return failed ? 1 : 0;
}
