/* Classification and regression metrics, in double precision. */
#include "core/ml/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util/error.h"
#include "core/util/banned.h"

int32_t cnai_ml_argmax(const float *x, size_t k)
{
	size_t i, best = 0;

	for (i = 1; i < k; i++)
		if (x[i] > x[best])
			best = i;
	return (int32_t)best;
}

int cnai_ml_cls_report(struct cnai_ml_cls_report *out, const int32_t *truth,
		       const int32_t *pred, size_t n, size_t k)
{
	size_t i, c, ok = 0;

	memset(out, 0, sizeof(*out));
	out->k = k;
	out->n = n;
	out->per = calloc(k ? k : 1, sizeof(*out->per));
	out->confusion = calloc(k ? k * k : 1, sizeof(size_t));
	if (!out->per || !out->confusion) {
		cnai_ml_cls_report_release(out);
		return cnai_error_set(CNAI_ERROR, "out of memory");
	}
	for (i = 0; i < n; i++) {
		out->confusion[(size_t)truth[i] * k + (size_t)pred[i]]++;
		ok += truth[i] == pred[i];
	}
	out->accuracy = n ? (double)ok / (double)n : 0;
	for (c = 0; c < k; c++) {
		size_t tp = out->confusion[c * k + c], col = 0, row = 0, j;
		struct cnai_ml_class_metrics *p = &out->per[c];

		for (j = 0; j < k; j++) {
			col += out->confusion[j * k + c];
			row += out->confusion[c * k + j];
		}
		p->support = row;
		p->precision = col ? (double)tp / (double)col : 0;
		p->recall = row ? (double)tp / (double)row : 0;
		p->f1 = p->precision + p->recall > 0
				? 2 * p->precision * p->recall /
					  (p->precision + p->recall)
				: 0;
		out->macro_f1 += p->f1 / (double)k;
	}
	return 0;
}

void cnai_ml_cls_report_release(struct cnai_ml_cls_report *r)
{
	free(r->per);
	free(r->confusion);
	r->per = NULL;
	r->confusion = NULL;
}

void cnai_ml_reg_report(struct cnai_ml_reg_report *out, const double *truth,
			const float *pred, size_t n)
{
	double mean = 0, sse = 0, sae = 0, sst = 0;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->n = n;
	if (!n)
		return;
	for (i = 0; i < n; i++)
		mean += truth[i];
	mean /= (double)n;
	for (i = 0; i < n; i++) {
		double d = (double)pred[i] - truth[i];

		sse += d * d;
		sae += fabs(d);
		sst += (truth[i] - mean) * (truth[i] - mean);
	}
	out->rmse = sqrt(sse / (double)n);
	out->mae = sae / (double)n;
	out->r2 = sst > 0 ? 1.0 - sse / sst : 0.0;
}
