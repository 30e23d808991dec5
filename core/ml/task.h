/*
 * Task planning: from the target column and the asked model kind, what is
 * trained (linear, logistic, softmax or mlp), with which output head, and
 * which classes in which order. "auto" reads text, or few whole numbers,
 * as classes and anything else as a regression target.
 */
#ifndef CNAI_CORE_ML_TASK_H
#define CNAI_CORE_ML_TASK_H

#include <stddef.h>

#include "core/data/table.h"
#include "core/ml/model.h"

/*
 * Sets m->kind, m->head and, for a classifier, m->classes (nclasses
 * strings, sorted as numbers where both are, else as text; owned by m)
 * from column `tcol` of `t` (a string column) and `kind` (enum
 * cnai_ml_kind, or -1 for auto). CNAI_EINVALID when the column cannot be
 * that target (text for a regression, one class), CNAI_EUSAGE when the
 * asked kind does not fit it (logistic over more than two classes),
 * CNAI_ERROR when memory runs out.
 */
int cnai_task_plan(struct cnai_ml_model *m, const struct cnai_dtable *t,
		   size_t tcol, int kind);

#endif
