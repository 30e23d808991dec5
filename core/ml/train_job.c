/*
 * A training recorded in the store (see train_job.h). Each step that
 * writes is one transaction, so a crash leaves a run with whole epochs;
 * the model folder is written and read back before its files are logged
 * or registered, so a model predict cannot load is never recorded.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ml/evaluate.h"
#include "core/ml/io.h"
#include "core/ml/train_job.h"
#include "core/store/blobs.h"
#include "core/store/datasets.h"
#include "core/store/lineage.h"
#include "core/store/logger.h"
#include "core/store/models.h"
#include "core/store/origin.h"
#include "core/util/error.h"
#include "core/util/fs.h"
#include "core/util/hash.h"
#include "core/util/banned.h"

#define V(c, k) ((c)->v[CNAI_TK_##k])

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cnai_train_job_create_run(struct cnai_train_job *j)
{
	struct cnai_run_origin origin;
	struct cnai_run_spec spec = { 0 };
	const char *env = getenv("CNAI_RUN_ID");
	int err;

	if (env && *env && !j->parent) {
		j->own_run = 0;
		return cnai_run_lookup(&j->run, j->st, env);
	}
	j->own_run = 1;
	cnai_run_origin_read(&origin);
	spec.experiment = V(j->c, EXPERIMENT);
	spec.name = V(j->c, NAME);
	spec.command = "cnai train";
	cnai_run_origin_fill(&spec, &origin);
	spec.parent = j->parent;
	err = cnai_run_create(&j->run, j->st, &spec);
	cnai_run_origin_release(&origin);
	return err;
}

static int record_dataset(struct cnai_store *st, int64_t run_entity,
			  const char *path, const char *digest, uint64_t size,
			  const char *schema, const struct cnai_dtable *t)
{
	char real[PATH_MAX];
	struct cnai_store_dataset_row row = {
		digest, realpath(path, real) ? real : path, schema, size,
		t ? (int64_t)t->nrows : -1, t ? (int64_t)t->ncols : -1,
	};

	return cnai_store_dataset_record(NULL, st, &row, run_entity);
}

/* The params of the run (with what auto chose) into an open logger. */
static int log_params(struct cnai_logger *lg, const struct cnai_train_job *j)
{
	char buf[64];
	size_t i;
	int err = 0;

	for (i = 0; i < CNAI_TK_COUNT && !err; i++)
		if (cnai_train_keys[i].param && j->c->v[i])
			err = cnai_logger_param(lg, cnai_train_keys[i].param,
						j->c->v[i]);
	if (!err)
		err = cnai_logger_param(lg, "model_kind",
					cnai_ml_kind_name(j->d->m->kind));
	snprintf(buf, sizeof(buf), "%zu", j->d->m->prep.width);
	if (!err)
		err = cnai_logger_param(lg, "input_width", buf);
	if (!err)
		err = cnai_logger_param(lg, "backend", j->be->name);
	return err;
}

int cnai_train_job_record_setup(struct cnai_train_job *j)
{
	struct cnai_store *st = j->st;
	const struct cnai_trainset *d = j->d;
	struct cnai_logger *lg = NULL;
	int64_t run_entity;
	int err;

	if ((err = cnai_logger_begin(&lg, st, j->run->id)) < 0)
		return err;
	if ((err = log_params(lg, j)) < 0 ||
	    (err = cnai_lineage_entity(&run_entity, st, CNAI_ENTITY_RUN,
				       j->run->uuid, j->run->name)) < 0 ||
	    (err = record_dataset(st, run_entity, V(j->c, DATA), d->digest,
				  d->size, d->schema, d->t)) < 0 ||
	    (d->vt && (err = record_dataset(st, run_entity, V(j->c, VALID),
					    d->vdigest, d->vsize, d->vschema,
					    d->vt)) < 0) ||
	    (V(j->c, TEST) &&
	     (err = record_dataset(st, run_entity, V(j->c, TEST), d->tdigest,
				   d->tsize, NULL, NULL)) < 0)) {
		cnai_logger_abort(lg);
		return err;
	}
	return cnai_logger_commit(lg);
}

