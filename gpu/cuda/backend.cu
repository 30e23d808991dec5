/*
 * The CUDA backend: the ops of gpu/backend.h as CUDA kernels, matrix
 * products through cuBLAS. Built by nvcc into libcnai-cuda.so, which
 * gpu/loader.c opens with dlopen, so the cnai binary itself never links
 * the CUDA runtime. Row-major products map onto column-major cuBLAS by
 * computing C^T = op(B)^T op(A)^T.
 *
 * cuBLAS (several hundred MB of libraries) is opened with dlopen only
 * once a GPU has answered and run a probe kernel, so a machine without
 * one falls back to the CPU in milliseconds.
 *
 * Failures: the ops that queue work return nothing (gpu/backend.h), so
 * every kernel launch and cuBLAS status is checked as it is queued and
 * the first failure is kept; the next upload, download, copy or sync
 * returns it through be->error. Without that, a GPU the kernels cannot
 * run on trained to the end with a loss of 0 and the initial weights.
 *
 * Reproducibility: losses reduce within a block into one partial sum per
 * block, then one block adds the partials in index order; the grid
 * depends on the row count only, so a loss is the same bits on every run
 * (no atomics). Weights are bit-identical between runs on the same GPU
 * model with the same SM count and cuBLAS version (cuBLAS picks its
 * kernels by GPU and guarantees run-to-run identity only on one stream,
 * which is all this backend uses).
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <ctype.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "core/util/error.h"
#include "gpu/backend.h"
}

/* "sm_75 sm_80 sm_90 compute_90", from NVCC_ARCH in the Makefile. */
#ifndef CNAI_CUDA_ARCHS
#define CNAI_CUDA_ARCHS "unknown architectures"
#endif

namespace {

typedef cublasStatus_t (*sgemm_fn)(cublasHandle_t, cublasOperation_t,
				   cublasOperation_t, int, int, int,
				   const float *, const float *, int,
				   const float *, int, const float *, float *,
				   int);

struct cuda {
	struct cnai_backend *be; /* for be->error */
	cublasHandle_t blas;
	cudaStream_t stream;
	float *partial; /* PARTIALS per-block loss sums */
	sgemm_fn sgemm;
	cublasStatus_t (*destroy)(cublasHandle_t);
	const char *(*status_name)(cublasStatus_t); /* NULL: cuBLAS < 11.4 */
	char failed[256]; /* the first failure since open; "" while none */
};

void *cublas_lib;

const int T = 256;
/* The most blocks a loss kernel runs: the size of cuda.partial. */
const int PARTIALS = 1024;

inline int blocks(size_t n)
{
	size_t b = (n + T - 1) / T;
	return (int)(b > 65535 * 8 ? 65535 * 8 : (b ? b : 1));
}

inline int loss_blocks(size_t n)
{
	size_t b = (n + T - 1) / T;
	return (int)(b > (size_t)PARTIALS ? PARTIALS : (b ? b : 1));
}

/* Keeps the first failure: later ones are mostly its consequences. */
void fail(struct cuda *cu, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void fail(struct cuda *cu, const char *fmt, ...)
{
	va_list ap;

	if (cu->failed[0])
		return;
	va_start(ap, fmt);
	vsnprintf(cu->failed, sizeof(cu->failed), fmt, ap);
	va_end(ap);
}

/* The kept failure as the caller's error, or 0. */
int failure(struct cuda *cu)
{
	if (!cu->failed[0])
		return 0;
	if (cu->be->error)
		return cu->be->error(CNAI_ERROR, "%s", cu->failed);
	return CNAI_ERROR;
}

int check(struct cuda *cu, cudaError_t e, const char *what)
{
	if (e != cudaSuccess)
		fail(cu, "CUDA %s: %s", what, cudaGetErrorString(e));
	return failure(cu);
}

/*
 * A launch that cannot start (no kernel image for this GPU, a bad grid)
 * fails here and not at the next sync; name the kernel while we know it.
 */
void launched(struct cuda *cu, const char *kernel)
{
	cudaError_t e = cudaGetLastError();

	if (e != cudaSuccess)
		fail(cu, "CUDA kernel '%s': %s", kernel, cudaGetErrorString(e));
}

#define LAUNCH(cu, kernel, grid, ...)                                      \
	do {                                                               \
		kernel<<<(grid), T, 0, (cu)->stream>>>(__VA_ARGS__);       \
		launched((cu), #kernel + 2);                               \
	} while (0)

__device__ float dropout_uniform(uint64_t seed, uint64_t i)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (float)(z >> 40) * (1.0f / 16777216.0f);
}

__device__ float gelu(float z)
{
	return 0.5f * z * (1.0f + erff(z * 0.70710678118654752f));
}

__device__ float gelu_grad(float z)
{
	return 0.5f * (1.0f + erff(z * 0.70710678118654752f)) +
	       z * 0.3989422804014327f * expf(-0.5f * z * z);
}

/*
 * The sum of `v` over the block, in thread 0; a fixed tree, so the same
 * inputs give the same bits. Every thread of the block must call it.
 */
__device__ float block_sum(float v)
{
	__shared__ float part[32];
	int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_down_sync(0xffffffffu, v, o);
	if (lane == 0)
		part[warp] = v;
	__syncthreads();
	v = 0.0f;
	if (warp == 0) {
		v = lane < (int)(blockDim.x >> 5) ? part[lane] : 0.0f;
		for (int o = 16; o > 0; o >>= 1)
			v += __shfl_down_sync(0xffffffffu, v, o);
	}
	return v;
}

/* *loss += the n partial sums, added in index order by one block. */
__global__ void k_add_partials(float *loss, const float *part, int n)
{
	float v = 0.0f;

	for (int i = threadIdx.x; i < n; i += blockDim.x)
		v += part[i];
	v = block_sum(v);
	if (threadIdx.x == 0)
		*loss += v;
}

__global__ void k_gather_rows(float *dst, const float *src, const int32_t *idx,
			      int rows, int cols)
{
	size_t n = (size_t)rows * cols;

	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		size_t r = i / cols, c = i % cols;

		dst[i] = src[(size_t)idx[r] * cols + c];
	}
}

__global__ void k_gather_i32(int32_t *dst, const int32_t *src,
			     const int32_t *idx, int n)
{
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
	     i += gridDim.x * blockDim.x)
		dst[i] = src[idx[i]];
}

