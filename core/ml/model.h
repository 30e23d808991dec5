/*
 * Built-in models: linear regression, logistic regression, softmax
 * regression and multi-layer perceptrons, as a stack of dense layers with
 * one activation between them and a head (identity, sigmoid, softmax).
 * The preprocessing learnt from the training split (standardisation,
 * imputation, one-hot categories) and the target's classes or scaling
 * belong to the model, so prediction takes raw table columns.
 */
#ifndef CNAI_CORE_ML_MODEL_H
#define CNAI_CORE_ML_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/data/table.h"
#include "gpu/backend.h"

enum cnai_ml_kind {
	CNAI_ML_LINEAR,   /* regression, no hidden layer */
	CNAI_ML_LOGISTIC, /* 2 classes, sigmoid output */
	CNAI_ML_SOFTMAX,  /* >= 2 classes, softmax output */
	CNAI_ML_MLP,      /* hidden layers; regression or classification */
};

enum cnai_ml_head { CNAI_HEAD_IDENTITY, CNAI_HEAD_SIGMOID, CNAI_HEAD_SOFTMAX };

/*
 * One input column. Numeric: empty -> fill, then (x - mean) / std, all
 * in float32 (the ONNX graph does the same operations). Categorical: one
 * 0/1 column per training category; an unknown category is all zeros, an
 * empty cell is the mode (cats[mode]).
 */
struct cnai_ml_feature {
	char *name;
	int categorical;
	float mean, std, fill;
	char **cats;
	size_t ncats, mode;
};

/* Encoded input: the numeric features first, then each one-hot block. */
struct cnai_ml_prep {
	struct cnai_ml_feature *f; /* numeric ones first */
	size_t n, nnumeric, width;
};

struct cnai_ml_dense {
	int in, out;
	float *w; /* in x out, row-major: y = x w + b */
	float *b;
};

struct cnai_ml_model {
	enum cnai_ml_kind kind;
	enum cnai_ml_head head;
	enum cnai_act act;
	float dropout;
	struct cnai_ml_dense *layers;
	size_t nlayers;
	struct cnai_ml_prep prep;
	char *target;
	char **classes; /* classification */
	size_t nclasses;
	float y_mean, y_std; /* regression: the target is standardised */
};

/* "linear" ... and back; -1 / NULL for an unknown name. */
int cnai_ml_kind_parse(const char *s);
const char *cnai_ml_kind_name(enum cnai_ml_kind k);
int cnai_act_parse(const char *s);
const char *cnai_act_name(enum cnai_act a);

/* 1 for a classifier. */
int cnai_ml_model_is_classifier(const struct cnai_ml_model *m);
/* Output width of the network (1 for regression and sigmoid). */
int cnai_ml_model_nout(const struct cnai_ml_model *m);
/* Output width of predictions: classes (probabilities) or 1. */
int cnai_ml_model_npred(const struct cnai_ml_model *m);

/*
 * Builds the layers for m->kind with `hidden` widths (MLP only), after
 * m->prep, head and classes are set, with Glorot-uniform weights drawn
 * from `seed` and zero biases.
 */
int cnai_ml_model_init_layers(struct cnai_ml_model *m, const int *hidden,
			      size_t nhidden, uint64_t seed);
/* Number of parameters. */
size_t cnai_ml_model_nparams(const struct cnai_ml_model *m);
void cnai_ml_model_free(struct cnai_ml_model *m);

/*
 * Inference: X (n x prep.width, encoded) -> out (n x npred): class
 * probabilities, or the regression value in the target's units.
 */
int cnai_ml_model_predict(const struct cnai_ml_model *m,
			  struct cnai_backend *be, const float *x, size_t n,
			  float *out);

/*
 * Fits the preprocessing for columns `cols` (indices in t, ncols of them)
 * on the rows `rows` (n of them; NULL: all). Numeric features keep the
 * order given, categorical ones follow.
 */
int cnai_ml_prep_fit(struct cnai_ml_prep *p, const struct cnai_dtable *t,
		     const size_t *cols, size_t ncols, const size_t *rows,
		     size_t n);

/* What a transform did, for the report. */
struct cnai_ml_prep_stats {
	size_t imputed; /* empty cells filled */
	size_t unknown; /* categories not seen in training (all zeros) */
};

/*
 * Encodes rows `rows` (NULL: all) of t into out (n x p->width). Columns
 * are found by name: a missing one is CNAI_EINVALID naming it and the
 * file; a categorical feature needs a string column.
 */
int cnai_ml_prep_transform(const struct cnai_ml_prep *p,
			   const struct cnai_dtable *t, const size_t *rows,
			   size_t n, float *out,
			   struct cnai_ml_prep_stats *stats);
/*
 * Encodes every row of t in place, when every feature is numeric: the
 * encoded matrix (t->nrows x p->width) is moved out of the table into
 * *out (the caller frees it) and the table keeps only its metadata. This
 * keeps peak memory near one matrix instead of two. CNAI_EINVALID as for
 * cnai_ml_prep_transform.
 */
int cnai_ml_prep_transform_inplace(float **out, const struct cnai_ml_prep *p,
				   struct cnai_dtable *t,
				   struct cnai_ml_prep_stats *stats);
/* The column types a table must be loaded with for these features. */
int cnai_ml_prep_table_opts(const struct cnai_ml_prep *p, const char ***names,
			    enum cnai_col_type **types);
void cnai_ml_prep_release(struct cnai_ml_prep *p);

/* splitmix64: the one random source of training (shuffles, init). */
static inline uint64_t cnai_ml_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1) with 53 bits. */
static inline double cnai_ml_rand_unit(uint64_t *s)
{
	return (double)(cnai_ml_rand(s) >> 11) * (1.0 / 9007199254740992.0);
}

/* Fisher-Yates shuffle of idx[0, n) from state s. */
void cnai_ml_shuffle(int32_t *idx, size_t n, uint64_t *s);

#endif
