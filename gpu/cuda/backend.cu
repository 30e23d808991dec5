/*
 * The CUDA backend: the ops of gpu/backend.h as CUDA kernels, matrix
 * products through cuBLAS. Built by nvcc into libcnai-cuda.so, which
 * gpu/loader.c opens with dlopen, so the cnai binary itself never links
 * the CUDA runtime. Row-major products map onto column-major cuBLAS by
 * computing C^T = op(B)^T op(A)^T.
 *
 * cuBLAS (several hundred MB of libraries) is opened with dlopen only
 * once a GPU has answered, so a machine without one falls back to the
 * CPU in milliseconds.
 *
 * Losses reduce within a block and add one partial sum per block with
 * atomicAdd, so GPU loss sums are not bit-reproducible (the weights are:
 * no op here depends on the order of atomics except the loss report).
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "gpu/backend.h"
}

namespace {

struct cuda {
	cublasHandle_t blas;
	cudaStream_t stream;
	cublasStatus_t (*sgemm)(cublasHandle_t, cublasOperation_t,
				cublasOperation_t, int, int, int,
				const float *, const float *, int,
				const float *, int, const float *, float *,
				int);
	cublasStatus_t (*destroy)(cublasHandle_t);
};

void *cublas_lib;

const int T = 256;

inline int blocks(size_t n)
{
	size_t b = (n + T - 1) / T;
	return (int)(b > 65535 * 8 ? 65535 * 8 : (b ? b : 1));
}

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

/* Sums `v` over the block; thread 0 adds the sum to *out. */
__device__ void block_add(float v, float *out)
{
	__shared__ float part[32];
	int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;

	for (int o = 16; o > 0; o >>= 1)
		v += __shfl_down_sync(0xffffffffu, v, o);
	if (lane == 0)
		part[warp] = v;
	__syncthreads();
	if (warp == 0) {
		v = lane < (int)(blockDim.x >> 5) ? part[lane] : 0.0f;
		for (int o = 16; o > 0; o >>= 1)
			v += __shfl_down_sync(0xffffffffu, v, o);
		if (lane == 0)
			atomicAdd(out, v);
	}
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

/* One thread per row (the class count is small). */
__global__ void k_softmax_xent(const float *z, const int32_t *labels,
			       float *g, float *loss, int rows, int cols,
			       float scale)
{
	int r = blockIdx.x * blockDim.x + threadIdx.x;
	float l = 0.0f;

	if (r < rows) {
		const float *zr = z + (size_t)r * cols;
		float *gr = g + (size_t)r * cols;
		float mx = zr[0], sum = 0.0f, zy = zr[labels[r]];

		for (int j = 1; j < cols; j++)
			mx = fmaxf(mx, zr[j]);
		for (int j = 0; j < cols; j++) {
			float e = expf(zr[j] - mx);

			gr[j] = e;
			sum += e;
		}
		l = logf(sum) - (zy - mx);
		for (int j = 0; j < cols; j++)
			gr[j] = gr[j] / sum * scale;
		gr[labels[r]] -= scale;
	}
	block_add(l, loss);
}

__global__ void k_sigmoid_bce(const float *z, const int32_t *labels,
			      float *g, float *loss, int rows, float scale)
{
	int i = blockIdx.x * blockDim.x + threadIdx.x;
	float l = 0.0f;

	if (i < rows) {
		float v = z[i], y = (float)labels[i];
		float p = 1.0f / (1.0f + expf(-v));

		l = (v > 0 ? v + log1pf(expf(-v)) : log1pf(expf(v))) - y * v;
		g[i] = (p - y) * scale;
	}
	block_add(l, loss);
}

__global__ void k_mse(const float *p, const float *t, float *g, float *loss,
		      size_t n, float scale)
{
	size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
	float l = 0.0f;

	if (i < n) {
		float d = p[i] - t[i];

		l = 0.5f * d * d;
		g[i] = d * scale;
	}
	block_add(l, loss);
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

cudaStream_t S(void *ctx)
{
	return ((struct cuda *)ctx)->stream;
}

void *c_alloc(void *ctx, size_t bytes)
{
	void *p = NULL;

	if (cudaMalloc(&p, bytes ? bytes : 4) != cudaSuccess)
		return NULL;
	cudaMemsetAsync(p, 0, bytes ? bytes : 4, S(ctx));
	return p;
}

void c_free(void *ctx, void *p)
{
	cudaStreamSynchronize(S(ctx));
	cudaFree(p);
}

int c_upload(void *ctx, void *dst, const void *src, size_t bytes)
{
	/* src may be reused by the caller at once: synchronous */
	if (cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, S(ctx)) !=
		    cudaSuccess ||
	    cudaStreamSynchronize(S(ctx)) != cudaSuccess)
		return -1;
	return 0;
}

int c_download(void *ctx, void *dst, const void *src, size_t bytes)
{
	if (cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, S(ctx)) !=
		    cudaSuccess ||
	    cudaStreamSynchronize(S(ctx)) != cudaSuccess)
		return -1;
	return 0;
}