__global__ void k_bias_act_fwd(float *z, float *a, const float *bias,
			       int rows, int cols, int act)
{
	size_t n = (size_t)rows * cols;

	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		float v = z[i] + (bias ? bias[i % cols] : 0.0f);

		z[i] = v;
		switch (act) {
		case CNAI_ACT_RELU:
			v = v > 0.0f ? v : 0.0f;
			break;
		case CNAI_ACT_TANH:
			v = tanhf(v);
			break;
		case CNAI_ACT_GELU:
			v = gelu(v);
			break;
		}
		a[i] = v;
	}
}

__global__ void k_act_bwd(float *g, const float *z, const float *a,
			  size_t n, int act)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		switch (act) {
		case CNAI_ACT_RELU:
			if (!(a[i] > 0.0f))
				g[i] = 0.0f;
			break;
		case CNAI_ACT_TANH:
			g[i] *= 1.0f - a[i] * a[i];
			break;
		case CNAI_ACT_GELU:
			g[i] *= gelu_grad(z[i]);
			break;
		}
	}
}

/* One thread per column: adjacent threads read adjacent floats. */
__global__ void k_colsum(float *out, const float *g, int rows, int cols)
{
	int c = blockIdx.x * blockDim.x + threadIdx.x;
	float s = 0.0f;

	if (c >= cols)
		return;
	for (int r = 0; r < rows; r++)
		s += g[(size_t)r * cols + c];
	out[c] = s;
}

__global__ void k_dropout(float *x, size_t n, float p, uint64_t seed)
{
	float keep = 1.0f / (1.0f - p);

	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		x[i] = dropout_uniform(seed, i) < p ? 0.0f : x[i] * keep;
}

/*
 * The losses: one thread per row (the class count is small), rows
 * strided over at most PARTIALS blocks; each block's sum goes to
 * part[blockIdx.x] for k_add_partials.
 */
