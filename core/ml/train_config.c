/*
 * The options of 'cnai train': the key table, the checks that turn string
 * values into typed ones, and the -f YAML file reader. Read by the command
 * and by a sweep, which resolves each combination of values before any
 * run exists, so a bad value anywhere leaves nothing behind.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/data/number.h"
#include "core/ml/train_config.h"
#include "core/store/models.h"
#include "core/util/buf.h"
#include "core/util/error.h"
#include "core/util/banned.h"

const struct cnai_train_key_info cnai_train_keys[CNAI_TK_COUNT] = {
	[CNAI_TK_DATA] = { "data", NULL, "data" },
	[CNAI_TK_TARGET] = { "target", NULL, "target" },
	[CNAI_TK_OUTPUT] = { "output", NULL, NULL },
	[CNAI_TK_REGISTER] = { "register", NULL, NULL },
	[CNAI_TK_MODEL] = { "model", "auto", "model" },
	[CNAI_TK_HIDDEN] = { "hidden", NULL, "hidden" },
	[CNAI_TK_ACTIVATION] = { "activation", "relu", "activation" },
	[CNAI_TK_DROPOUT] = { "dropout", "0", "dropout" },
	[CNAI_TK_OPTIMIZER] = { "optimizer", "adam", "optimizer" },
	[CNAI_TK_LR] = { "lr", "0.001", "lr" },
	[CNAI_TK_WD] = { "weight-decay", "0", "weight_decay" },
	[CNAI_TK_MOMENTUM] = { "momentum", "0.9", "momentum" },
	[CNAI_TK_EPOCHS] = { "epochs", "20", "epochs" },
	[CNAI_TK_BATCH] = { "batch-size", "32", "batch_size" },
	[CNAI_TK_SEED] = { "seed", "0", "seed" },
	[CNAI_TK_EARLY] = { "early-stopping", "0", "early_stopping" },
	[CNAI_TK_VALID] = { "valid", NULL, "valid" },
	[CNAI_TK_VALID_SPLIT] = { "valid-split", NULL, "valid_split" },
	[CNAI_TK_TEST] = { "test", NULL, "test" },
	[CNAI_TK_FEATURES] = { "features", NULL, "features" },
	[CNAI_TK_DROP] = { "drop", NULL, "drop" },
	[CNAI_TK_DELIM] = { "delimiter", ",", NULL },
	[CNAI_TK_DEVICE] = { "device", "auto", "device" },
	[CNAI_TK_THREADS] = { "threads", NULL, "threads" },
	[CNAI_TK_EXPERIMENT] = { "experiment", NULL, NULL },
	[CNAI_TK_NAME] = { "name", NULL, NULL },
};

const char *cnai_train_strings_keep(struct cnai_train_strings *l, char *s)
{
	char **g;

	if (!s || !(g = realloc(l->s, (l->n + 1) * sizeof(*g)))) {
		free(s);
		return NULL;
	}
	l->s = g;
	l->s[l->n++] = s;
	return s;
}

void cnai_train_strings_release(struct cnai_train_strings *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->s[i]);
	free(l->s);
	memset(l, 0, sizeof(*l));
}

int cnai_train_config_find_key(const char *name)
{
	char norm[64];
	size_t i;

	snprintf(norm, sizeof(norm), "%s", name);
	for (i = 0; norm[i]; i++)
		if (norm[i] == '_')
			norm[i] = '-';
	for (i = 0; i < CNAI_TK_COUNT; i++)
		if (!strcmp(cnai_train_keys[i].name, norm))
			return (int)i;
	if (!strcmp(norm, "o"))
		return CNAI_TK_OUTPUT;
	return -1;
}

/* ---- parsing values ---- */

static int parse_double(double *out, const char *s, const char *opt)
{
	if (cnai_number_parse(out, s, strlen(s)) < 0 || !isfinite(*out))
		return cnai_error_set(CNAI_EUSAGE, "--%s: '%s' is not a number",
				      opt, s);
	return 0;
}

int cnai_train_config_parse_int(int *out, const char *s, const char *opt,
				int min)
{
	char name[64];
	int64_t v;
	int err;

	snprintf(name, sizeof(name), "--%s", opt);
	if ((err = cnai_number_parse_int(&v, s, name, min, INT32_MAX)) < 0)
		return err;
	*out = (int)v;
	return 0;
}

