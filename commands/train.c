/*
 * cnai train: train a built-in model on a CSV file inside a tracked run,
 * and write (and optionally register) the model folder.
 *
 * Every option is a key (its long name) with a string value, from the
 * command line, else the -f YAML file, else the default; --sweep grids
 * override keys per child run. All data checks happen before a run is
 * created, so bad input leaves nothing behind.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>

#include "cli/options.h"
#include "cli/output.h"
#include "commands/commands.h"
#include "core/data/csv.h"
#include "core/data/number.h"
#include "core/data/table.h"
#include "core/ml/infer.h"
#include "core/ml/io.h"
#include "core/ml/metrics.h"
#include "core/ml/model.h"
#include "core/ml/train.h"
#include "core/store/blobs.h"
#include "core/store/datasets.h"
#include "core/store/lineage.h"
#include "core/store/logger.h"
#include "core/store/models.h"
#include "core/store/origin.h"
#include "core/store/runs.h"
#include "core/util/fs.h"
#include "core/util/hash.h"
#include "gpu/backend.h"
#include "core/util/banned.h"

static const char *const synopsis[] = {
	"cnai train --data <file> --target <column> [-o <dir>] "
	"[--register <name>] [<options>]",
	"cnai train -f <config.yaml> [<options>]",
	NULL,
};
static const char *const option_help[] = {
	"options (each also a key of the YAML file):",
	"    --data <file>          training CSV (header row)",
	"    --target <column>      the column to predict",
	"    -o, --output <dir>     write model.onnx, model.safetensors, "
	"cnai-model.json",
	"    --register <name>      also register a new version of model <name>",
	"    --model <m>            auto (default: from the target), linear, "
	"logistic, softmax, mlp",
	"    --hidden <n,...>       hidden layer widths (mlp; default 100)",
	"    --activation <a>       relu (default), tanh, gelu",
	"    --dropout <p>          dropout on hidden layers (default 0)",
	"    --optimizer <o>        adam (default), adamw, sgd, momentum",
	"    --lr <rate>            learning rate (default 0.001)",
	"    --weight-decay <w>     L2 (decoupled for adamw; default 0)",
	"    --momentum <m>         for momentum (default 0.9)",
	"    --epochs <n>           passes over the data (default 20)",
	"    --batch-size <n>       rows per step (default 32)",
	"    --seed <n>             shuffles and initial weights (default 0)",
	"    --early-stopping <n>   stop after n epochs without a better "
	"validation loss",
	"    --valid <file>         validation CSV (else --valid-split of --data)",
	"    --valid-split <f>      fraction held out for validation "
	"(default 0.2; 0: none)",
	"    --test <file>          evaluated once at the end",
	"    --features <a,b>       feature columns (default: all but the "
	"target)",
	"    --drop <a,b>           columns to leave out",
	"    --delimiter <c>        field separator (default ',')",
	"    --device <d>           auto (default), cpu, cuda",
	"    --threads <n>          CPU threads (default: all)",
	"    --experiment, --name   the run's experiment and name",
	"    --json                 the result as JSON",
	"    -f <config.yaml>       options as YAML keys (the command line wins)",
	"    --sweep <k>=<v1>,...   a child run per combination (repeatable)",
	"    --parallel <n>         sweep runs at once (default 1)",
	NULL,
};
static const struct cnai_usage usage = { synopsis, option_help };

enum key {
	K_DATA, K_TARGET, K_OUTPUT, K_REGISTER, K_MODEL, K_HIDDEN,
	K_ACTIVATION, K_DROPOUT, K_OPTIMIZER, K_LR, K_WD, K_MOMENTUM,
	K_EPOCHS, K_BATCH, K_SEED, K_EARLY, K_VALID, K_VALID_SPLIT, K_TEST,
	K_FEATURES, K_DROP, K_DELIM, K_DEVICE, K_THREADS, K_EXPERIMENT,
	K_NAME, NKEYS
};

/* name: the long option and YAML key; param: logged as this param. */
static const struct {
	const char *name, *dflt, *param;
} keys[NKEYS] = {
	[K_DATA] = { "data", NULL, "data" },
	[K_TARGET] = { "target", NULL, "target" },
	[K_OUTPUT] = { "output", NULL, NULL },
	[K_REGISTER] = { "register", NULL, NULL },
	[K_MODEL] = { "model", "auto", "model" },
	[K_HIDDEN] = { "hidden", NULL, "hidden" },
	[K_ACTIVATION] = { "activation", "relu", "activation" },
	[K_DROPOUT] = { "dropout", "0", "dropout" },
	[K_OPTIMIZER] = { "optimizer", "adam", "optimizer" },
	[K_LR] = { "lr", "0.001", "lr" },
	[K_WD] = { "weight-decay", "0", "weight_decay" },
	[K_MOMENTUM] = { "momentum", "0.9", "momentum" },
	[K_EPOCHS] = { "epochs", "20", "epochs" },
	[K_BATCH] = { "batch-size", "32", "batch_size" },
	[K_SEED] = { "seed", "0", "seed" },
	[K_EARLY] = { "early-stopping", "0", "early_stopping" },
	[K_VALID] = { "valid", NULL, "valid" },
	[K_VALID_SPLIT] = { "valid-split", NULL, "valid_split" },
	[K_TEST] = { "test", NULL, "test" },
	[K_FEATURES] = { "features", NULL, "features" },
	[K_DROP] = { "drop", NULL, "drop" },
	[K_DELIM] = { "delimiter", ",", NULL },
	[K_DEVICE] = { "device", "auto", "device" },
	[K_THREADS] = { "threads", NULL, "threads" },
	[K_EXPERIMENT] = { "experiment", NULL, NULL },
	[K_NAME] = { "name", NULL, NULL },
};

#define MAX_HIDDEN 32
#define MAX_SWEEP 8

/* Options as typed values, after defaults and checks. */
struct cfg {
	const char *v[NKEYS]; /* effective string values (NULL: unset) */
	int kind;             /* -1: auto */
	enum cnai_act act;
	int hidden[MAX_HIDDEN];
	size_t nhidden;
	float dropout;
	double valid_split;
	int threads;
	char delim;
	struct cnai_ml_train_opts t;
};

/* Owned strings from the YAML file. */
struct strlist {
	char **s;
	size_t n;
};

static const char *keep(struct strlist *l, char *s)
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

static void strlist_release(struct strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->s[i]);
	free(l->s);
}

static int find_key(const char *name)
{
	char norm[64];
	size_t i;

	snprintf(norm, sizeof(norm), "%s", name);
	for (i = 0; norm[i]; i++)
		if (norm[i] == '_')
			norm[i] = '-';
	for (i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].name, norm))
			return (int)i;
	if (!strcmp(norm, "o"))
		return K_OUTPUT;
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

/* An int option (`opt` without its dashes) in [min, INT32_MAX]. */
static int parse_int(int *out, const char *s, const char *opt, int min)
{
	char name[64];
	int64_t v;
	int err;

	snprintf(name, sizeof(name), "--%s", opt);
	if ((err = cnai_opt_int_range(&v, s, name, min, INT32_MAX)) < 0)
		return err;
	*out = (int)v;
	return 0;
}

static int parse_hidden(struct cfg *c, const char *s)
{
	const char *p = s;

	c->nhidden = 0;
	while (*p) {
		char *end;
		long v = strtol(p, &end, 10);

		if (end == p || v < 1 || v > 1 << 20 ||
		    c->nhidden == MAX_HIDDEN ||
		    (*end && *end != ',' && *end != 'x'))
			return cnai_error_set(CNAI_EUSAGE,
					      "--hidden: '%s' is not a list of "
					      "layer widths like 256,128", s);
		c->hidden[c->nhidden++] = (int)v;
		p = *end ? end + 1 : end;
	}
	return 0;
}

