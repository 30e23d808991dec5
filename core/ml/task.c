/*
 * Task planning for 'cnai train': which model, head and classes follow
 * from the target column and the --model option. Runs before any run
 * exists, so a target that cannot be trained on is refused with nothing
 * written.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/data/number.h"
#include "core/ml/task.h"
#include "core/util/error.h"
#include "core/util/banned.h"

static int cmp_class(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	double dx, dy;

	if (cnai_number_parse(&dx, x, strlen(x)) == 0 &&
	    cnai_number_parse(&dy, y, strlen(y)) == 0 && dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x, y);
}

/* Whether every value of col is a number, and a whole one. */
static void scan_values(const struct cnai_col *col, int *numeric,
			int *integer)
{
	size_t i;

	*numeric = *integer = 1;
	for (i = 0; i < col->ncats; i++) {
		double v;

		if (cnai_number_parse(&v, col->cats[i], strlen(col->cats[i])) <
		    0)
			*numeric = *integer = 0;
		else if (v != floor(v))
			*integer = 0;
	}
}

static int copy_classes(struct cnai_ml_model *m, const struct cnai_col *col)
{
	size_t i;

	m->nclasses = col->ncats;
	if (!(m->classes = calloc(col->ncats, sizeof(char *))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < col->ncats; i++)
		if (!(m->classes[i] = strdup(col->cats[i])))
			return cnai_error_set(CNAI_ERROR, "out of memory");
	qsort(m->classes, m->nclasses, sizeof(char *), cmp_class);
	return 0;
}

int cnai_task_plan(struct cnai_ml_model *m, const struct cnai_dtable *t,
		   size_t tcol, int kind)
{
	const struct cnai_col *col = &t->cols[tcol];
	int numeric, integer, classify;

	scan_values(col, &numeric, &integer);
	switch (kind) {
	case CNAI_ML_LINEAR:
		classify = 0;
		break;
	case CNAI_ML_LOGISTIC:
	case CNAI_ML_SOFTMAX:
		classify = 1;
		break;
	default: /* auto, mlp: text or few integer values: classes */
		classify = !numeric || (integer && col->ncats <= 20);
		break;
	}
	if (!classify && !numeric)
		return cnai_error_set(CNAI_EINVALID,
				      "%s: column '%s' holds text; a "
				      "regression target must be numbers",
				      t->path, col->name);
	m->kind = kind >= 0	    ? (enum cnai_ml_kind)kind
		  : !classify	    ? CNAI_ML_LINEAR
		  : col->ncats == 2 ? CNAI_ML_LOGISTIC
				    : CNAI_ML_SOFTMAX;
	if (!classify) {
		m->head = CNAI_HEAD_IDENTITY;
		return 0;
	}
	if (col->ncats < 2)
		return cnai_error_set(CNAI_EINVALID,
				      "%s: column '%s' has only one class "
				      "('%s'); a classifier needs two or more",
				      t->path, col->name,
				      col->ncats ? col->cats[0] : "");
	if (m->kind == CNAI_ML_LOGISTIC && col->ncats != 2)
		return cnai_error_set(CNAI_EUSAGE,
				      "--model logistic: column '%s' has %zu "
				      "classes; use softmax", col->name,
				      col->ncats);
	m->head = m->kind == CNAI_ML_LOGISTIC ? CNAI_HEAD_SIGMOID
					      : CNAI_HEAD_SOFTMAX;
	return copy_classes(m, col);
}