static int parse_hidden(struct cnai_train_config *c, const char *s)
{
	const char *p = s;

	c->nhidden = 0;
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p || v < 1 || v > 1 << 20 ||
		    c->nhidden == CNAI_TRAIN_MAX_HIDDEN ||
		    (*end && *end != ',' && *end != 'x'))
			return cnai_error_set(CNAI_EUSAGE,
					      "--hidden: '%s' is not a list of "
					      "layer widths like 256,128", s);
		c->hidden[c->nhidden++] = (int)v;
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* ---- resolving: one group of keys a function ---- */

static int resolve_required(struct cnai_train_config *c)
{
	const char **v = c->v;

	if (!v[CNAI_TK_DATA])
		return cnai_error_set(CNAI_EUSAGE, "--data is required");
	if (!v[CNAI_TK_TARGET])
		return cnai_error_set(CNAI_EUSAGE, "--target is required");
	if (!v[CNAI_TK_OUTPUT] && !v[CNAI_TK_REGISTER])
		return cnai_error_set(CNAI_EUSAGE,
				      "give -o <dir>, --register <name>, or "
				      "both");
	if (v[CNAI_TK_REGISTER] &&
	    !cnai_model_name_is_valid(v[CNAI_TK_REGISTER]))
		return cnai_error_set(CNAI_EUSAGE,
				      "--register: '%s' is not a valid model "
				      "name ([a-z0-9][a-z0-9._-]*)",
				      v[CNAI_TK_REGISTER]);
	return 0;
}

/* --model, --activation, --hidden, --dropout */
static int resolve_model(struct cnai_train_config *c)
{
	const char **v = c->v;
	double d;
	int i, err;

	c->kind = -1;
	if (strcmp(v[CNAI_TK_MODEL], "auto") &&
	    (c->kind = cnai_ml_kind_parse(v[CNAI_TK_MODEL])) < 0)
		return cnai_error_set(CNAI_EUSAGE,
				      "--model: '%s' is not auto, linear, "
				      "logistic, softmax or mlp",
				      v[CNAI_TK_MODEL]);
	if ((i = cnai_act_parse(v[CNAI_TK_ACTIVATION])) < 0)
		return cnai_error_set(CNAI_EUSAGE,
				      "--activation: '%s' is not relu, tanh "
				      "or gelu", v[CNAI_TK_ACTIVATION]);
	c->act = (enum cnai_act)i;
	if (v[CNAI_TK_HIDDEN]) {
		if ((err = parse_hidden(c, v[CNAI_TK_HIDDEN])) < 0)
			return err;
		if (c->kind == -1)
			c->kind = CNAI_ML_MLP;
		else if (c->kind != CNAI_ML_MLP)
			return cnai_error_set(CNAI_EUSAGE, "--hidden: only an "
					      "mlp has hidden layers");
	} else if (c->kind == CNAI_ML_MLP) {
		c->hidden[0] = 100; /* scikit-learn's default */
		c->nhidden = 1;
		v[CNAI_TK_HIDDEN] = "100";
	}
	if ((err = parse_double(&d, v[CNAI_TK_DROPOUT], "dropout")) < 0)
		return err;
	if (d < 0 || d >= 1)
		return cnai_error_set(CNAI_EUSAGE,
				      "--dropout: must be in [0, 1)");
	c->dropout = (float)d;
	return 0;
}

/* --optimizer, --lr, --weight-decay, --momentum */
static int resolve_optimizer(struct cnai_train_config *c)
{
	const char **v = c->v;
	double d;
	int i, err;

	cnai_ml_train_opts_init(&c->t);
	if ((i = cnai_ml_optim_parse(v[CNAI_TK_OPTIMIZER])) < 0)
		return cnai_error_set(CNAI_EUSAGE,
				      "--optimizer: '%s' is not sgd, momentum, "
				      "adam or adamw", v[CNAI_TK_OPTIMIZER]);
	c->t.optimizer = (enum cnai_ml_optim)i;
	if ((err = parse_double(&d, v[CNAI_TK_LR], "lr")) < 0)
		return err;
	if (!(d > 0))
		return cnai_error_set(CNAI_EUSAGE, "--lr: must be above 0");
	c->t.lr = (float)d;
	if ((err = parse_double(&d, v[CNAI_TK_WD], "weight-decay")) < 0)
		return err;
	if (d < 0)
		return cnai_error_set(CNAI_EUSAGE,
				      "--weight-decay: must not be negative");
	c->t.weight_decay = (float)d;
	if ((err = parse_double(&d, v[CNAI_TK_MOMENTUM], "momentum")) < 0)
		return err;
	if (d < 0 || d >= 1)
		return cnai_error_set(CNAI_EUSAGE,
				      "--momentum: must be in [0, 1)");
	c->t.momentum = (float)d;
	return 0;
}