/* Turns the string values into typed ones; usage errors name the key. */
static int resolve(struct cfg *c)
{
	const char **v = c->v;
	double d;
	int i, err;

	for (i = 0; i < NKEYS; i++)
		if (!v[i])
			v[i] = keys[i].dflt;
	if (!v[K_DATA])
		return cnai_error_set(CNAI_EUSAGE, "--data is required");
	if (!v[K_TARGET])
		return cnai_error_set(CNAI_EUSAGE, "--target is required");
	if (!v[K_OUTPUT] && !v[K_REGISTER])
		return cnai_error_set(CNAI_EUSAGE,
				      "give -o <dir>, --register <name>, or "
				      "both");
	if (v[K_REGISTER] && !cnai_model_name_is_valid(v[K_REGISTER]))
		return cnai_error_set(CNAI_EUSAGE,
				      "--register: '%s' is not a valid model "
				      "name ([a-z0-9][a-z0-9._-]*)",
				      v[K_REGISTER]);
	c->kind = -1;
	if (strcmp(v[K_MODEL], "auto") &&
	    (c->kind = cnai_ml_kind_parse(v[K_MODEL])) < 0)
		return cnai_error_set(CNAI_EUSAGE,
				      "--model: '%s' is not auto, linear, "
				      "logistic, softmax or mlp", v[K_MODEL]);
	if ((i = cnai_act_parse(v[K_ACTIVATION])) < 0)
		return cnai_error_set(CNAI_EUSAGE,
				      "--activation: '%s' is not relu, tanh "
				      "or gelu", v[K_ACTIVATION]);
	c->act = (enum cnai_act)i;
	if (v[K_HIDDEN]) {
		if ((err = parse_hidden(c, v[K_HIDDEN])) < 0)
			return err;
		if (c->kind == -1)
			c->kind = CNAI_ML_MLP;
		else if (c->kind != CNAI_ML_MLP)
			return cnai_error_set(CNAI_EUSAGE,
					      "--hidden: only an mlp has hidden "
					      "layers");
	} else if (c->kind == CNAI_ML_MLP) {
		c->hidden[0] = 100; /* scikit-learn's default */
		c->nhidden = 1;
		v[K_HIDDEN] = "100";
	}
	if ((err = parse_double(&d, v[K_DROPOUT], "dropout")) < 0)
		return err;
	if (d < 0 || d >= 1)
		return cnai_error_set(CNAI_EUSAGE,
				      "--dropout: must be in [0, 1)");
	c->dropout = (float)d;
	cnai_ml_train_opts_init(&c->t);
	if ((i = cnai_ml_optim_parse(v[K_OPTIMIZER])) < 0)
		return cnai_error_set(CNAI_EUSAGE,
				      "--optimizer: '%s' is not sgd, momentum, "
				      "adam or adamw", v[K_OPTIMIZER]);
	c->t.optimizer = (enum cnai_ml_optim)i;
	if ((err = parse_double(&d, v[K_LR], "lr")) < 0)
		return err;
	if (!(d > 0))
		return cnai_error_set(CNAI_EUSAGE, "--lr: must be above 0");
	c->t.lr = (float)d;
	if ((err = parse_double(&d, v[K_WD], "weight-decay")) < 0)
		return err;
	if (d < 0)
		return cnai_error_set(CNAI_EUSAGE,
				      "--weight-decay: must not be negative");
	c->t.weight_decay = (float)d;
	if ((err = parse_double(&d, v[K_MOMENTUM], "momentum")) < 0)
		return err;
	if (d < 0 || d >= 1)
		return cnai_error_set(CNAI_EUSAGE,
				      "--momentum: must be in [0, 1)");
	c->t.momentum = (float)d;
	if ((err = parse_int(&c->t.epochs, v[K_EPOCHS], "epochs", 1)) < 0 ||
	    (err = parse_int(&c->t.batch_size, v[K_BATCH], "batch-size",
			     1)) < 0 ||
	    (err = parse_int(&c->t.patience, v[K_EARLY], "early-stopping",
			     0)) < 0)
		return err;
	{
		int64_t seed;

		if ((err = cnai_opt_int64(&seed, v[K_SEED], "--seed")) < 0)
			return err;
		c->t.seed = (uint64_t)seed;
	}
	c->threads = 0;
	if (v[K_THREADS] &&
	    (err = parse_int(&c->threads, v[K_THREADS], "threads", 1)) < 0)
		return err;
	if (v[K_VALID] && v[K_VALID_SPLIT])
		return cnai_error_set(CNAI_EUSAGE,
				      "--valid and --valid-split exclude each "
				      "other");
	c->valid_split = 0;
	if (!v[K_VALID]) {
		if (!v[K_VALID_SPLIT])
			v[K_VALID_SPLIT] = "0.2";
		if ((err = parse_double(&c->valid_split, v[K_VALID_SPLIT],
					"valid-split")) < 0)
			return err;
		if (c->valid_split < 0 || c->valid_split >= 1)
			return cnai_error_set(CNAI_EUSAGE,
					      "--valid-split: must be in [0, "
					      "1)");
	}
	if (c->t.patience > 0 && !v[K_VALID] && c->valid_split == 0)
		return cnai_error_set(CNAI_EUSAGE,
				      "--early-stopping needs validation data "
				      "(--valid or --valid-split)");
	if (strlen(v[K_DELIM]) != 1)
		return cnai_error_set(CNAI_EUSAGE,
				      "--delimiter: one character, not '%s'",
				      v[K_DELIM]);
	c->delim = v[K_DELIM][0];
	if (strcmp(v[K_DEVICE], "auto") && strcmp(v[K_DEVICE], "cpu") &&
	    strcmp(v[K_DEVICE], "cuda"))
		return cnai_error_set(CNAI_EUSAGE,
				      "--device: '%s' is not auto, cpu or cuda",
				      v[K_DEVICE]);
	return 0;
}

/* ---- the YAML file ---- */

static int yaml_fail(const char *path, const yaml_parser_t *p)
{
	return cnai_error_set(CNAI_EINVALID, "%s:%zu: %s", path,
			      p->problem_mark.line + 1,
			      p->problem ? p->problem : "not valid YAML");
}

/* Reads scalars (or a flow list, joined with ',') of a mapping. */
static int load_yaml(const char *path, const char **file_v,
		     struct strlist *own, char ***sweeps, size_t *nsweeps)
{
	FILE *f = fopen(path, "rb");
	yaml_parser_t p;
	yaml_event_t ev;
	char *key = NULL;
	struct cnai_buf list = CNAI_BUF_INIT;
	int depth = 0, in_list = 0, in_sweep = 0, err = 0, done = 0;
	char *sweep_key = NULL;

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
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_MAPPING_START_EVENT:
			depth++;
			if (depth == 2 && key && !strcmp(key, "sweep")) {
				in_sweep = 1;
				free(key);
				key = NULL;
			} else if (depth != 1) {
				err = cnai_error_set(
					CNAI_EINVALID,
					"%s:%zu: a nested mapping is only "
					"allowed under 'sweep'", path,
					ev.start_mark.line + 1);
			}
			break;
		case YAML_MAPPING_END_EVENT:
			if (depth-- == 2)
				in_sweep = 0;
			break;
		case YAML_SEQUENCE_START_EVENT:
			in_list = 1;
			cnai_buf_reset(&list);
			break;
		case YAML_SEQUENCE_END_EVENT:
			in_list = 0;
			/* fallthrough to storing the joined value */
			if (in_sweep && sweep_key) {
				char *s = NULL, **g;

				if (asprintf(&s, "%s=%s", sweep_key,
					     list.buf) < 0 ||
				    !keep(own, s) ||
				    !(g = realloc(*sweeps, (*nsweeps + 1) *
								   sizeof(*g)))) {
					err = cnai_error_set(CNAI_ERROR,
							     "out of memory");
					break;
				}
				*sweeps = g;
				g[(*nsweeps)++] = s;
				free(sweep_key);
				sweep_key = NULL;
			} else if (key) {
				int k = find_key(key);

				if (k < 0) {
					err = cnai_error_set(
						CNAI_EINVALID,
						"%s:%zu: unknown key '%s'",
						path, ev.start_mark.line + 1,
						key);
					break;
				}
				file_v[k] = keep(own, strdup(list.buf));
				free(key);
				key = NULL;
			}
			break;
		case YAML_SCALAR_EVENT: {
			const char *s = (const char *)ev.data.scalar.value;

			if (in_list) {
				if (list.len)
					cnai_buf_addch(&list, ',');
				cnai_buf_adds(&list, s);
			} else if (in_sweep) {
				if (!sweep_key) {
					sweep_key = strdup(s);
				} else {
					err = cnai_error_set(
						CNAI_EINVALID,
						"%s:%zu: sweep '%s' needs a "
						"list of values", path,
						ev.start_mark.line + 1,
						sweep_key);
				}
			} else if (!key) {
				key = strdup(s);
			} else {
				int k = find_key(key);

				if (k < 0) {
					err = cnai_error_set(
						CNAI_EINVALID,
						"%s:%zu: unknown key '%s'",
						path, ev.start_mark.line + 1,
						key);
					break;
				}
				file_v[k] = keep(own, strdup(s));
				free(key);
				key = NULL;
			}
			break;
		}
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	free(key);
	free(sweep_key);
	cnai_buf_release(&list);
	yaml_parser_delete(&p);
	fclose(f);
	return err;
}

