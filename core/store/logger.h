/*
 * Logging params, metrics, tags and artifacts to a run, in one write
 * transaction: either everything given between begin and commit is stored
 * or nothing is. Statements are prepared once per logger and the latest
 * value of each metric is folded into latest_metrics at commit, so a batch
 * of a million points costs one insert per point.
 */
#ifndef CNAI_CORE_STORE_LOGGER_H
#define CNAI_CORE_STORE_LOGGER_H

#include <stdint.h>

#include "core/store/store.h"

#define CNAI_KEY_MAX 250
#define CNAI_VALUE_MAX (1024 * 1024)

struct cnai_logger;

/* Takes the store's write lock (BEGIN IMMEDIATE). */
int cnai_logger_begin(struct cnai_logger **out, struct cnai_store *st,
		      int64_t run);
/*
 * A param is write-once: the same value again is accepted, another value
 * is CNAI_EINVALID naming both (as MLflow does).
 */
int cnai_logger_param(struct cnai_logger *lg, const char *key,
		      const char *value);
int cnai_logger_tag(struct cnai_logger *lg, const char *key,
		    const char *value);
int cnai_logger_metric(struct cnai_logger *lg, const char *key, double value,
		       int64_t step, int64_t timestamp_ms);
int cnai_logger_artifact(struct cnai_logger *lg, const char *name,
			 const char *digest, uint64_t size);
/* Commits and frees the logger. On failure the transaction is undone. */
int cnai_logger_commit(struct cnai_logger *lg);
/* Rolls back and frees; NULL is a no-op. */
void cnai_logger_abort(struct cnai_logger *lg);

/* Checks a param/metric/tag key: CNAI_EINVALID with a message if bad. */
int cnai_key_validate(const char *kind, const char *key);

#endif