/* Metrics p[0, n) at `step`, in one transaction. */
static int log_points(const struct cnai_train_job *j,
		      const struct cnai_evaluate_point *p, size_t n, int step)
{
	struct cnai_logger *lg = NULL;
	int64_t ts = (int64_t)time(NULL) * 1000;
	size_t i;
	int err;

	if ((err = cnai_logger_begin(&lg, j->st, j->run->id)) < 0)
		return err;
	for (i = 0; i < n && !err; i++)
		err = cnai_logger_metric(lg, p[i].key, p[i].value, step, ts);
	if (err) {
		cnai_logger_abort(lg);
		return err;
	}
	return cnai_logger_commit(lg);
}

static int on_batch(int epoch, size_t done, size_t total, void *payload)
{
	struct cnai_train_job *j = payload;

	if (j->stop && *j->stop)
		return cnai_error_set(CNAI_ERROR, "interrupted at epoch %d",
				      epoch);
	if (j->progress)
		j->progress(j, epoch, done, total, NULL, j->payload);
	return 0;
}

static int on_epoch(const struct cnai_ml_epoch *e, void *payload)
{
	struct cnai_train_job *j = payload;
	struct cnai_evaluate_point p[CNAI_EVALUATE_MAX_POINTS];
	size_t n = cnai_evaluate_epoch(
		p, e, cnai_ml_model_is_classifier(j->d->m), 1);

	j->last_epoch = e->epoch;
	j->last_loss = e->train_loss;
	j->last_speed = e->samples_per_second;
	if (j->progress)
		j->progress(j, e->epoch, 1, 1, e, j->payload);
	return log_points(j, p, n, e->epoch);
}

/* Test-set metrics into `metrics`, and as run metrics at `step`. */
static int evaluate_test(struct cnai_train_job *j, json_t *metrics, int step)
{
	struct cnai_evaluate_point p[CNAI_EVALUATE_MAX_POINTS];
	const char *k;
	json_t *v;
	size_t n = 0;
	int err;

	if ((err = cnai_evaluate_test(metrics, j->d->m, j->be, V(j->c, TEST),
				      j->c->delim)) < 0)
		return err;
	json_object_foreach(metrics, k, v)
		if (!strncmp(k, "test_", 5) && n < CNAI_EVALUATE_MAX_POINTS)
			p[n++] = (struct cnai_evaluate_point){
				k, json_number_value(v)
			};
	return log_points(j, p, n, step);
}

static const char *const model_files[] = { CNAI_MODEL_ONNX,
					   CNAI_MODEL_SAFETENSORS,
					   CNAI_MODEL_JSON };

/* The model's files as run artifacts ("model/model.onnx", ...). */
static int log_model_artifacts(struct cnai_train_job *j, const char *dir)
{
	struct cnai_logger *lg = NULL;
	char path[PATH_MAX], name[64], digest[CNAI_DIGEST_LEN];
	uint64_t size;
	size_t i;
	int err;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, model_files[i]);
		if ((err = cnai_blob_put_file(digest, &size, j->st, path)) < 0)
			return err;
	}
	if ((err = cnai_logger_begin(&lg, j->st, j->run->id)) < 0)
		return err;
	for (i = 0; i < 3 && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, model_files[i]);
		snprintf(name, sizeof(name), "model/%s", model_files[i]);
		if ((err = cnai_sha256_file(digest, &size, path)) == 0)
			err = cnai_logger_artifact(lg, name, digest, size);
	}
	if (err) {
		cnai_logger_abort(lg);
		return err;
	}
	return cnai_logger_commit(lg);
}

/*
 * Writes the model to `out` (read back as predict will) and records its
 * files in the run. Only what the data, options and seed decide goes in
 * the folder (no run id, no time), so the same training gives the same
 * bytes, version and image digests; the run is recorded in the store.
 */
