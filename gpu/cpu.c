/*
 * The CPU backend: every matrix product goes to OpenBLAS's cblas_sgemm,
 * the rest are single tight loops the compiler vectorises (bias and
 * activation fused, softmax with cross-entropy fused, Adam fused), so each
 * op is one pass over memory.
 *
 * OpenBLAS is opened with dlopen on the first backend open, by its own
 * soname: linking it costs every cnai command 5-7 ms at start-up, and the
 * generic libblas.so.3 is Debian's reference BLAS here, 25-50x slower.
 * Small products run on one thread (thread hand-off costs more than it
 * saves below a few million multiply-adds); large ones use all allowed.
 */
/*
 * The loops below are the whole cost of training besides sgemm; GCC
 * vectorises them (and if-converts relu) only at -O3, which the rest of
 * cnai does not need.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

#include "gpu/backend.h"

#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util/error.h"
#include "core/util/banned.h"

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k,
			 float alpha, const float *a, int lda, const float *b,
			 int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int n);
typedef char *(*get_config_fn)(void);
typedef char *(*get_corename_fn)(void);

struct cpu {
	void *lib;
	sgemm_fn sgemm;
	set_threads_fn set_threads;
	int max_threads, cur_threads;
};

/* Below this many multiply-adds a product runs on one thread. */
#define THREAD_MIN_WORK (4.0 * 1024 * 1024)

static void *cpu_alloc(void *ctx, size_t bytes)
{
	void *p = NULL;

	if (posix_memalign(&p, 64, bytes ? bytes : 64))
		return NULL;
	memset(p, 0, bytes);
	return p;
}

static void cpu_free(void *ctx, void *p)
{
	free(p);
}

static void *cpu_wrap(void *ctx, void *host)
{
	return host;
}

static int cpu_copy(void *ctx, void *dst, const void *src, size_t bytes)
{
	if (dst != src)
		memmove(dst, src, bytes);
	return 0;
}

static int cpu_sync(void *ctx)
{
	return 0;
}

static void cpu_gemm(void *ctx, int ta, int tb, int m, int n, int k,
		     float alpha, const float *a, int lda, const float *b,
		     int ldb, float beta, float *c, int ldc)
{
	struct cpu *cp = ctx;
	int want = (double)m * n * k >= THREAD_MIN_WORK ? cp->max_threads : 1;

	if (want != cp->cur_threads && cp->set_threads) {
		cp->set_threads(want);
		cp->cur_threads = want;
	}
	cp->sgemm(CBLAS_ROW_MAJOR, ta ? CBLAS_TRANS : CBLAS_NO_TRANS,
		  tb ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k, alpha, a, lda, b,
		  ldb, beta, c, ldc);
}

static void cpu_gather_rows(void *ctx, float *dst, const float *src,
			    const int32_t *idx, int rows, int cols)
{
	int i;

	for (i = 0; i < rows; i++)
		memcpy(dst + (size_t)i * cols, src + (size_t)idx[i] * cols,
		       (size_t)cols * sizeof(float));
}

static void cpu_gather_i32(void *ctx, int32_t *dst, const int32_t *src,
			   const int32_t *idx, int n)
{
	int i;

	for (i = 0; i < n; i++)
		dst[i] = src[idx[i]];
}

static inline float gelu(float z)
{
	return 0.5f * z * (1.0f + erff(z * (float)M_SQRT1_2));
}

static inline float gelu_grad(float z)
{
	const float inv_sqrt_2pi = 0.3989422804014327f;

	return 0.5f * (1.0f + erff(z * (float)M_SQRT1_2)) +
	       z * inv_sqrt_2pi * expf(-0.5f * z * z);
}

/*
 * Row kernels with restrict-qualified pointers so that the compiler
 * vectorises them (without it, the possible aliasing of z, a, bias and
 * the gradient keeps every loop scalar).
 */
static void add_row(float *restrict z, const float *restrict b, int n)
{
	int j;

	for (j = 0; j < n; j++)
		z[j] += b[j];
}

static void act_row(float *restrict a, const float *restrict z, int n,
		    enum cnai_act act)
{
	int j;

	switch (act) {
	case CNAI_ACT_NONE:
		memcpy(a, z, (size_t)n * sizeof(float));
		break;
	case CNAI_ACT_RELU:
		for (j = 0; j < n; j++)
			a[j] = z[j] > 0.0f ? z[j] : 0.0f;
		break;
	case CNAI_ACT_TANH:
		for (j = 0; j < n; j++)
			a[j] = tanhf(z[j]);
		break;
	case CNAI_ACT_GELU:
		for (j = 0; j < n; j++)
			a[j] = gelu(z[j]);
		break;
	}
}