__global__ void k_softmax_xent(const float *z, const int32_t *labels,
			       float *g, float *part, int rows, int cols,
			       float scale)
{
	float l = 0.0f;

	for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < rows;
	     r += gridDim.x * blockDim.x) {
		const float *zr = z + (size_t)r * cols;
		float *gr = g + (size_t)r * cols;
		/* zy is read first: g may be z */
		float mx = zr[0], sum = 0.0f, zy = zr[labels[r]];

		for (int j = 1; j < cols; j++)
			mx = fmaxf(mx, zr[j]);
		for (int j = 0; j < cols; j++) {
			float e = expf(zr[j] - mx);

			gr[j] = e;
			sum += e;
		}
		l += logf(sum) - (zy - mx);
		for (int j = 0; j < cols; j++)
			gr[j] = gr[j] / sum * scale;
		gr[labels[r]] -= scale;
	}
	l = block_sum(l);
	if (threadIdx.x == 0)
		part[blockIdx.x] = l;
}

__global__ void k_sigmoid_bce(const float *z, const int32_t *labels,
			      float *g, float *part, int rows, float scale)
{
	float l = 0.0f;

	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < rows;
	     i += gridDim.x * blockDim.x) {
		float v = z[i], y = (float)labels[i];
		float p = 1.0f / (1.0f + expf(-v));

		l += (v > 0 ? v + log1pf(expf(-v)) : log1pf(expf(v))) - y * v;
		g[i] = (p - y) * scale;
	}
	l = block_sum(l);
	if (threadIdx.x == 0)
		part[blockIdx.x] = l;
}

__global__ void k_mse(const float *p, const float *t, float *g, float *part,
		      size_t n, float scale)
{
	float l = 0.0f;

	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		float d = p[i] - t[i];

		l += 0.5f * d * d;
		g[i] = d * scale;
	}
	l = block_sum(l);
	if (threadIdx.x == 0)
		part[blockIdx.x] = l;
}

__global__ void k_softmax(float *x, int rows, int cols)
{
	int r = blockIdx.x * blockDim.x + threadIdx.x;

	if (r >= rows)
		return;
	float *z = x + (size_t)r * cols, mx = z[0], sum = 0.0f;

	for (int j = 1; j < cols; j++)
		mx = fmaxf(mx, z[j]);
	for (int j = 0; j < cols; j++) {
		z[j] = expf(z[j] - mx);
		sum += z[j];
	}
	for (int j = 0; j < cols; j++)
		z[j] /= sum;
}

__global__ void k_sigmoid(float *x, size_t n)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x)
		x[i] = 1.0f / (1.0f + expf(-x[i]));
}

__global__ void k_adam(float *w, const float *g, float *m, float *v, size_t n,
		       float lr, float b1, float b2, float eps, float wd,
		       int decoupled, float c1, float c2)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		float gi = decoupled ? g[i] : g[i] + wd * w[i];
		float mi = b1 * m[i] + (1.0f - b1) * gi;
		float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
		float wi = w[i];

		m[i] = mi;
		v[i] = vi;
		if (decoupled)
			wi -= lr * wd * wi;
		w[i] = wi - lr * (mi * c1) / (sqrtf(vi * c2) + eps);
	}
}

__global__ void k_sgd(float *w, const float *g, float *vel, size_t n,
		      float lr, float mu, float wd)
{
	for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
	     i += (size_t)gridDim.x * blockDim.x) {
		float step = g[i] + wd * w[i];

		if (mu == 0.0f || !vel) {
			w[i] -= lr * step;
		} else {
			vel[i] = mu * vel[i] - lr * step;
			w[i] += vel[i];
		}
	}
}

struct cuda *C(void *ctx)
{
	return (struct cuda *)ctx;
}

void *c_alloc(void *ctx, size_t bytes)
{
	struct cuda *cu = C(ctx);
	void *p = NULL;
	cudaError_t e;

	if ((e = cudaMalloc(&p, bytes ? bytes : 4)) != cudaSuccess) {
		/* out of memory is the caller's to say; the rest is ours */
		if (e != cudaErrorMemoryAllocation)
			fail(cu, "CUDA cudaMalloc: %s", cudaGetErrorString(e));
		cudaGetLastError();
		return NULL;
	}
	if (check(cu, cudaMemsetAsync(p, 0, bytes ? bytes : 4, cu->stream),
		  "cudaMemsetAsync") < 0) {
		cudaFree(p);
		return NULL;
	}
	return p;
}