/* ---- data ---- */

static double now_s(void);

/* Everything loaded and encoded, before any run exists. */
struct data {
	struct cnai_dtable *t, *vt; /* --data, --valid */
	struct cnai_ml_model *m;    /* prep, head, classes, no layers */
	float *x, *y;
	int32_t *labels, *train, *val;
	size_t n, ntrain, nval;
	struct cnai_ml_prep_stats stats;
	char digest[CNAI_DIGEST_LEN], vdigest[CNAI_DIGEST_LEN];
	char tdigest[CNAI_DIGEST_LEN];
	uint64_t size, vsize, tsize;
	char *schema, *vschema;
	double read_seconds; /* parsing --data */
};

static void data_release(struct data *d)
{
	cnai_dtable_free(d->t);
	cnai_dtable_free(d->vt);
	cnai_ml_model_free(d->m);
	free(d->x);
	free(d->y);
	free(d->labels);
	free(d->train);
	free(d->val);
	free(d->schema);
	free(d->vschema);
	memset(d, 0, sizeof(*d));
}

/*
 * Sets keep[c] = `mark` for each column c named in the comma list; every
 * name must be a column. One hash lookup a name, so a long list over a
 * wide file stays linear.
 */
static int mark_columns(unsigned char *keep, const struct cnai_dtable *t,
			const char *list, const char *opt, unsigned char mark)
{
	char *dup = list ? strdup(list) : NULL, *save = NULL, *tok;
	long col;
	int err = 0;

	if (list && !dup)
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (tok = dup ? strtok_r(dup, ",", &save) : NULL; tok && !err;
	     tok = strtok_r(NULL, ",", &save))
		if ((col = cnai_dtable_find(t, tok)) < 0)
			err = cnai_error_set(CNAI_EINVALID,
					     "%s: no column '%s' (%s)", t->path,
					     tok, opt);
		else
			keep[col] = mark;
	free(dup);
	return err;
}

static int cmp_class(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	double dx, dy;

	if (cnai_number_parse(&dx, x, strlen(x)) == 0 &&
	    cnai_number_parse(&dy, y, strlen(y)) == 0 && dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(x, y);
}

/* Decides the task and the classes from the target column. */
static int plan_task(struct data *d, const struct cfg *c, size_t tcol)
{
	const struct cnai_col *col = &d->t->cols[tcol];
	struct cnai_ml_model *m = d->m;
	int numeric = 1, integer = 1, classify;
	size_t i;

	for (i = 0; i < col->ncats; i++) {
		double v;

		if (cnai_number_parse(&v, col->cats[i], strlen(col->cats[i])) <
		    0)
			numeric = integer = 0;
		else if (v != floor(v))
			integer = 0;
	}
	switch (c->kind) {
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
				      d->t->path, col->name);
	m->kind = c->kind >= 0 ? (enum cnai_ml_kind)c->kind
		  : !classify  ? CNAI_ML_LINEAR
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
				      d->t->path, col->name,
				      col->ncats ? col->cats[0] : "");
	if (m->kind == CNAI_ML_LOGISTIC && col->ncats != 2)
		return cnai_error_set(CNAI_EUSAGE,
				      "--model logistic: column '%s' has %zu "
				      "classes; use softmax", col->name,
				      col->ncats);
	m->head = m->kind == CNAI_ML_LOGISTIC ? CNAI_HEAD_SIGMOID
					      : CNAI_HEAD_SOFTMAX;
	m->nclasses = col->ncats;
	if (!(m->classes = calloc(col->ncats, sizeof(char *))))
		return cnai_error_set(CNAI_ERROR, "out of memory");
	for (i = 0; i < col->ncats; i++)
		if (!(m->classes[i] = strdup(col->cats[i])))
			return cnai_error_set(CNAI_ERROR, "out of memory");
	qsort(m->classes, m->nclasses, sizeof(char *), cmp_class);
	return 0;
}

/* Targets of table t (column tcol) into labels/y at offset `at`. */
static int fill_targets(struct data *d, const struct cnai_dtable *t,
			size_t tcol, size_t at, double *ybuf)
{
	size_t i;
	int err;

	if (cnai_ml_model_is_classifier(d->m))
		return cnai_ml_labels(d->labels + at, d->m, t, tcol);
	if ((err = cnai_ml_targets(ybuf + at, t, tcol)) < 0)
		return err;
	(void)i;
	return 0;
}