static int write_model(struct cnai_train_job *j, const char *out,
		       json_t *metrics, int best_epoch)
{
	json_t *extra;
	int err;

	extra = json_pack("{s:o, s:o, s:o, s:i, s:i, s:s}", "metrics",
			  json_deep_copy(metrics), "datasets",
			  cnai_trainset_datasets_json(j->d, j->c), "training",
			  cnai_train_config_params_json(j->c),
			  "epochs_trained", j->last_epoch, "best_epoch",
			  best_epoch, "device", j->be->name);
	if (!extra)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	if ((err = cnai_ml_model_save(j->d->m, out, extra)) < 0 ||
	    (err = cnai_ml_model_check_saved(j->d->m, out)) < 0)
		goto cleanup;
	err = log_model_artifacts(j, out);
cleanup:
	json_decref(extra);
	return err;
}

/* The summary of a trained run. */
static json_t *result_json(const struct cnai_train_job *j, json_t *metrics,
			   double seconds, const char *dir,
			   const struct cnai_model_version *v, int created)
{
	const struct cnai_ml_model *m = j->d->m;
	json_t *r;

	r = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:f, s:O, s:s}", "run",
		      j->run->uuid, "model", cnai_ml_kind_name(m->kind),
		      "task",
		      cnai_ml_model_is_classifier(m) ? "classification"
						     : "regression",
		      "epochs", j->last_epoch, "train_rows",
		      (json_int_t)j->d->ntrain, "parameters",
		      (json_int_t)cnai_ml_model_nparams(m), "seconds", seconds,
		      "metrics", metrics, "device", j->be->device);
	json_object_set_new(r, "read_seconds", json_real(j->d->read_seconds));
	if (dir)
		json_object_set_new(r, "output", json_string(dir));
	if (v)
		json_object_set_new(r, "registered",
				    json_pack("{s:s, s:I, s:s, s:b}", "name",
					      v->name, "version",
					      (json_int_t)v->version, "digest",
					      v->manifest_digest, "created",
					      created));
	return r;
}

/* Trains, then the final metrics (and test scores) into `metrics`. */
static int fit_and_score(struct cnai_ml_epoch *fin, struct cnai_train_job *j,
			 json_t *metrics)
{
	struct cnai_evaluate_point p[CNAI_EVALUATE_MAX_POINTS];
	size_t i, n;
	int err;

	if ((err = cnai_trainset_fit(fin, j->d, j->c, j->be, on_epoch,
				     on_batch, j)) < 0)
		return err;
	n = cnai_evaluate_epoch(p, fin, cnai_ml_model_is_classifier(j->d->m),
				0);
	for (i = 0; i < n; i++)
		json_object_set_new(metrics, p[i].key, json_real(p[i].value));
	if (V(j->c, TEST))
		return evaluate_test(j, metrics, fin->epoch);
	return 0;
}

int cnai_train_job_fit(json_t **result, struct cnai_train_job *j,
		       const char *dir)
{
	struct cnai_ml_epoch fin;
	struct cnai_model_version *v = NULL;
	json_t *metrics = json_object();
	char tmpl[] = "/tmp/cnai-train.XXXXXX";
	const char *out = dir;
	int err, created = 0;
	double t0 = now_s();

	*result = NULL;
	if ((err = fit_and_score(&fin, j, metrics)) < 0)
		goto cleanup;
	if (!out) {
		if (!mkdtemp(tmpl)) {
			err = cnai_error_set_errno(CNAI_ERROR,
						   "cannot create a temporary "
						   "folder");
			goto cleanup;
		}
		out = tmpl;
	}
	if ((err = write_model(j, out, metrics, fin.epoch)) < 0)
		goto cleanup;
	if (V(j->c, REGISTER) && !j->parent) {
		struct cnai_model_register_opts ro = { 0 };
		const char *paths[1] = { out };

		ro.run = j->run->uuid;
		ro.description = "trained by cnai train";
		if ((err = cnai_model_register(&v, &created, j->st,
					       V(j->c, REGISTER), paths, 1,
					       &ro)) < 0)
			goto cleanup;
	}
	*result = result_json(j, metrics, now_s() - t0, dir, v, created);
cleanup:
	if (out == tmpl)
		cnai_fs_remove_tree_quietly(tmpl);
	cnai_model_version_free(v);
	json_decref(metrics);
	return err;
}