void c_free(void *ctx, void *p)
{
	struct cuda *cu = C(ctx);

	/* a sticky error is kept by the first call that met it */
	cudaStreamSynchronize(cu->stream);
	cudaFree(p);
}

/* A copy the caller waits for: src or dst may be reused at once. */
int copy_sync(struct cuda *cu, void *dst, const void *src, size_t bytes,
	      cudaMemcpyKind kind, const char *what)
{
	int err;

	if ((err = check(cu, cudaMemcpyAsync(dst, src, bytes, kind,
					     cu->stream),
			 what)) < 0)
		return err;
	return check(cu, cudaStreamSynchronize(cu->stream), what);
}

int c_upload(void *ctx, void *dst, const void *src, size_t bytes)
{
	return copy_sync(C(ctx), dst, src, bytes, cudaMemcpyHostToDevice,
			 "upload");
}

int c_download(void *ctx, void *dst, const void *src, size_t bytes)
{
	return copy_sync(C(ctx), dst, src, bytes, cudaMemcpyDeviceToHost,
			 "download");
}

int c_copy(void *ctx, void *dst, const void *src, size_t bytes)
{
	struct cuda *cu = C(ctx);

	return check(cu, cudaMemcpyAsync(dst, src, bytes,
					 cudaMemcpyDeviceToDevice, cu->stream),
		     "copy");
}

int c_sync(void *ctx)
{
	struct cuda *cu = C(ctx);

	return check(cu, cudaStreamSynchronize(cu->stream), "sync");
}

void c_gemm(void *ctx, int ta, int tb, int m, int n, int k, float alpha,
	    const float *a, int lda, const float *b, int ldb, float beta,
	    float *c, int ldc)
{
	struct cuda *cu = C(ctx);
	cublasStatus_t st;

	st = cu->sgemm(cu->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
		       ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, ldb,
		       a, lda, &beta, c, ldc);
	if (st != CUBLAS_STATUS_SUCCESS) {
		if (cu->status_name)
			fail(cu, "cuBLAS sgemm %dx%dx%d: %s", m, n, k,
			     cu->status_name(st));
		else
			fail(cu, "cuBLAS sgemm %dx%dx%d: status %d", m, n, k,
			     (int)st);
	}
	/* a kernel cuBLAS could not start shows here, not in its status */
	launched(cu, "cublasSgemm");
}

void c_gather_rows(void *ctx, float *dst, const float *src,
		   const int32_t *idx, int rows, int cols)
{
	if (rows > 0 && cols > 0)
		LAUNCH(C(ctx), k_gather_rows, blocks((size_t)rows * cols), dst,
		       src, idx, rows, cols);
}

void c_gather_i32(void *ctx, int32_t *dst, const int32_t *src,
		  const int32_t *idx, int n)
{
	if (n > 0)
		LAUNCH(C(ctx), k_gather_i32, blocks(n), dst, src, idx, n);
}

void c_bias_act_fwd(void *ctx, float *z, float *a, const float *bias,
		    int rows, int cols, enum cnai_act act)
{
	if (rows > 0 && cols > 0)
		LAUNCH(C(ctx), k_bias_act_fwd, blocks((size_t)rows * cols), z,
		       a, bias, rows, cols, (int)act);
}

void c_bias_act_bwd(void *ctx, float *g, const float *z, const float *a,
		    float *dbias, int rows, int cols, enum cnai_act act)
{
	struct cuda *cu = C(ctx);

	if (cols <= 0)
		return;
	if (act != CNAI_ACT_NONE && rows > 0)
		LAUNCH(cu, k_act_bwd, blocks((size_t)rows * cols), g, z, a,
		       (size_t)rows * cols, (int)act);
	if (dbias)
		LAUNCH(cu, k_colsum, (cols + T - 1) / T, dbias, g, rows, cols);
}