static int load_data(struct data *d, const struct cfg *c)
{
	const char *target = c->v[K_TARGET];
	struct cnai_dtable_opts o = { 0 };
	const char *tname[1] = { target };
	enum cnai_col_type ttype[1] = { CNAI_COL_STRING };
	size_t *cols = NULL, *rows = NULL, ncols = 0, i, tcol, vtcol = 0;
	unsigned char *keep = NULL;
	double *ybuf = NULL;
	uint64_t rng = c->t.seed ^ 0x5b117ull;
	int err;

	o.delim = c->delim;
	o.names = tname;
	o.types = ttype;
	o.ntypes = 1;
	o.other = CNAI_COL_AUTO;
	d->read_seconds = now_s();
	if ((err = cnai_dtable_load(&d->t, c->v[K_DATA], &o)) < 0)
		return err;
	d->read_seconds = now_s() - d->read_seconds;
	if (cnai_dtable_find(d->t, target) < 0)
		return cnai_error_set(CNAI_EINVALID,
				      "%s: no column '%s' (--target)",
				      c->v[K_DATA], target);
	tcol = (size_t)cnai_dtable_find(d->t, target);
	if (!(cols = calloc(d->t->ncols, sizeof(*cols))) ||
	    !(keep = malloc(d->t->ncols))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	memset(keep, !c->v[K_FEATURES], d->t->ncols);
	if ((err = mark_columns(keep, d->t, c->v[K_FEATURES], "--features",
				1)) < 0 ||
	    (err = mark_columns(keep, d->t, c->v[K_DROP], "--drop", 0)) < 0)
		goto cleanup;
	for (i = 0; i < d->t->ncols; i++)
		if (i != tcol && keep[i])
			cols[ncols++] = i;
	if (!ncols) {
		err = cnai_error_set(CNAI_EINVALID, "%s: no feature columns",
				     c->v[K_DATA]);
		goto cleanup;
	}
	if (!(d->m = calloc(1, sizeof(*d->m))) ||
	    !(d->m->target = strdup(target))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	d->m->act = c->act;
	d->m->dropout = c->dropout;
	if ((err = plan_task(d, c, tcol)) < 0)
		goto cleanup;
	/* split */
	d->n = d->t->nrows;
	if (c->v[K_VALID]) {
		struct cnai_dtable_opts vo = { 0 };

		vo.delim = c->delim;
		vo.other = CNAI_COL_AUTO;
		vo.names = tname;
		vo.types = ttype;
		vo.ntypes = 1;
		if ((err = cnai_dtable_load(&d->vt, c->v[K_VALID], &vo)) < 0)
			goto cleanup;
		if (cnai_dtable_find(d->vt, target) < 0) {
			err = cnai_error_set(CNAI_EINVALID,
					     "%s: no column '%s' (--target)",
					     c->v[K_VALID], target);
			goto cleanup;
		}
		vtcol = (size_t)cnai_dtable_find(d->vt, target);
		d->ntrain = d->n;
		d->nval = d->vt->nrows;
	} else {
		d->nval = (size_t)floor(c->valid_split * (double)d->n + 0.5);
		if (c->valid_split > 0 && !d->nval)
			d->nval = 1;
		if (d->nval >= d->n) {
			err = cnai_error_set(CNAI_EINVALID,
					     "%s: %zu rows leave none to train "
					     "on after --valid-split %s",
					     c->v[K_DATA], d->n,
					     c->v[K_VALID_SPLIT]);
			goto cleanup;
		}
		d->ntrain = d->n - d->nval;
	}
	d->train = malloc((d->ntrain ? d->ntrain : 1) * sizeof(int32_t));
	d->val = malloc((d->nval ? d->nval : 1) * sizeof(int32_t));
	rows = malloc((d->ntrain ? d->ntrain : 1) * sizeof(size_t));
	if (!d->train || !d->val || !rows || d->n + d->nval > INT32_MAX) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	if (c->v[K_VALID]) {
		for (i = 0; i < d->ntrain; i++)
			d->train[i] = (int32_t)i;
		for (i = 0; i < d->nval; i++)
			d->val[i] = (int32_t)(d->n + i);
	} else {
		int32_t *perm = malloc(d->n * sizeof(*perm));

		if (!perm) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
		for (i = 0; i < d->n; i++)
			perm[i] = (int32_t)i;
		cnai_ml_shuffle(perm, d->n, &rng);
		memcpy(d->val, perm, d->nval * sizeof(int32_t));
		memcpy(d->train, perm + d->nval, d->ntrain * sizeof(int32_t));
		free(perm);
	}
	for (i = 0; i < d->ntrain; i++)
		rows[i] = (size_t)d->train[i];
	if ((err = cnai_ml_prep_fit(&d->m->prep, d->t, cols, ncols, rows,
				    d->ntrain)) < 0)
		goto cleanup;
	/* encode: --data rows, then --valid rows */
	{
		size_t total = d->n + (d->vt ? d->nval : 0);
		size_t w = d->m->prep.width;
		struct cnai_ml_prep_stats vs;

		/* all numeric and one file: encode in place (less memory) */
		int inplace = !d->vt && d->m->prep.nnumeric == d->m->prep.n;

		d->x = inplace ? NULL : malloc(total * w * sizeof(float));
		if (cnai_ml_model_is_classifier(d->m))
			d->labels = malloc(total * sizeof(int32_t));
		else
			ybuf = malloc(total * sizeof(double));
		d->y = malloc(total * sizeof(float));
		if ((!inplace && !d->x) || (!d->labels && !ybuf) || !d->y) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto cleanup;
		}
		if ((err = fill_targets(d, d->t, tcol, 0, ybuf)) < 0 ||
		    (d->vt &&
		     (err = fill_targets(d, d->vt, vtcol, d->n, ybuf)) < 0) ||
		    (inplace &&
		     (err = cnai_ml_prep_transform_inplace(
			      &d->x, &d->m->prep, d->t, &d->stats)) < 0) ||
		    (!inplace &&
		     (err = cnai_ml_prep_transform(&d->m->prep, d->t, NULL,
						   d->n, d->x, &d->stats)) < 0) ||
		    (d->vt && (err = cnai_ml_prep_transform(
				       &d->m->prep, d->vt, NULL, d->nval,
				       d->x + d->n * w, &vs)) < 0))
			goto cleanup;
		if (ybuf) {
			double mean = 0, sq = 0;

			for (i = 0; i < d->ntrain; i++)
				mean += ybuf[d->train[i]];
			mean /= (double)d->ntrain;
			for (i = 0; i < d->ntrain; i++)
				sq += (ybuf[d->train[i]] - mean) *
				      (ybuf[d->train[i]] - mean);
			d->m->y_mean = (float)mean;
			d->m->y_std = (float)sqrt(sq / (double)d->ntrain);
			if (!(d->m->y_std > 0))
				d->m->y_std = 1.0f;
			for (i = 0; i < total; i++)
				d->y[i] = (float)((ybuf[i] - d->m->y_mean) /
						  d->m->y_std);
		}
	}
	if (!(d->schema = cnai_dtable_schema(d->t)) ||
	    (d->vt && !(d->vschema = cnai_dtable_schema(d->vt)))) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	/* --test is read at the end; a file that cannot be (a directory)
	 * is refused now, before the run exists */
	if (c->v[K_TEST]) {
		struct cnai_csv_reader *tr = NULL;

		if ((err = cnai_csv_open(&tr, c->v[K_TEST], c->delim)) < 0)
			goto cleanup;
		cnai_csv_close(tr);
	}
	if ((err = cnai_sha256_file(d->digest, &d->size, c->v[K_DATA])) < 0 ||
	    (d->vt && (err = cnai_sha256_file(d->vdigest, &d->vsize,
					      c->v[K_VALID])) < 0) ||
	    (c->v[K_TEST] && (err = cnai_sha256_file(d->tdigest, &d->tsize,
						     c->v[K_TEST])) < 0))
		goto cleanup;
cleanup:
	free(keep);
	free(cols);
	free(rows);
	free(ybuf);
	return err;
}

/* ---- the run ---- */

/*
 * Set by SIGINT/SIGTERM while training: the batch callback stops the
 * loop, and the run is ended KILLED instead of being left RUNNING. The
 * one piece of mutable state here, because a signal handler can reach no
 * other.
 */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static void catch_signals(struct sigaction *old_int,
			  struct sigaction *old_term)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	sigaction(SIGINT, &sa, old_int);
	sigaction(SIGTERM, &sa, old_term);
}

static void restore_signals(const struct sigaction *old_int,
			    const struct sigaction *old_term)
{
	sigaction(SIGINT, old_int, NULL);
	sigaction(SIGTERM, old_term, NULL);
}

