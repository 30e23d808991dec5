/*
 * The data of one 'cnai train': the --data (and --valid) CSV files read,
 * the features chosen, the task planned, rows split into training and
 * validation, everything encoded into the float matrix the trainer reads,
 * and the files' digests for the run's lineage. All of it happens before
 * a run exists, so bad input leaves nothing behind.
 */
#ifndef CNAI_CORE_ML_TRAINSET_H
#define CNAI_CORE_ML_TRAINSET_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/data/table.h"
#include "core/ml/model.h"
#include "core/ml/train.h"
#include "core/ml/train_config.h"
#include "core/util/hash.h"

struct cnai_trainset {
	struct cnai_dtable *t, *vt; /* --data, --valid (may be NULL) */
	struct cnai_ml_model *m;    /* prep, head, classes, no layers */
	float *x, *y;               /* (n + nval of vt) rows */
	int32_t *labels, *train, *val;
	size_t n, ntrain, nval;
	struct cnai_ml_prep_stats stats; /* of --data's encoding */
	char digest[CNAI_DIGEST_LEN], vdigest[CNAI_DIGEST_LEN];
	char tdigest[CNAI_DIGEST_LEN]; /* --test's, when given */
	uint64_t size, vsize, tsize;
	char *schema, *vschema;
	double read_seconds; /* parsing --data */
};

/*
 * Loads everything the resolved config `c` names into *d (zeroed first;
 * release with cnai_trainset_release, also after an error). --test is
 * only opened (to refuse a folder early) and hashed. CNAI_EINVALID naming
 * file and column on bad input, CNAI_EUSAGE when the model asked for does
 * not fit the target, CNAI_ENOTFOUND or CNAI_ERROR when a file cannot be
 * read.
 */
int cnai_trainset_load(struct cnai_trainset *d,
		       const struct cnai_train_config *c);

/* Frees what d holds and zeroes it. */
void cnai_trainset_release(struct cnai_trainset *d);

/* The trainer's view of d (pointers into d, valid while d lives). */
void cnai_trainset_ml_data(struct cnai_ml_data *out,
			   const struct cnai_trainset *d);

/*
 * The datasets as a JSON array of {role, path, digest[, rows]} (train,
 * valid, test) for the model folder; a new reference, the caller's.
 */
json_t *cnai_trainset_datasets_json(const struct cnai_trainset *d,
				    const struct cnai_train_config *c);

/*
 * Gives d->m fresh layers (the config's hidden widths, activation and
 * dropout, seeded with its seed) and trains them on d: see cnai_ml_train
 * for `be`, the callbacks, `payload` and *final.
 */
int cnai_trainset_fit(struct cnai_ml_epoch *final, struct cnai_trainset *d,
		      const struct cnai_train_config *c,
		      struct cnai_backend *be, cnai_ml_epoch_fn on_epoch,
		      cnai_ml_batch_fn on_batch, void *payload);

#endif