static void act_row_inplace(float *z, int n, enum cnai_act act)
{
	int j;

	switch (act) {
	case CNAI_ACT_NONE:
		break;
	case CNAI_ACT_RELU:
		for (j = 0; j < n; j++)
			z[j] = z[j] > 0.0f ? z[j] : 0.0f;
		break;
	case CNAI_ACT_TANH:
		for (j = 0; j < n; j++)
			z[j] = tanhf(z[j]);
		break;
	case CNAI_ACT_GELU:
		for (j = 0; j < n; j++)
			z[j] = gelu(z[j]);
		break;
	}
}

static void cpu_bias_act_fwd(void *ctx, float *z, float *a,
			     const float *bias, int rows, int cols,
			     enum cnai_act act)
{
	int i;

	for (i = 0; i < rows; i++) {
		float *zr = z + (size_t)i * cols, *ar = a + (size_t)i * cols;

		if (bias)
			add_row(zr, bias, cols);
		if (ar == zr)
			act_row_inplace(zr, cols, act);
		else
			act_row(ar, zr, cols, act);
	}
}

static void grad_row(float *restrict g, const float *restrict z,
		     const float *restrict a, int n, enum cnai_act act)
{
	int j;

	switch (act) {
	case CNAI_ACT_NONE:
		break;
	case CNAI_ACT_RELU:
		for (j = 0; j < n; j++)
			g[j] = a[j] > 0.0f ? g[j] : 0.0f;
		break;
	case CNAI_ACT_TANH:
		for (j = 0; j < n; j++)
			g[j] *= 1.0f - a[j] * a[j];
		break;
	case CNAI_ACT_GELU:
		for (j = 0; j < n; j++)
			g[j] *= gelu_grad(z[j]);
		break;
	}
}

static void cpu_bias_act_bwd(void *ctx, float *g, const float *z,
			     const float *a, float *dbias, int rows, int cols,
			     enum cnai_act act)
{
	int i;

	if (dbias)
		memset(dbias, 0, (size_t)cols * sizeof(float));
	for (i = 0; i < rows; i++) {
		float *gr = g + (size_t)i * cols;

		grad_row(gr, z + (size_t)i * cols, a + (size_t)i * cols, cols,
			 act);
		if (dbias)
			add_row(dbias, gr, cols);
	}
}

static void cpu_dropout(void *ctx, float *x, size_t n, float p,
			uint64_t seed)
{
	float keep = 1.0f / (1.0f - p);
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = cnai_dropout_uniform(seed, i) < p ? 0.0f : x[i] * keep;
}

static void cpu_softmax_xent(void *ctx, const float *logits,
			     const int32_t *labels, float *grad, float *loss,
			     int rows, int cols, float scale)
{
	double total = 0;
	int i, j;

	for (i = 0; i < rows; i++) {
		const float *z = logits + (size_t)i * cols;
		float *g = grad + (size_t)i * cols;
		float mx = z[0], sum = 0.0f, inv, zy = z[labels[i]];

		for (j = 1; j < cols; j++)
			mx = z[j] > mx ? z[j] : mx;
		/* zy was read first: g may be z */
		for (j = 0; j < cols; j++) {
			g[j] = expf(z[j] - mx);
			sum += g[j];
		}
		total += logf(sum) - (zy - mx);
		inv = 1.0f / sum;
		for (j = 0; j < cols; j++)
			g[j] = g[j] * inv * scale;
		g[labels[i]] -= scale;
	}
	*loss += (float)total;
}

static void cpu_sigmoid_bce(void *ctx, const float *logits,
			    const int32_t *labels, float *grad, float *loss,
			    int rows, float scale)
{
	double total = 0;
	int i;

	for (i = 0; i < rows; i++) {
		float z = logits[i], y = (float)labels[i];
		float p = 1.0f / (1.0f + expf(-z));

		/* log(1 + e^z) - y z, stable for either sign of z */
		total += (z > 0 ? z + log1pf(expf(-z)) : log1pf(expf(z))) -
			 y * z;
		grad[i] = (p - y) * scale;
	}
	*loss += (float)total;
}

static void cpu_mse(void *ctx, const float *pred, const float *target,
		    float *grad, float *loss, int rows, int cols, float scale)
{
	double total = 0;
	size_t i, n = (size_t)rows * cols;

	for (i = 0; i < n; i++) {
		float d = pred[i] - target[i];

		total += 0.5 * (double)d * d;
		grad[i] = d * scale;
	}
	*loss += (float)total;
}

static void cpu_softmax(void *ctx, float *x, int rows, int cols)
{
	int i, j;

	for (i = 0; i < rows; i++) {
		float *z = x + (size_t)i * cols, mx = z[0], sum = 0.0f;

		for (j = 1; j < cols; j++)
			mx = z[j] > mx ? z[j] : mx;
		for (j = 0; j < cols; j++) {
			z[j] = expf(z[j] - mx);
			sum += z[j];
		}
		for (j = 0; j < cols; j++)
			z[j] /= sum;
	}
}

static void cpu_sigmoid(void *ctx, float *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = 1.0f / (1.0f + expf(-x[i]));
}

