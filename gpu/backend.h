/*
 * The compute backends' ops table. The trainer (core/ml) drives a model
 * through these calls only, so the same code runs on the CPU (gpu/cpu.c:
 * OpenBLAS and plain loops) and on CUDA (gpu/cuda/, a plug-in loaded by
 * gpu/loader.c with dlopen). Pointers marked "device" belong to the
 * backend: made by alloc or wrap, filled by upload, read by download.
 *
 * Matrices are row-major float32. Ops are asynchronous on devices that
 * queue work; download and sync wait. `version` lets a plug-in built from
 * other sources be refused instead of misread.
 */
#ifndef CNAI_GPU_BACKEND_H
#define CNAI_GPU_BACKEND_H

#include <stddef.h>
#include <stdint.h>

/* 2: the error hook */
#define CNAI_BACKEND_VERSION 2

enum cnai_act {
	CNAI_ACT_NONE = 0,
	CNAI_ACT_RELU = 1,
	CNAI_ACT_TANH = 2,
	CNAI_ACT_GELU = 3, /* exact: 0.5 x (1 + erf(x / sqrt 2)) */
};

struct cnai_backend {
	int version; /* CNAI_BACKEND_VERSION */
	const char *name;  /* "cpu", "cuda" */
	char device[128];  /* "OpenBLAS 0.3.21 (2 threads)", "NVIDIA H200" */
	void *ctx;
	/*
	 * Filled by cnai_backend_open before the first op: how a backend
	 * sets the message of a call that fails (cnai_error_set). A plug-in
	 * is not linked against cnai, so it gets the function here.
	 */
	int (*error)(int code, const char *fmt, ...);

	/* Memory. alloc zero-fills. wrap (optional, NULL if the backend
	 * cannot): use host memory as device memory without a copy. */
	void *(*alloc)(void *ctx, size_t bytes);
	void (*free)(void *ctx, void *p);
	void *(*wrap)(void *ctx, void *host);
	int (*upload)(void *ctx, void *dst, const void *src, size_t bytes);
	int (*download)(void *ctx, void *dst, const void *src, size_t bytes);
	/* dst[0, bytes) = src[0, bytes), both device. */
	int (*copy)(void *ctx, void *dst, const void *src, size_t bytes);
	int (*sync)(void *ctx);

	/* C[m x n] = alpha op(A) op(B) + beta C; op(X) = X or X^T. */
	void (*gemm)(void *ctx, int trans_a, int trans_b, int m, int n, int k,
		     float alpha, const float *a, int lda, const float *b,
		     int ldb, float beta, float *c, int ldc);
	/* dst row i = src row idx[i] (cols floats); idx device int32. */
	void (*gather_rows)(void *ctx, float *dst, const float *src,
			    const int32_t *idx, int rows, int cols);
	/* dst[i] = src[idx[i]] for int32 (labels). */
	void (*gather_i32)(void *ctx, int32_t *dst, const int32_t *src,
			   const int32_t *idx, int n);
	/*
	 * Forward: z = x + bias (per column, in place on x), then
	 * a = act(z). z may equal a (then z is not kept; fine for relu and
	 * tanh, whose derivative is a function of a).
	 */
	void (*bias_act_fwd)(void *ctx, float *z, float *a, const float *bias,
			     int rows, int cols, enum cnai_act act);
	/*
	 * Backward: g = g * act'(z or a) in place, and dbias = column sums
	 * of the result (overwritten; NULL to skip).
	 */
	void (*bias_act_bwd)(void *ctx, float *g, const float *z,
			     const float *a, float *dbias, int rows, int cols,
			     enum cnai_act act);
	/*
	 * Inverted dropout with a counter-based mask (the same on every
	 * backend for a seed): x[i] *= keep(seed, i) / (1 - p). Called with
	 * the same seed on activations forward and on gradients backward.
	 */
	void (*dropout)(void *ctx, float *x, size_t n, float p, uint64_t seed);
	/*
	 * Losses over a batch of `rows`. Each adds the sum of the per-row
	 * losses to *loss (device, one float) and writes the gradient of
	 * (sum of losses * scale) with respect to the input into grad
	 * (which may be the input).
	 * softmax_xent: logits rows x cols, labels int32 class indices.
	 * sigmoid_bce: logits rows x 1, labels 0/1.
	 * mse: pred rows x cols, target rows x cols; loss 0.5 (p - t)^2.
	 */
	void (*softmax_xent)(void *ctx, const float *logits,
			     const int32_t *labels, float *grad, float *loss,
			     int rows, int cols, float scale);
	void (*sigmoid_bce)(void *ctx, const float *logits,
			    const int32_t *labels, float *grad, float *loss,
			    int rows, float scale);
	void (*mse)(void *ctx, const float *pred, const float *target,
		    float *grad, float *loss, int rows, int cols, float scale);
	/* In-place softmax (rows x cols) and sigmoid (n), for inference. */
	void (*softmax)(void *ctx, float *x, int rows, int cols);
	void (*sigmoid)(void *ctx, float *x, size_t n);

	/*
	 * Optimiser steps over n parameters. adam: decoupled != 0 is AdamW
	 * (w -= lr wd w), else wd is added to the gradient (L2).
	 * t is the 1-based step for bias correction.
	 */
	void (*adam)(void *ctx, float *w, const float *g, float *m, float *v,
		     size_t n, float lr, float beta1, float beta2, float eps,
		     float wd, int decoupled, int64_t t);
	/* momentum 0: plain SGD; else v = mu v - lr (g + wd w); w += v. */
	void (*sgd)(void *ctx, float *w, const float *g, float *vel, size_t n,
		    float lr, float momentum, float wd);

	void (*close)(struct cnai_backend *be);
};

/*
 * The dropout mask's random source, shared by every backend: a 64-bit
 * mix of (seed, index) mapped to [0, 1) with 24 bits.
 */
static inline float cnai_dropout_uniform(uint64_t seed, uint64_t i)
{
	uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (float)(z >> 40) * (1.0f / 16777216.0f);
}

/*
 * Opens a backend. `device`: "cpu", "cuda" or "auto" (CUDA when the
 * plug-in loads and a GPU answers, else CPU). `threads` > 0 caps the CPU
 * threads. When auto falls back to the CPU although a GPU or a chosen
 * plug-in ($CNAI_CUDA_PLUGIN) is there, `notice` (if not NULL) gets a
 * one-line reason; else (no plug-in built, no NVIDIA driver or device)
 * it is set to "". "cuda" without a usable GPU is CNAI_ERROR with the
 * reason. Close with be->close(be).
 */
int cnai_backend_open(struct cnai_backend **out, const char *device,
		      int threads, char *notice, size_t notice_len);

/* The CPU backend (gpu/cpu.c); OpenBLAS is loaded on the first call. */
int cnai_backend_cpu_open(struct cnai_backend **out, int threads);

/*
 * What the CUDA plug-in exports, under this name. It returns 0 with *out
 * set, or a negative code with a one-line reason in err:
 * CNAI_CUDA_ENODEV where this machine has no NVIDIA driver or device at
 * all (auto then falls back without a word), else CNAI_ERROR (-1).
 */
#define CNAI_CUDA_ENTRY "cnai_cuda_backend_open"
#define CNAI_CUDA_ENODEV (-2)
typedef int (*cnai_cuda_open_fn)(struct cnai_backend **out, int version,
				 char *err, size_t errlen);

#endif