struct job {
	struct cnai_ctx *ctx;
	struct cnai_store *st;
	struct cfg *c;
	struct data *d;
	struct cnai_run *run;
	int own_run; /* created here: ended here */
	struct cnai_backend *be;
	/* progress bar */
	int bar;
	double last_draw;
	double last_loss, last_speed;
	int64_t parent;
	int last_epoch; /* epochs run (early stopping may end sooner) */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int create_run(struct job *j)
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
	spec.experiment = j->c->v[K_EXPERIMENT];
	spec.name = j->c->v[K_NAME];
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

/* Params and input datasets, in one transaction. */
static int record_setup(struct job *j)
{
	struct cnai_store *st = j->st;
	struct cnai_logger *lg = NULL;
	int64_t run_entity;
	char buf[64];
	size_t i;
	int err;

	if ((err = cnai_logger_begin(&lg, st, j->run->id)) < 0)
		return err;
	for (i = 0; i < NKEYS && !err; i++)
		if (keys[i].param && j->c->v[i])
			err = cnai_logger_param(lg, keys[i].param, j->c->v[i]);
	if (!err) {
		/* what auto chose */
		err = cnai_logger_param(lg, "model_kind",
					cnai_ml_kind_name(j->d->m->kind));
	}
	if (!err) {
		snprintf(buf, sizeof(buf), "%zu", j->d->m->prep.width);
		err = cnai_logger_param(lg, "input_width", buf);
	}
	if (!err)
		err = cnai_logger_param(lg, "backend", j->be->name);
	if (err ||
	    (err = cnai_lineage_entity(&run_entity, st, CNAI_ENTITY_RUN,
				       j->run->uuid, j->run->name)) < 0 ||
	    (err = record_dataset(st, run_entity, j->c->v[K_DATA],
				  j->d->digest, j->d->size, j->d->schema,
				  j->d->t)) < 0 ||
	    (j->d->vt &&
	     (err = record_dataset(st, run_entity, j->c->v[K_VALID],
				   j->d->vdigest, j->d->vsize, j->d->vschema,
				   j->d->vt)) < 0) ||
	    (j->c->v[K_TEST] &&
	     (err = record_dataset(st, run_entity, j->c->v[K_TEST],
				   j->d->tdigest, j->d->tsize, NULL,
				   NULL)) < 0)) {
		cnai_logger_abort(lg);
		return err;
	}
	return cnai_logger_commit(lg);
}

static void draw_bar(struct job *j, int epoch, size_t done, size_t total)
{
	int width = 24, fill = total ? (int)(width * done / total) : 0;
	char bar[32];

	memset(bar, '=', (size_t)fill);
	memset(bar + fill, ' ', (size_t)(width - fill));
	bar[width] = '\0';
	fprintf(stderr, "\repoch %d/%d [%s] %3d%%", epoch, j->c->t.epochs, bar,
		total ? (int)(100 * done / total) : 0);
	if (j->last_speed > 0)
		fprintf(stderr, "  loss %.4f  %.0f rows/s", j->last_loss,
			j->last_speed);
	fprintf(stderr, "\033[K");
}

static int on_batch(int epoch, size_t done, size_t total, void *payload)
{
	struct job *j = payload;
	double t;

	if (interrupted)
		return cnai_error_set(CNAI_ERROR, "interrupted at epoch %d",
				      epoch);
	if (!j->bar)
		return 0;
	t = now_s();
	if (t - j->last_draw < 0.1 && done < total)
		return 0;
	j->last_draw = t;
	draw_bar(j, epoch, done, total);
	return 0;
}

static int on_epoch(const struct cnai_ml_epoch *e, void *payload)
{
	struct job *j = payload;
	struct cnai_logger *lg = NULL;
	int64_t ts = (int64_t)time(NULL) * 1000;
	int cls = cnai_ml_model_is_classifier(j->d->m), err;

	j->last_epoch = e->epoch;
	j->last_loss = e->train_loss;
	j->last_speed = e->samples_per_second;
	if (j->bar)
		draw_bar(j, e->epoch, 1, 1);
	if ((err = cnai_logger_begin(&lg, j->st, j->run->id)) < 0)
		return err;
	err = cnai_logger_metric(lg, "train_loss", e->train_loss, e->epoch, ts);
	if (!err && e->has_val) {
		err = cnai_logger_metric(lg, "val_loss", e->val_loss, e->epoch,
					 ts);
		if (!err && cls)
			err = cnai_logger_metric(lg, "val_accuracy",
						 e->val_accuracy, e->epoch, ts);
		if (!err && !cls)
			err = cnai_logger_metric(lg, "val_rmse", e->val_rmse,
						 e->epoch, ts);
		if (!err && !cls)
			err = cnai_logger_metric(lg, "val_r2", e->val_r2,
						 e->epoch, ts);
	}
	if (!err)
		err = cnai_logger_metric(lg, "samples_per_second",
					 e->samples_per_second, e->epoch, ts);
	if (!err)
		err = cnai_logger_metric(lg, "epoch_seconds", e->seconds,
					 e->epoch, ts);
	if (err) {
		cnai_logger_abort(lg);
		return err;
	}
	return cnai_logger_commit(lg);
}

/* Test-set metrics into `metrics`, and as run metrics at `step`. */
static int evaluate_test(struct job *j, const struct cnai_ml_model *m,
			 json_t *metrics, int step)
{
	struct cnai_ml_batch b;
	struct cnai_logger *lg = NULL;
	int64_t ts = (int64_t)time(NULL) * 1000;
	long tc;
	size_t i;
	int err;

	if ((err = cnai_ml_predict_file(&b, m, j->be, j->c->v[K_TEST],
					j->c->delim, m->target)) < 0)
		return err;
	tc = cnai_dtable_find(b.t, m->target);
	if (cnai_ml_model_is_classifier(m)) {
		int32_t *truth = malloc(b.n * sizeof(*truth));
		int32_t *pred = malloc(b.n * sizeof(*pred));
		struct cnai_ml_cls_report r;

		if (!truth || !pred ||
		    (err = cnai_ml_labels(truth, m, b.t, (size_t)tc)) < 0) {
			free(truth);
			free(pred);
			cnai_ml_batch_release(&b);
			return err < 0 ? err
				       : cnai_error_set(CNAI_ERROR,
							"out of memory");
		}
		for (i = 0; i < b.n; i++)
			pred[i] = cnai_ml_argmax(b.pred + i * b.npred,
						 (size_t)b.npred);
		err = cnai_ml_cls_report(&r, truth, pred, b.n, m->nclasses);
		free(truth);
		free(pred);
		if (err == 0) {
			json_object_set_new(metrics, "test_accuracy",
					    json_real(r.accuracy));
			json_object_set_new(metrics, "test_macro_f1",
					    json_real(r.macro_f1));
			cnai_ml_cls_report_release(&r);
		}
	} else {
		double *truth = malloc(b.n * sizeof(*truth));
		struct cnai_ml_reg_report r;

		if (!truth || (err = cnai_ml_targets(truth, b.t, (size_t)tc)) < 0) {
			free(truth);
			cnai_ml_batch_release(&b);
			return err < 0 ? err
				       : cnai_error_set(CNAI_ERROR,
							"out of memory");
		}
		cnai_ml_reg_report(&r, truth, b.pred, b.n);
		free(truth);
		json_object_set_new(metrics, "test_rmse", json_real(r.rmse));
		json_object_set_new(metrics, "test_mae", json_real(r.mae));
		json_object_set_new(metrics, "test_r2", json_real(r.r2));
	}
	cnai_ml_batch_release(&b);
	if (err < 0)
		return err;
	if ((err = cnai_logger_begin(&lg, j->st, j->run->id)) < 0)
		return err;
	{
		const char *k;
		json_t *v;

		json_object_foreach(metrics, k, v)
			if (!strncmp(k, "test_", 5) && !err)
				err = cnai_logger_metric(lg, k,
							 json_number_value(v),
							 step, ts);
	}
	if (err) {
		cnai_logger_abort(lg);
		return err;
	}
	return cnai_logger_commit(lg);
}

/* The model's files as run artifacts ("model/model.onnx", ...). */
static int log_model_artifacts(struct job *j, const char *dir)
{
	static const char *const files[] = { CNAI_MODEL_ONNX,
					     CNAI_MODEL_SAFETENSORS,
					     CNAI_MODEL_JSON };
	struct cnai_logger *lg = NULL;
	char path[PATH_MAX], name[64], digest[CNAI_DIGEST_LEN];
	uint64_t size;
	size_t i;
	int err;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if ((err = cnai_blob_put_file(digest, &size, j->st, path)) < 0)
			return err;
	}
	if ((err = cnai_logger_begin(&lg, j->st, j->run->id)) < 0)
		return err;
	for (i = 0; i < 3 && !err; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		snprintf(name, sizeof(name), "model/%s", files[i]);
		if ((err = cnai_sha256_file(digest, &size, path)) == 0)
			err = cnai_logger_artifact(lg, name, digest, size);
	}
	if (err) {
		cnai_logger_abort(lg);
		return err;
	}
	return cnai_logger_commit(lg);
}

static void remove_model_dir(const char *dir)
{
	static const char *const files[] = { CNAI_MODEL_ONNX,
					     CNAI_MODEL_SAFETENSORS,
					     CNAI_MODEL_JSON };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static json_t *datasets_json(const struct job *j)
{
	json_t *a = json_array();

	json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:I}", "role",
					   "train",
					   "path", j->c->v[K_DATA], "digest",
					   j->d->digest, "rows",
					   (json_int_t)j->d->t->nrows));
	if (j->d->vt)
		json_array_append_new(
			a, json_pack("{s:s, s:s, s:s, s:I}", "role", "valid",
				     "path", j->c->v[K_VALID], "digest",
				     j->d->vdigest, "rows",
				     (json_int_t)j->d->vt->nrows));
	if (j->c->v[K_TEST])
		json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "role",
						   "test", "path",
						   j->c->v[K_TEST], "digest",
						   j->d->tdigest));
	return a;
}

/*
 * Trains one model in the job's run and writes it to `dir` (and
 * registers it); *result gets the summary JSON.
 */