int c_copy(void *ctx, void *dst, const void *src, size_t bytes)
{
	return cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice,
			       S(ctx)) == cudaSuccess ? 0 : -1;
}

int c_sync(void *ctx)
{
	return cudaStreamSynchronize(S(ctx)) == cudaSuccess ? 0 : -1;
}

void c_gemm(void *ctx, int ta, int tb, int m, int n, int k, float alpha,
	    const float *a, int lda, const float *b, int ldb, float beta,
	    float *c, int ldc)
{
	struct cuda *cu = (struct cuda *)ctx;

	cu->sgemm(cu->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
		    ta ? CUBLAS_OP_T : CUBLAS_OP_N, n, m, k, &alpha, b, ldb, a,
		    lda, &beta, c, ldc);
}

void c_gather_rows(void *ctx, float *dst, const float *src,
		   const int32_t *idx, int rows, int cols)
{
	k_gather_rows<<<blocks((size_t)rows * cols), T, 0, S(ctx)>>>(
		dst, src, idx, rows, cols);
}

void c_gather_i32(void *ctx, int32_t *dst, const int32_t *src,
		  const int32_t *idx, int n)
{
	k_gather_i32<<<blocks(n), T, 0, S(ctx)>>>(dst, src, idx, n);
}

void c_bias_act_fwd(void *ctx, float *z, float *a, const float *bias,
		    int rows, int cols, enum cnai_act act)
{
	k_bias_act_fwd<<<blocks((size_t)rows * cols), T, 0, S(ctx)>>>(
		z, a, bias, rows, cols, (int)act);
}

void c_bias_act_bwd(void *ctx, float *g, const float *z, const float *a,
		    float *dbias, int rows, int cols, enum cnai_act act)
{
	if (act != CNAI_ACT_NONE)
		k_act_bwd<<<blocks((size_t)rows * cols), T, 0, S(ctx)>>>(
			g, z, a, (size_t)rows * cols, (int)act);
	if (dbias)
		k_colsum<<<(cols + T - 1) / T, T, 0, S(ctx)>>>(dbias, g, rows,
							       cols);
}

void c_dropout(void *ctx, float *x, size_t n, float p, uint64_t seed)
{
	k_dropout<<<blocks(n), T, 0, S(ctx)>>>(x, n, p, seed);
}

void c_softmax_xent(void *ctx, const float *logits, const int32_t *labels,
		    float *grad, float *loss, int rows, int cols, float scale)
{
	k_softmax_xent<<<(rows + T - 1) / T, T, 0, S(ctx)>>>(
		logits, labels, grad, loss, rows, cols, scale);
}

void c_sigmoid_bce(void *ctx, const float *logits, const int32_t *labels,
		   float *grad, float *loss, int rows, float scale)
{
	k_sigmoid_bce<<<(rows + T - 1) / T, T, 0, S(ctx)>>>(
		logits, labels, grad, loss, rows, scale);
}

void c_mse(void *ctx, const float *pred, const float *target, float *grad,
	   float *loss, int rows, int cols, float scale)
{
	size_t n = (size_t)rows * cols;

	k_mse<<<(unsigned)((n + T - 1) / T), T, 0, S(ctx)>>>(
		pred, target, grad, loss, n, scale);
}

void c_softmax(void *ctx, float *x, int rows, int cols)
{
	k_softmax<<<(rows + T - 1) / T, T, 0, S(ctx)>>>(x, rows, cols);
}

void c_sigmoid(void *ctx, float *x, size_t n)
{
	k_sigmoid<<<blocks(n), T, 0, S(ctx)>>>(x, n);
}