void c_dropout(void *ctx, float *x, size_t n, float p, uint64_t seed)
{
	if (n > 0)
		LAUNCH(C(ctx), k_dropout, blocks(n), x, n, p, seed);
}

void add_partials(struct cuda *cu, float *loss, int nblocks)
{
	LAUNCH(cu, k_add_partials, 1, loss, cu->partial, nblocks);
}

void c_softmax_xent(void *ctx, const float *logits, const int32_t *labels,
		    float *grad, float *loss, int rows, int cols, float scale)
{
	struct cuda *cu = C(ctx);
	int nb = loss_blocks(rows);

	if (rows <= 0 || cols <= 0)
		return;
	LAUNCH(cu, k_softmax_xent, nb, logits, labels, grad, cu->partial,
	       rows, cols, scale);
	add_partials(cu, loss, nb);
}

void c_sigmoid_bce(void *ctx, const float *logits, const int32_t *labels,
		   float *grad, float *loss, int rows, float scale)
{
	struct cuda *cu = C(ctx);
	int nb = loss_blocks(rows);

	if (rows <= 0)
		return;
	LAUNCH(cu, k_sigmoid_bce, nb, logits, labels, grad, cu->partial, rows,
	       scale);
	add_partials(cu, loss, nb);
}

void c_mse(void *ctx, const float *pred, const float *target, float *grad,
	   float *loss, int rows, int cols, float scale)
{
	struct cuda *cu = C(ctx);
	size_t n = (size_t)(rows > 0 ? rows : 0) * (cols > 0 ? cols : 0);
	int nb = loss_blocks(n);

	if (!n)
		return;
	LAUNCH(cu, k_mse, nb, pred, target, grad, cu->partial, n, scale);
	add_partials(cu, loss, nb);
}

void c_softmax(void *ctx, float *x, int rows, int cols)
{
	if (rows > 0 && cols > 0)
		LAUNCH(C(ctx), k_softmax, (rows + T - 1) / T, x, rows, cols);
}

void c_sigmoid(void *ctx, float *x, size_t n)
{
	if (n > 0)
		LAUNCH(C(ctx), k_sigmoid, blocks(n), x, n);
}

void c_adam(void *ctx, float *w, const float *g, float *m, float *v,
	    size_t n, float lr, float b1, float b2, float eps, float wd,
	    int decoupled, int64_t t)
{
	float c1 = 1.0f / (1.0f - powf(b1, (float)t));
	float c2 = 1.0f / (1.0f - powf(b2, (float)t));

	if (n > 0)
		LAUNCH(C(ctx), k_adam, blocks(n), w, g, m, v, n, lr, b1, b2,
		       eps, wd, decoupled, c1, c2);
}

void c_sgd(void *ctx, float *w, const float *g, float *vel, size_t n,
	   float lr, float mu, float wd)
{
	if (n > 0)
		LAUNCH(C(ctx), k_sgd, blocks(n), w, g, vel, n, lr, mu, wd);
}

/* Frees what open made, whichever step it reached. */
void release(struct cuda *cu)
{
	if (!cu)
		return;
	if (cu->stream)
		cudaStreamSynchronize(cu->stream);
	if (cu->blas)
		cu->destroy(cu->blas);
	if (cu->partial)
		cudaFree(cu->partial);
	if (cu->stream)
		cudaStreamDestroy(cu->stream);
	free(cu);
}

void c_close(struct cnai_backend *be)
{
	if (!be)
		return;
	release(C(be->ctx));
	free(be);
}

/* The NVIDIA kernel module's version ("580.65.06"), or "" if none. */
void driver_release(char *out, size_t len)
{
	char line[512];
	FILE *f = fopen("/proc/driver/nvidia/version", "r");
	char *p;

	*out = '\0';
	if (!f)
		return;
	if (fgets(line, sizeof(line), f))
		for (p = line; *p; p++) {
			size_t n = strspn(p, "0123456789.");

			if (n >= 4 && isdigit((unsigned char)*p) &&
			    p > line && p[-1] == ' ' && memchr(p, '.', n)) {
				snprintf(out, len, "%.*s", (int)n, p);
				break;
			}
		}
	fclose(f);
}