static void cpu_adam(void *ctx, float *w, const float *g, float *m,
		     float *v, size_t n, float lr, float b1, float b2,
		     float eps, float wd, int decoupled, int64_t t)
{
	float c1 = 1.0f / (1.0f - powf(b1, (float)t));
	float c2 = 1.0f / (1.0f - powf(b2, (float)t));
	size_t i;

	for (i = 0; i < n; i++) {
		float gi = decoupled ? g[i] : g[i] + wd * w[i];

		m[i] = b1 * m[i] + (1.0f - b1) * gi;
		v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
		if (decoupled)
			w[i] -= lr * wd * w[i];
		w[i] -= lr * (m[i] * c1) / (sqrtf(v[i] * c2) + eps);
	}
}

static void cpu_sgd(void *ctx, float *w, const float *g, float *vel,
		    size_t n, float lr, float mu, float wd)
{
	size_t i;

	if (mu == 0.0f || !vel) {
		for (i = 0; i < n; i++)
			w[i] -= lr * (g[i] + wd * w[i]);
		return;
	}
	for (i = 0; i < n; i++) {
		vel[i] = mu * vel[i] - lr * (g[i] + wd * w[i]);
		w[i] += vel[i];
	}
}

static int cpu_upload(void *ctx, void *dst, const void *src, size_t bytes)
{
	return cpu_copy(ctx, dst, src, bytes);
}

static void cpu_close(struct cnai_backend *be)
{
	struct cpu *cp;

	if (!be)
		return;
	cp = be->ctx;
	/* OpenBLAS stays loaded: its threads do not survive dlclose. */
	free(cp);
	free(be);
}

/* dlopen'd once per process; later opens reuse the handle. */
static void *openblas_handle;

int cnai_backend_cpu_open(struct cnai_backend **out, int threads)
{
	static const char *const names[] = { "libopenblas.so.0",
					     "libopenblas.so" };
	struct cnai_backend *be;
	struct cpu *cp;
	get_config_fn get_config;
	get_corename_fn get_core;
	char version[64] = "OpenBLAS";
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t i;

	*out = NULL;
	for (i = 0; !openblas_handle && i < sizeof(names) / sizeof(*names);
	     i++)
		openblas_handle = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!openblas_handle)
		return cnai_error_set(CNAI_ERROR,
				      "cannot load OpenBLAS "
				      "(libopenblas.so.0): %s; install "
				      "libopenblas0", dlerror());
	be = calloc(1, sizeof(*be));
	cp = calloc(1, sizeof(*cp));
	if (!be || !cp) {
		free(be);
		free(cp);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	cp->lib = openblas_handle;
	*(void **)&cp->sgemm = dlsym(cp->lib, "cblas_sgemm");
	*(void **)&cp->set_threads = dlsym(cp->lib,
					   "openblas_set_num_threads");
	*(void **)&get_config = dlsym(cp->lib, "openblas_get_config");
	*(void **)&get_core = dlsym(cp->lib, "openblas_get_corename");
	if (get_config) {
		/* "OpenBLAS 0.3.21 NO_LAPACKE ...": the first two words */
		const char *cfg = get_config(), *sp = strchr(cfg, ' ');

		if (sp && (sp = strchr(sp + 1, ' ')))
			snprintf(version, sizeof(version), "%.*s",
				 (int)(sp - cfg), cfg);
	}
	if (!cp->sgemm) {
		free(be);
		free(cp);
		return cnai_error_set(CNAI_ERROR,
				      "libopenblas.so.0 has no cblas_sgemm");
	}
	cp->max_threads = threads > 0 ? threads : (int)(ncpu > 0 ? ncpu : 1);
	cp->cur_threads = -1;
	be->version = CNAI_BACKEND_VERSION;
	be->name = "cpu";
	snprintf(be->device, sizeof(be->device), "cpu, %s %.30s, %d thread%s",
		 version, get_core ? get_core() : "", cp->max_threads,
		 cp->max_threads == 1 ? "" : "s");
	be->ctx = cp;
	be->alloc = cpu_alloc;
	be->free = cpu_free;
	be->wrap = cpu_wrap;
	be->upload = cpu_upload;
	be->download = cpu_copy;
	be->copy = cpu_copy;
	be->sync = cpu_sync;
	be->gemm = cpu_gemm;
	be->gather_rows = cpu_gather_rows;
	be->gather_i32 = cpu_gather_i32;
	be->bias_act_fwd = cpu_bias_act_fwd;
	be->bias_act_bwd = cpu_bias_act_bwd;
	be->dropout = cpu_dropout;
	be->softmax_xent = cpu_softmax_xent;
	be->sigmoid_bce = cpu_sigmoid_bce;
	be->mse = cpu_mse;
	be->softmax = cpu_softmax;
	be->sigmoid = cpu_sigmoid;
	be->adam = cpu_adam;
	be->sgd = cpu_sgd;
	be->close = cpu_close;
	*out = be;
	return 0;
}