/* --epochs, --batch-size, --early-stopping, --seed, --threads */
static int resolve_counts(struct cnai_train_config *c)
{
	const char **v = c->v;
	int64_t seed;
	int err;

	if ((err = cnai_train_config_parse_int(&c->t.epochs, v[CNAI_TK_EPOCHS],
					       "epochs", 1)) < 0 ||
	    (err = cnai_train_config_parse_int(&c->t.batch_size,
					       v[CNAI_TK_BATCH], "batch-size",
					       1)) < 0 ||
	    (err = cnai_train_config_parse_int(&c->t.patience,
					       v[CNAI_TK_EARLY],
					       "early-stopping", 0)) < 0)
		return err;
	if ((err = cnai_number_parse_int(&seed, v[CNAI_TK_SEED], "--seed",
					 INT64_MIN, INT64_MAX)) < 0)
		return err;
	c->t.seed = (uint64_t)seed;
	c->threads = 0;
	if (v[CNAI_TK_THREADS] &&
	    (err = cnai_train_config_parse_int(&c->threads, v[CNAI_TK_THREADS],
					       "threads", 1)) < 0)
		return err;
	return 0;
}

/* --valid, --valid-split, --delimiter, --device */
static int resolve_data(struct cnai_train_config *c)
{
	const char **v = c->v;
	int err;

	if (v[CNAI_TK_VALID] && v[CNAI_TK_VALID_SPLIT])
		return cnai_error_set(CNAI_EUSAGE,
				      "--valid and --valid-split exclude each "
				      "other");
	c->valid_split = 0;
	if (!v[CNAI_TK_VALID]) {
		if (!v[CNAI_TK_VALID_SPLIT])
			v[CNAI_TK_VALID_SPLIT] = "0.2";
		if ((err = parse_double(&c->valid_split,
					v[CNAI_TK_VALID_SPLIT],
					"valid-split")) < 0)
			return err;
		if (c->valid_split < 0 || c->valid_split >= 1)
			return cnai_error_set(CNAI_EUSAGE,
					      "--valid-split: must be in [0, "
					      "1)");
	}
	if (c->t.patience > 0 && !v[CNAI_TK_VALID] && c->valid_split == 0)
		return cnai_error_set(CNAI_EUSAGE,
				      "--early-stopping needs validation data "
				      "(--valid or --valid-split)");
	if (strlen(v[CNAI_TK_DELIM]) != 1)
		return cnai_error_set(CNAI_EUSAGE,
				      "--delimiter: one character, not '%s'",
				      v[CNAI_TK_DELIM]);
	c->delim = v[CNAI_TK_DELIM][0];
	if (strcmp(v[CNAI_TK_DEVICE], "auto") &&
	    strcmp(v[CNAI_TK_DEVICE], "cpu") &&
	    strcmp(v[CNAI_TK_DEVICE], "cuda"))
		return cnai_error_set(CNAI_EUSAGE,
				      "--device: '%s' is not auto, cpu or cuda",
				      v[CNAI_TK_DEVICE]);
	return 0;
}

int cnai_train_config_resolve(struct cnai_train_config *c)
{
	int i, err;

	for (i = 0; i < CNAI_TK_COUNT; i++)
		if (!c->v[i])
			c->v[i] = cnai_train_keys[i].dflt;
	if ((err = resolve_required(c)) < 0 || (err = resolve_model(c)) < 0 ||
	    (err = resolve_optimizer(c)) < 0 || (err = resolve_counts(c)) < 0)
		return err;
	return resolve_data(c);
}

/* ---- the YAML file ---- */

/* Where the event reader stands in the file. */
struct yaml_state {
	const char *path;
	const char **file_v;
	struct cnai_train_strings *own;
	char ***sweeps;
	size_t *nsweeps;
	char *key;       /* a top-level key waiting for its value */
	char *sweep_key; /* a key under 'sweep' waiting for its list */
	struct cnai_buf list;
	int depth, in_list, in_sweep;
};

static int yaml_fail(const char *path, const yaml_parser_t *p)
{
	return cnai_error_set(CNAI_EINVALID, "%s:%zu: %s", path,
			      p->problem_mark.line + 1,
			      p->problem ? p->problem : "not valid YAML");
}