/*
 * cudaGetDeviceCount said the driver is too old or missing: say which
 * driver is there and which one the runtime we were built with needs.
 * CNAI_CUDA_ENODEV when there is no NVIDIA driver at all.
 */
int driver_too_old(char *err, size_t errlen)
{
	int have = 0, need = CUDART_VERSION;
	/* the Linux driver branch each CUDA major version needs */
	int branch = need / 1000 >= 13 ? 580 : need / 1000 == 12 ? 525 : 0;
	char rel[32], needs[64];

	cudaDriverGetVersion(&have);
	driver_release(rel, sizeof(rel));
	if (branch)
		snprintf(needs, sizeof(needs), "CUDA %d.%d, a driver R%d or "
			 "newer", need / 1000, need % 1000 / 10, branch);
	else
		snprintf(needs, sizeof(needs), "CUDA %d.%d", need / 1000,
			 need % 1000 / 10);
	if (!have && !rel[0]) {
		snprintf(err, errlen, "no NVIDIA driver (libcuda.so.1); the "
			 "plug-in needs %s", needs);
		return CNAI_CUDA_ENODEV;
	}
	if (!have)
		snprintf(err, errlen, "the NVIDIA driver %s has no "
			 "libcuda.so.1 here; the plug-in needs %s", rel, needs);
	else
		snprintf(err, errlen, "the NVIDIA driver%s%s runs CUDA %d.%d; "
			 "the plug-in needs %s", rel[0] ? " " : "", rel,
			 have / 1000, have % 1000 / 10, needs);
	return CNAI_ERROR;
}

/*
 * The kernels carry code for some architectures only (CNAI_CUDA_ARCHS);
 * cuBLAS carries its own, so without this probe a GPU we have no code
 * for ran cuBLAS and nothing else. A launch checks the PTX JIT as well.
 */
int probe(struct cuda *cu, const struct cudaDeviceProp *prop, char *err,
	  size_t errlen)
{
	struct cudaFuncAttributes fa;
	cudaError_t e;

	if ((e = cudaFuncGetAttributes(&fa, k_add_partials)) == cudaSuccess) {
		k_add_partials<<<1, T, 0, cu->stream>>>(cu->partial,
							 cu->partial + 1, 0);
		if ((e = cudaGetLastError()) == cudaSuccess)
			e = cudaStreamSynchronize(cu->stream);
	}
	if (e == cudaSuccess)
		return 0;
	snprintf(err, errlen,
		 "%.80s (compute capability %d.%d) cannot run the plug-in's "
		 "kernels, built for %s: %s",
		 prop->name, prop->major, prop->minor, CNAI_CUDA_ARCHS,
		 cudaGetErrorString(e));
	return CNAI_ERROR;
}

template <typename F> bool sym(F *out, const char *name)
{
	*(void **)out = dlsym(cublas_lib, name);
	return *out != NULL;
}

int setup_cublas(struct cuda *cu, char *err, size_t errlen)
{
	cublasStatus_t (*create)(cublasHandle_t *);
	cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t);
	cublasStatus_t (*set_math)(cublasHandle_t, cublasMath_t);
	cublasStatus_t st;

	if (!cublas_lib &&
	    !(cublas_lib = dlopen("libcublas.so." CNAI_CUBLAS_MAJOR,
				  RTLD_NOW | RTLD_LOCAL)) &&
	    !(cublas_lib = dlopen("libcublas.so", RTLD_NOW | RTLD_LOCAL))) {
		snprintf(err, errlen, "cannot load cuBLAS: %s", dlerror());
		return CNAI_ERROR;
	}
	sym(&cu->status_name, "cublasGetStatusName");
	if (!sym(&create, "cublasCreate_v2") ||
	    !sym(&set_stream, "cublasSetStream_v2") ||
	    !sym(&set_math, "cublasSetMathMode") ||
	    !sym(&cu->sgemm, "cublasSgemm_v2") ||
	    !sym(&cu->destroy, "cublasDestroy_v2")) {
		snprintf(err, errlen, "cuBLAS lacks a function: %s", dlerror());
		return CNAI_ERROR;
	}
	if ((st = create(&cu->blas)) != CUBLAS_STATUS_SUCCESS) {
		cu->blas = NULL;
		snprintf(err, errlen, "cublasCreate: %s",
			 cu->status_name ? cu->status_name(st) : "failed");
		return CNAI_ERROR;
	}
	/* fp32 products stay fp32 (no TF32): the CPU check is 1e-4 */
	if ((st = set_stream(cu->blas, cu->stream)) != CUBLAS_STATUS_SUCCESS ||
	    (st = set_math(cu->blas, CUBLAS_DEFAULT_MATH)) !=
		    CUBLAS_STATUS_SUCCESS) {
		snprintf(err, errlen, "cuBLAS set-up: %s",
			 cu->status_name ? cu->status_name(st) : "failed");
		return CNAI_ERROR;
	}
	return 0;
}