static int train_one(struct job *j, const char *dir, json_t **result)
{
	struct cnai_ml_model *m = j->d->m;
	struct cnai_ml_data md;
	struct cnai_ml_epoch fin;
	struct cnai_model_version *v = NULL;
	json_t *metrics = json_object(), *extra = NULL, *training;
	char tmpl[] = "/tmp/cnai-train.XXXXXX";
	const char *out = dir;
	int cls = cnai_ml_model_is_classifier(m), err, created = 0;
	size_t i;
	double t0 = now_s();

	*result = NULL;
	m->act = j->c->act;
	m->dropout = j->c->dropout;
	if (j->c->nhidden)
		m->kind = CNAI_ML_MLP;
	for (i = 0; i < m->nlayers; i++) {
		free(m->layers[i].w);
		free(m->layers[i].b);
	}
	free(m->layers);
	m->layers = NULL;
	m->nlayers = 0;
	if ((err = cnai_ml_model_init_layers(m, j->c->hidden, j->c->nhidden,
					     j->c->t.seed)) < 0)
		goto cleanup;
	md.x = j->d->x;
	md.labels = j->d->labels;
	md.y = j->d->y;
	md.n = j->d->n + (j->d->vt ? j->d->nval : 0);
	md.train = j->d->train;
	md.ntrain = j->d->ntrain;
	md.val = j->d->val;
	md.nval = j->d->nval;
	j->bar = j->ctx->stderr_tty && !j->ctx->quiet && !j->parent;
	err = cnai_ml_train(m, j->be, &md, &j->c->t, on_epoch, on_batch, j,
			    &fin);
	if (j->bar)
		fputs("\r\033[K", stderr);
	if (err < 0)
		goto cleanup;
	json_object_set_new(metrics, "train_loss", json_real(fin.train_loss));
	if (fin.has_val) {
		json_object_set_new(metrics, "val_loss", json_real(fin.val_loss));
		if (cls)
			json_object_set_new(metrics, "val_accuracy",
					    json_real(fin.val_accuracy));
		else {
			json_object_set_new(metrics, "val_rmse",
					    json_real(fin.val_rmse));
			json_object_set_new(metrics, "val_r2",
					    json_real(fin.val_r2));
		}
	}
	if (j->c->v[K_TEST] &&
	    (err = evaluate_test(j, m, metrics, fin.epoch)) < 0)
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
	training = json_object();
	for (i = 0; i < NKEYS; i++)
		if (keys[i].param && j->c->v[i])
			json_object_set_new(training, keys[i].param,
					    json_string(j->c->v[i]));
	/*
	 * Only what the data, options and seed decide goes in the folder
	 * (no run id, no time), so the same training gives the same bytes,
	 * version and image digests; the run is recorded in the store.
	 */
	extra = json_pack("{s:o, s:o, s:o, s:i, s:i, s:s}", "metrics",
			  json_deep_copy(metrics),
			  "datasets", datasets_json(j), "training", training,
			  "epochs_trained", j->last_epoch, "best_epoch", fin.epoch,
			  "device", j->be->name);
	/* read it back as predict will before anything records it */
	if ((err = cnai_ml_model_save(m, out, extra)) < 0 ||
	    (err = cnai_ml_model_check_saved(m, out)) < 0 ||
	    (err = log_model_artifacts(j, out)) < 0)
		goto cleanup;
	if (j->c->v[K_REGISTER] && !j->parent) {
		struct cnai_model_register_opts ro = { 0 };
		const char *paths[1] = { out };

		ro.run = j->run->uuid;
		ro.description = "trained by cnai train";
		if ((err = cnai_model_register(&v, &created, j->st,
					       j->c->v[K_REGISTER], paths, 1,
					       &ro)) < 0)
			goto cleanup;
	}
	*result = json_pack("{s:s, s:s, s:s, s:i, s:I, s:I, s:f, s:O, s:s}",
			    "run", j->run->uuid, "model",
			    cnai_ml_kind_name(m->kind), "task",
			    cls ? "classification" : "regression", "epochs",
			    j->last_epoch, "train_rows", (json_int_t)j->d->ntrain,
			    "parameters",
			    (json_int_t)cnai_ml_model_nparams(m), "seconds",
			    now_s() - t0, "metrics", metrics, "device",
			    j->be->device);
	json_object_set_new(*result, "read_seconds",
			    json_real(j->d->read_seconds));
	if (dir)
		json_object_set_new(*result, "output", json_string(dir));
	if (v)
		json_object_set_new(*result, "registered",
				    json_pack("{s:s, s:I, s:s, s:b}", "name",
					      v->name, "version",
					      (json_int_t)v->version, "digest",
					      v->manifest_digest, "created",
					      created));
cleanup:
	if (out == tmpl)
		remove_model_dir(tmpl);
	cnai_model_version_free(v);
	json_decref(metrics);
	json_decref(extra);
	return err;
}

static void print_result(const struct cnai_ctx *ctx, json_t *r)
{
	json_t *m = json_object_get(r, "metrics"), *reg;
	const char *k;
	json_t *v;
	char num[64];

	if (ctx->json) {
		cnai_json_print(json_incref(r));
		return;
	}
	printf("run %s: %s %s, %lld epochs on %lld rows in %.1fs (%s)\n",
	       json_string_value(json_object_get(r, "run")),
	       json_string_value(json_object_get(r, "model")),
	       json_string_value(json_object_get(r, "task")),
	       (long long)json_integer_value(json_object_get(r, "epochs")),
	       (long long)json_integer_value(json_object_get(r, "train_rows")),
	       json_real_value(json_object_get(r, "seconds")),
	       json_string_value(json_object_get(r, "device")));
	json_object_foreach(m, k, v) {
		snprintf(num, sizeof(num), "%.6g", json_number_value(v));
		printf("  %-14s %s\n", k, num);
	}
	if (json_object_get(r, "output"))
		printf("model written to %s\n",
		       json_string_value(json_object_get(r, "output")));
	if ((reg = json_object_get(r, "registered")))
		printf("registered %s version %lld\n",
		       json_string_value(json_object_get(reg, "name")),
		       (long long)json_integer_value(
			       json_object_get(reg, "version")));
}

static int open_backend(struct job *j)
{
	char notice[512];
	int err;

	if ((err = cnai_backend_open(&j->be, j->c->v[K_DEVICE], j->c->threads,
				     notice, sizeof(notice))) < 0)
		return err;
	if (notice[0] && !j->parent)
		cnai_notice(j->ctx, "cannot use the GPU (%s); training on the "
			    "CPU", notice);
	return 0;
}

/* A sweep child's own backend and setup records (after fork). */
static int setup_child(struct job *j)
{
	int err;

	if ((err = open_backend(j)) < 0)
		return err;
	return record_setup(j);
}

/* ---- sweeps ---- */

struct sweep_axis {
	int key;
	char **vals;
	size_t n;
};