/* s->key's value is `value` (copied). */
static int set_key(struct yaml_state *s, const yaml_event_t *ev,
		   const char *value)
{
	int k = cnai_train_config_find_key(s->key);

	if (k < 0)
		return cnai_error_set(CNAI_EINVALID, "%s:%zu: unknown key '%s'",
				      s->path, ev->start_mark.line + 1,
				      s->key);
	s->file_v[k] = cnai_train_strings_keep(s->own, strdup(value));
	free(s->key);
	s->key = NULL;
	return 0;
}

static int on_mapping_start(struct yaml_state *s, const yaml_event_t *ev)
{
	s->depth++;
	if (s->depth == 2 && s->key && !strcmp(s->key, "sweep")) {
		s->in_sweep = 1;
		free(s->key);
		s->key = NULL;
		return 0;
	}
	if (s->depth != 1)
		return cnai_error_set(CNAI_EINVALID,
				      "%s:%zu: a nested mapping is only "
				      "allowed under 'sweep'", s->path,
				      ev->start_mark.line + 1);
	return 0;
}

/* A list ends: a sweep axis "KEY=V1,V2", else a key's joined value. */
static int on_sequence_end(struct yaml_state *s, const yaml_event_t *ev)
{
	s->in_list = 0;
	if (s->in_sweep && s->sweep_key) {
		char *v = NULL, **g;

		if (asprintf(&v, "%s=%s", s->sweep_key, s->list.buf) < 0 ||
		    !cnai_train_strings_keep(s->own, v) ||
		    !(g = realloc(*s->sweeps,
				  (*s->nsweeps + 1) * sizeof(*g))))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		*s->sweeps = g;
		g[(*s->nsweeps)++] = v;
		free(s->sweep_key);
		s->sweep_key = NULL;
		return 0;
	}
	if (s->key)
		return set_key(s, ev, s->list.buf);
	return 0;
}

static int on_scalar(struct yaml_state *s, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (s->in_list) {
		if (s->list.len)
			cnai_buf_addch(&s->list, ',');
		cnai_buf_adds(&s->list, v);
	} else if (s->in_sweep) {
		if (s->sweep_key)
			return cnai_error_set(CNAI_EINVALID,
					      "%s:%zu: sweep '%s' needs a "
					      "list of values", s->path,
					      ev->start_mark.line + 1,
					      s->sweep_key);
		s->sweep_key = strdup(v);
	} else if (!s->key) {
		s->key = strdup(v);
	} else {
		return set_key(s, ev, v);
	}
	return 0;
}

/* One event; *done set at the end of the stream. */
static int on_event(struct yaml_state *s, const yaml_event_t *ev, int *done)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = 1;
		return 0;
	case YAML_MAPPING_START_EVENT:
		return on_mapping_start(s, ev);
	case YAML_MAPPING_END_EVENT:
		if (s->depth-- == 2)
			s->in_sweep = 0;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
		s->in_list = 1;
		cnai_buf_reset(&s->list);
		return 0;
	case YAML_SEQUENCE_END_EVENT:
		return on_sequence_end(s, ev);
	case YAML_SCALAR_EVENT:
		return on_scalar(s, ev);
	default:
		return 0;
	}
}

int cnai_train_config_load_yaml(const char *path, const char **file_v,
				struct cnai_train_strings *own, char ***sweeps,
				size_t *nsweeps)
{
	FILE *f = fopen(path, "rb");
	struct yaml_state s = { path, file_v, own, sweeps, nsweeps,
				NULL, NULL, CNAI_BUF_INIT, 0, 0, 0 };
	yaml_parser_t p;
	yaml_event_t ev;
	int err = 0, done = 0;

	if (!f)
		return cnai_error_set_errno(errno == ENOENT ? CNAI_ENOTFOUND
							   : CNAI_ERROR,
					    "-f: cannot read '%s'", path);
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	while (!done && !err) {
		if (!yaml_parser_parse(&p, &ev)) {
			err = yaml_fail(path, &p);
			break;
		}
		err = on_event(&s, &ev, &done);
		yaml_event_delete(&ev);
	}
	free(s.key);
	free(s.sweep_key);
	cnai_buf_release(&s.list);
	yaml_parser_delete(&p);
	fclose(f);
	return err;
}

json_t *cnai_train_config_params_json(const struct cnai_train_config *c)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < CNAI_TK_COUNT; i++)
		if (cnai_train_keys[i].param && c->v[i])
			json_object_set_new(o, cnai_train_keys[i].param,
					    json_string(c->v[i]));
	return o;
}