int open_device(struct cuda *cu, struct cudaDeviceProp *prop, char *err,
		size_t errlen)
{
	cudaError_t e;
	int n = 0;

	if ((e = cudaGetDeviceCount(&n)) == cudaErrorInsufficientDriver)
		return driver_too_old(err, errlen);
	if (e == cudaErrorNoDevice || (e == cudaSuccess && n < 1)) {
		snprintf(err, errlen, "no CUDA GPU");
		return CNAI_CUDA_ENODEV;
	}
	if (e == cudaSuccess && (e = cudaSetDevice(0)) == cudaSuccess &&
	    (e = cudaGetDeviceProperties(prop, 0)) == cudaSuccess &&
	    (e = cudaStreamCreate(&cu->stream)) == cudaSuccess &&
	    (e = cudaMalloc(&cu->partial, PARTIALS * sizeof(float))) ==
		    cudaSuccess)
		return 0;
	snprintf(err, errlen, "CUDA device 0: %s", cudaGetErrorString(e));
	return CNAI_ERROR;
}

} /* namespace */

extern "C" int cnai_cuda_backend_open(struct cnai_backend **out, int version,
				      char *err, size_t errlen)
{
	struct cnai_backend *be = NULL;
	struct cuda *cu = NULL;
	struct cudaDeviceProp prop;
	int rc;

	*out = NULL;
	if (version != CNAI_BACKEND_VERSION) {
		snprintf(err, errlen,
			 "the CUDA plug-in speaks ops version %d, not %d",
			 CNAI_BACKEND_VERSION, version);
		return CNAI_ERROR;
	}
	if (!(be = (struct cnai_backend *)calloc(1, sizeof(*be))) ||
	    !(cu = (struct cuda *)calloc(1, sizeof(*cu)))) {
		snprintf(err, errlen, "out of memory");
		rc = CNAI_ERROR;
		goto cleanup;
	}
	if ((rc = open_device(cu, &prop, err, errlen)) < 0 ||
	    (rc = probe(cu, &prop, err, errlen)) < 0 ||
	    (rc = setup_cublas(cu, err, errlen)) < 0)
		goto cleanup;
	cu->be = be;
	be->version = CNAI_BACKEND_VERSION;
	be->name = "cuda";
	snprintf(be->device, sizeof(be->device), "cuda, %.100s", prop.name);
	be->ctx = cu;
	be->alloc = c_alloc;
	be->free = c_free;
	be->wrap = NULL;
	be->upload = c_upload;
	be->download = c_download;
	be->copy = c_copy;
	be->sync = c_sync;
	be->gemm = c_gemm;
	be->gather_rows = c_gather_rows;
	be->gather_i32 = c_gather_i32;
	be->bias_act_fwd = c_bias_act_fwd;
	be->bias_act_bwd = c_bias_act_bwd;
	be->dropout = c_dropout;
	be->softmax_xent = c_softmax_xent;
	be->sigmoid_bce = c_sigmoid_bce;
	be->mse = c_mse;
	be->softmax = c_softmax;
	be->sigmoid = c_sigmoid;
	be->adam = c_adam;
	be->sgd = c_sgd;
	be->close = c_close;
	*out = be;
	return 0;
cleanup:
	release(cu);
	free(be);
	return rc;
}