static int parse_sweeps(struct sweep_axis *ax, size_t *nax, char **specs,
			size_t nspecs, struct strlist *own)
{
	size_t i;

	*nax = 0;
	if (nspecs > MAX_SWEEP)
		return cnai_error_set(CNAI_EUSAGE, "--sweep: at most %d keys",
				      MAX_SWEEP);
	for (i = 0; i < nspecs; i++) {
		char *dup = strdup(specs[i]), *eq, *save = NULL, *tok;
		struct sweep_axis *a = &ax[(*nax)++];

		memset(a, 0, sizeof(*a));
		if (!dup || !keep(own, dup))
			return cnai_error_set(CNAI_ERROR, "out of memory");
		if (!(eq = strchr(dup, '=')) || eq == dup || !eq[1])
			return cnai_error_set(CNAI_EUSAGE,
					      "--sweep: '%s' is not "
					      "KEY=V1,V2,...", specs[i]);
		*eq = '\0';
		a->key = find_key(dup);
		if (a->key != K_HIDDEN && a->key != K_ACTIVATION &&
		    a->key != K_DROPOUT && a->key != K_OPTIMIZER &&
		    a->key != K_LR && a->key != K_WD && a->key != K_MOMENTUM &&
		    a->key != K_EPOCHS && a->key != K_BATCH &&
		    a->key != K_SEED && a->key != K_EARLY)
			return cnai_error_set(CNAI_EUSAGE,
					      "--sweep: '%s' is not one of "
					      "hidden, activation, dropout, "
					      "optimizer, lr, weight-decay, "
					      "momentum, epochs, batch-size, "
					      "seed, early-stopping", dup);
		/* hidden sizes use 'x' inside one value: 64x32 */
		for (tok = strtok_r(eq + 1, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			char **g = realloc(a->vals, (a->n + 1) * sizeof(*g));

			if (!g)
				return cnai_error_set(CNAI_ERROR,
						      "out of memory");
			a->vals = g;
			a->vals[a->n++] = tok;
		}
	}
	return 0;
}

static int cmd_sweep(struct job *base, struct sweep_axis *ax, size_t nax,
		     int parallel)
{
	struct cnai_ctx *ctx = base->ctx;
	struct cnai_run *parent = NULL;
	struct cnai_run **kids = NULL;
	struct cfg *cfgs = NULL;
	size_t total = 1, i, a, running = 0, next = 0, failed = 0;
	pid_t *pids = NULL;
	char **dirs = NULL;
	json_t *out = json_array();
	long best = -1;
	double best_loss = INFINITY;
	struct sigaction old_int, old_term;
	int err = 0;

	for (a = 0; a < nax; a++)
		total *= ax[a].n;
	cfgs = calloc(total, sizeof(*cfgs));
	kids = calloc(total, sizeof(*kids));
	pids = calloc(total, sizeof(*pids));
	dirs = calloc(total, sizeof(*dirs));
	if (!cfgs || !kids || !pids || !dirs) {
		err = cnai_error_set(CNAI_ERROR, "out of memory");
		goto cleanup;
	}
	/* every combination resolves before any run exists */
	for (i = 0; i < total; i++) {
		size_t rest = i;

		cfgs[i] = *base->c;
		for (a = nax; a-- > 0;) {
			cfgs[i].v[ax[a].key] = ax[a].vals[rest % ax[a].n];
			rest /= ax[a].n;
		}
		if ((err = resolve(&cfgs[i])) < 0)
			goto cleanup;
	}
	if ((err = create_run(base)) < 0)
		goto cleanup;
	parent = base->run;
	base->own_run = 1;
	{
		struct cnai_logger *lg = NULL;
		char buf[32];

		snprintf(buf, sizeof(buf), "%zu", total);
		if ((err = cnai_logger_begin(&lg, base->st, parent->id)) < 0)
			goto fail;
		if ((err = cnai_logger_tag(lg, "sweep.size", buf)) < 0 ||
		    (err = cnai_logger_commit(lg)) < 0) {
			cnai_logger_abort(lg);
			goto fail;
		}
	}
	for (i = 0; i < total; i++) {
		struct job j = *base;
		char name[300];
		size_t k;
		struct cnai_buf nb = CNAI_BUF_INIT;

		cnai_buf_adds(&nb, parent->name ? parent->name : "sweep");
		for (a = 0; a < nax; a++)
			cnai_buf_addf(&nb, "-%s=%s", keys[ax[a].key].param,
				      cfgs[i].v[ax[a].key]);
		snprintf(name, sizeof(name), "%s", nb.buf);
		cnai_buf_release(&nb);
		for (k = 0; name[k]; k++)
			if (name[k] == '/')
				name[k] = '_';
		cfgs[i].v[K_NAME] = NULL;
		j.c = &cfgs[i];
		j.parent = parent->id;
		j.run = NULL;
		{
			struct cfg tmp = cfgs[i];

			tmp.v[K_NAME] = name;
			j.c = &tmp;
			err = create_run(&j);
			j.c = &cfgs[i];
		}
		if (err < 0)
			goto fail;
		kids[i] = j.run;
		if (base->c->v[K_OUTPUT] &&
		    asprintf(&dirs[i], "%s/%s", base->c->v[K_OUTPUT],
			     j.run->uuid) < 0) {
			err = cnai_error_set(CNAI_ERROR, "out of memory");
			goto fail;
		}
	}
	/* children: fork, each with its own store connection; a SIGINT
	 * reaches them too (same process group), and each ends KILLED */
	catch_signals(&old_int, &old_term);
	while (next < total || running) {
		int status;
		pid_t pid;

		while (!interrupted && next < total &&
		       running < (size_t)parallel) {
			fflush(NULL);
			pid = fork();
			if (pid < 0) {
				err = cnai_error_set_errno(CNAI_ERROR, "fork");
				goto fail;
			}
			if (pid == 0) {
				struct job j = *base;
				struct cnai_store *st = NULL;
				json_t *r = NULL;
				int e;

				j.c = &cfgs[next];
				j.run = kids[next];
				j.parent = parent->id;
				j.be = NULL;
				if ((e = cnai_store_open(
					     &st, cnai_store_root(base->st))) ==
				    0) {
					j.st = st;
					if ((e = setup_child(&j)) == 0)
						e = train_one(&j,
							      dirs[next],
							      &r);
				}
				if (e < 0 && !ctx->quiet)
					fprintf(stderr,
						"cnai: error: run %s: %s\n",
						kids[next]->uuid,
						cnai_error_last()->message);
				if (st)
					cnai_run_end(st, kids[next]->id,
						     interrupted
							     ? CNAI_RUN_KILLED
						     : e < 0
							     ? CNAI_RUN_FAILED
							     : CNAI_RUN_FINISHED,
						     0, 0);
				json_decref(r);
				if (j.be)
					j.be->close(j.be);
				cnai_store_free(st);
				fflush(NULL);
				_exit(e < 0 ? 1 : 0);
			}
			pids[next++] = pid;
			running++;
		}
		if (!running)
			break;
		pid = wait(&status);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		running--;
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	}
	/* pick the best by final validation loss (else train loss) */
	for (i = 0; i < total; i++) {
		struct cnai_metric_point *pts = NULL;
		size_t np = 0, k;
		double vl = NAN, tl = NAN, loss;
		json_t *row;

		if (cnai_run_latest_metrics(&pts, &np, base->st, kids[i]->id) <
		    0) {
			cnai_error_clear();
			continue;
		}
		for (k = 0; k < np; k++) {
			if (!strcmp(pts[k].key, "val_loss"))
				vl = pts[k].value;
			if (!strcmp(pts[k].key, "train_loss"))
				tl = pts[k].value;
		}
		cnai_metric_free_array(pts, np);
		loss = isnan(vl) ? tl : vl;
		row = json_pack("{s:s, s:o}", "run", kids[i]->uuid, "params",
				json_object());
		for (a = 0; a < nax; a++)
			json_object_set_new(json_object_get(row, "params"),
					    keys[ax[a].key].param,
					    json_string(cfgs[i].v[ax[a].key]));
		json_object_set_new(row, "loss", cnai_json_double(loss));
		if (dirs[i])
			json_object_set_new(row, "output", json_string(dirs[i]));
		json_array_append_new(out, row);
		if (loss < best_loss) {
			best_loss = loss;
			best = (long)i;
		}
	}
	restore_signals(&old_int, &old_term);
	for (i = next; i < total; i++) /* never started */
		cnai_run_end(base->st, kids[i]->id, CNAI_RUN_KILLED, 0, 0);
	err = cnai_run_end(base->st, parent->id,
			   interrupted	   ? CNAI_RUN_KILLED
			   : failed == total ? CNAI_RUN_FAILED
					     : CNAI_RUN_FINISHED,
			   0, 0);
	if (err < 0)
		goto cleanup;
	if (best >= 0 && base->c->v[K_REGISTER] && dirs[best]) {
		struct cnai_model_register_opts ro = { 0 };
		struct cnai_model_version *v = NULL;
		const char *paths[1] = { dirs[best] };
		int created;

		ro.run = kids[best]->uuid;
		ro.description = "best of a cnai train sweep";
		if ((err = cnai_model_register(&v, &created, base->st,
					       base->c->v[K_REGISTER], paths,
					       1, &ro)) < 0)
			goto cleanup;
		if (!ctx->json)
			printf("registered %s version %lld (run %s)\n", v->name,
			       (long long)v->version, kids[best]->uuid);
		cnai_model_version_free(v);
	}
	if (ctx->json) {
		cnai_json_print(json_pack("{s:s, s:O, s:s?}", "parent",
					  parent->uuid, "runs", out, "best",
					  best >= 0 ? kids[best]->uuid : NULL));
	} else {
		printf("sweep %s: %zu runs, %zu failed\n", parent->uuid, total,
		       failed);
		for (i = 0; i < json_array_size(out); i++) {
			json_t *row = json_array_get(out, i);
			const char *k;
			json_t *pv;

			printf("%s %s ",
			       !strcmp(json_string_value(json_object_get(row, "run")),
				       best >= 0 ? kids[best]->uuid : "")
				       ? "*"
				       : " ",
			       json_string_value(json_object_get(row, "run")));
			json_object_foreach(json_object_get(row, "params"), k, pv)
				printf(" %s=%s", k, json_string_value(pv));
			printf("  loss %.6g\n",
			       json_number_value(json_object_get(row, "loss")));
		}
	}
	if (interrupted)
		err = CNAI_CMD_EXIT(128 + interrupted);
	else if (failed == total)
		err = cnai_error_set(CNAI_ERROR, "every run of the sweep failed");
	goto cleanup;
fail:
	if (parent)
		cnai_run_end(base->st, parent->id, CNAI_RUN_FAILED, 0, 0);
	for (i = 0; kids && i < total; i++)
		if (kids[i])
			cnai_run_end(base->st, kids[i]->id, CNAI_RUN_FAILED, 0,
				     0);
cleanup:
	for (i = 0; kids && i < total; i++) {
		cnai_run_free(kids[i]);
		free(dirs[i]);
	}
	base->run = NULL;
	cnai_run_free(parent);
	json_decref(out);
	free(cfgs);
	free(kids);
	free(pids);
	free(dirs);
	return err;
}

int cmd_train(int argc, char **argv, struct cnai_ctx *ctx)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 0x100 + K_DATA },
		{ "target", required_argument, NULL, 0x100 + K_TARGET },
		{ "output", required_argument, NULL, 'o' },
		{ "register", required_argument, NULL, 0x100 + K_REGISTER },
		{ "model", required_argument, NULL, 0x100 + K_MODEL },
		{ "hidden", required_argument, NULL, 0x100 + K_HIDDEN },
		{ "activation", required_argument, NULL, 0x100 + K_ACTIVATION },
		{ "dropout", required_argument, NULL, 0x100 + K_DROPOUT },
		{ "optimizer", required_argument, NULL, 0x100 + K_OPTIMIZER },
		{ "lr", required_argument, NULL, 0x100 + K_LR },
		{ "weight-decay", required_argument, NULL, 0x100 + K_WD },
		{ "momentum", required_argument, NULL, 0x100 + K_MOMENTUM },
		{ "epochs", required_argument, NULL, 0x100 + K_EPOCHS },
		{ "batch-size", required_argument, NULL, 0x100 + K_BATCH },
		{ "seed", required_argument, NULL, 0x100 + K_SEED },
		{ "early-stopping", required_argument, NULL, 0x100 + K_EARLY },
		{ "valid", required_argument, NULL, 0x100 + K_VALID },
		{ "valid-split", required_argument, NULL,
		  0x100 + K_VALID_SPLIT },
		{ "test", required_argument, NULL, 0x100 + K_TEST },
		{ "features", required_argument, NULL, 0x100 + K_FEATURES },
		{ "drop", required_argument, NULL, 0x100 + K_DROP },
		{ "delimiter", required_argument, NULL, 0x100 + K_DELIM },
		{ "device", required_argument, NULL, 0x100 + K_DEVICE },
		{ "threads", required_argument, NULL, 0x100 + K_THREADS },
		{ "experiment", required_argument, NULL, 0x100 + K_EXPERIMENT },
		{ "name", required_argument, NULL, 0x100 + K_NAME },
		{ "config", required_argument, NULL, 'f' },
		{ "sweep", required_argument, NULL, 0x200 },
		{ "parallel", required_argument, NULL, 0x201 },
		CNAI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	const char *cli_v[NKEYS] = { 0 }, *file_v[NKEYS] = { 0 };
	const char *config = NULL;
	char **sweeps = NULL;
	size_t nsweeps = 0, i, nax = 0;
	struct sweep_axis ax[MAX_SWEEP];
	struct strlist own = { 0 };
	struct cfg c;
	struct data d;
	struct job j;
	json_t *result = NULL;
	struct sigaction old_int, old_term;
	int opt, err = 0, parallel = 1, signals = 0;

	memset(&c, 0, sizeof(c));
	memset(&d, 0, sizeof(d));
	memset(&j, 0, sizeof(j));
	memset(ax, 0, sizeof(ax));
	while ((opt = cnai_getopt(argc, argv, ":o:f:h", longopts, &usage,
				  ctx)) != -1) {
		if (opt >= 0x100 && opt < 0x100 + NKEYS) {
			cli_v[opt - 0x100] = optarg;
		} else if (opt == 'o') {
			cli_v[K_OUTPUT] = optarg;
		} else if (opt == 'f') {
			config = optarg;
		} else if (opt == 0x200) {
			char **g = realloc(sweeps, (nsweeps + 1) * sizeof(*g));

			if (!g) {
				err = cnai_error_set(CNAI_ERROR,
						     "out of memory");
				goto cleanup;
			}
			sweeps = g;
			sweeps[nsweeps++] = optarg;
		} else if (opt == 0x201) {
			if ((err = parse_int(&parallel, optarg, "parallel",
					     1)) < 0)
				goto cleanup;
		} else {
			err = opt == CNAI_OPT_HELP ? 0 : CNAI_EUSAGE;
			goto cleanup;
		}
	}
	if (optind < argc) {
		err = cnai_error_set(CNAI_EUSAGE,
				     "unexpected argument '%s'; see 'cnai "
				     "train --help'", argv[optind]);
		goto cleanup;
	}
	if (config && (err = load_yaml(config, file_v, &own, &sweeps,
				       &nsweeps)) < 0)
		goto cleanup;
	for (i = 0; i < NKEYS; i++)
		c.v[i] = cli_v[i] ? cli_v[i] : file_v[i];
	if ((err = parse_sweeps(ax, &nax, sweeps, nsweeps, &own)) < 0)
		goto cleanup;
	{
		/* sweep keys need not resolve alone; check the base */
		struct cfg probe = c;

		if ((err = resolve(&probe)) < 0)
			goto cleanup;
		c = probe;
	}
	if ((err = load_data(&d, &c)) < 0)
		goto cleanup;
	j.ctx = ctx;
	j.st = ctx->store;
	j.c = &c;
	j.d = &d;
	if (nax) {
		for (i = 0; i < NKEYS; i++) /* children re-resolve defaults */
			c.v[i] = cli_v[i] ? cli_v[i] : file_v[i];
		err = cmd_sweep(&j, ax, nax, parallel);
		goto cleanup;
	}
	if ((err = open_backend(&j)) < 0 || (err = create_run(&j)) < 0)
		goto cleanup;
	catch_signals(&old_int, &old_term);
	signals = 1;
	if ((err = record_setup(&j)) < 0 ||
	    (err = train_one(&j, c.v[K_OUTPUT], &result)) < 0)
		goto failed;
	if (d.stats.imputed || d.stats.unknown)
		cnai_notice(ctx, "%zu empty cells imputed", d.stats.imputed);
	if (j.own_run &&
	    (err = cnai_run_end(j.st, j.run->id, CNAI_RUN_FINISHED, 0, 0)) < 0)
		goto cleanup;
	print_result(ctx, result);
	goto cleanup;
failed:
	if (j.own_run)
		cnai_run_end(j.st, j.run->id,
			     interrupted ? CNAI_RUN_KILLED : CNAI_RUN_FAILED, 0,
			     0);
	if (interrupted) {
		fprintf(stderr, "cnai: %s; run %s %s\n",
			cnai_error_last()->message, j.run->uuid,
			j.own_run ? "marked KILLED" : "left to its owner");
		err = CNAI_CMD_EXIT(128 + interrupted);
	}
cleanup:
	if (signals)
		restore_signals(&old_int, &old_term);
	for (i = 0; i < nax; i++)
		free(ax[i].vals);
	json_decref(result);
	if (j.be)
		j.be->close(j.be);
	cnai_run_free(j.run);
	data_release(&d);
	strlist_release(&own);
	free(sweeps);
	return err;
}