void c_adam(void *ctx, float *w, const float *g, float *m, float *v,
	    size_t n, float lr, float b1, float b2, float eps, float wd,
	    int decoupled, int64_t t)
{
	float c1 = 1.0f / (1.0f - powf(b1, (float)t));
	float c2 = 1.0f / (1.0f - powf(b2, (float)t));

	k_adam<<<blocks(n), T, 0, S(ctx)>>>(w, g, m, v, n, lr, b1, b2, eps,
					     wd, decoupled, c1, c2);
}

void c_sgd(void *ctx, float *w, const float *g, float *vel, size_t n,
	   float lr, float mu, float wd)
{
	k_sgd<<<blocks(n), T, 0, S(ctx)>>>(w, g, vel, n, lr, mu, wd);
}

void c_close(struct cnai_backend *be)
{
	struct cuda *cu;

	if (!be)
		return;
	cu = (struct cuda *)be->ctx;
	cudaStreamSynchronize(cu->stream);
	cu->destroy(cu->blas);
	cudaStreamDestroy(cu->stream);
	free(cu);
	free(be);
}

} /* namespace */

extern "C" int cnai_cuda_backend_open(struct cnai_backend **out, int version,
				      char *err, size_t errlen)
{
	struct cnai_backend *be;
	struct cuda *cu;
	struct cudaDeviceProp prop;
	cudaError_t ce;
	int n = 0;

	*out = NULL;
	if (version != CNAI_BACKEND_VERSION) {
		snprintf(err, errlen,
			 "the CUDA plug-in speaks ops version %d, not %d",
			 CNAI_BACKEND_VERSION, version);
		return -1;
	}
	if ((ce = cudaGetDeviceCount(&n)) != cudaSuccess || n < 1) {
		if (ce == cudaErrorInsufficientDriver)
			snprintf(err, errlen, "no NVIDIA driver for CUDA %d.%d",
				 CUDART_VERSION / 1000,
				 CUDART_VERSION % 1000 / 10);
		else if (ce == cudaErrorNoDevice || n < 1)
			snprintf(err, errlen, "no CUDA GPU");
		else
			snprintf(err, errlen, "CUDA: %s",
				 cudaGetErrorString(ce));
		return -1;
	}
	if (!cublas_lib &&
	    !(cublas_lib = dlopen("libcublas.so." CNAI_CUBLAS_MAJOR,
				  RTLD_NOW | RTLD_LOCAL)) &&
	    !(cublas_lib = dlopen("libcublas.so", RTLD_NOW | RTLD_LOCAL))) {
		snprintf(err, errlen, "cannot load cuBLAS: %s", dlerror());
		return -1;
	}
	be = (struct cnai_backend *)calloc(1, sizeof(*be));
	cu = (struct cuda *)calloc(1, sizeof(*cu));
	cublasStatus_t (*create)(cublasHandle_t *) =
		(cublasStatus_t(*)(cublasHandle_t *))dlsym(cublas_lib,
							   "cublasCreate_v2");
	cublasStatus_t (*set_stream)(cublasHandle_t, cudaStream_t) =
		(cublasStatus_t(*)(cublasHandle_t, cudaStream_t))dlsym(
			cublas_lib, "cublasSetStream_v2");
	cublasStatus_t (*set_math)(cublasHandle_t, cublasMath_t) =
		(cublasStatus_t(*)(cublasHandle_t, cublasMath_t))dlsym(
			cublas_lib, "cublasSetMathMode");
	if (cu) {
		cu->sgemm = (decltype(cu->sgemm))dlsym(cublas_lib,
						       "cublasSgemm_v2");
		cu->destroy = (decltype(cu->destroy))dlsym(cublas_lib,
							   "cublasDestroy_v2");
	}
	if (!be || !cu || !create || !set_stream || !set_math || !cu->sgemm ||
	    !cu->destroy || cudaSetDevice(0) != cudaSuccess ||
	    cudaStreamCreate(&cu->stream) != cudaSuccess ||
	    create(&cu->blas) != CUBLAS_STATUS_SUCCESS) {
		snprintf(err, errlen, "cannot set up CUDA device 0");
		free(be);
		free(cu);
		return -1;
	}
	set_stream(cu->blas, cu->stream);
	/* fp32 products stay fp32 (no TF32): the CPU check is 1e-4 */
	set_math(cu->blas, CUBLAS_DEFAULT_MATH);
	cudaGetDeviceProperties(&prop, 0);
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
}
