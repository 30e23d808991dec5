/*
 * The options of 'cnai train' as one table of keys: each key is a long
 * option, a key of the -f YAML file and (most) a run param. Values arrive
 * as strings (command line, else the file, else the key's default) and
 * cnai_train_config_resolve() checks them and turns them into typed ones;
 * a sweep changes strings and resolves again, so every source of a value
 * goes through the same checks and messages.
 */
#ifndef CNAI_CORE_ML_TRAIN_CONFIG_H
#define CNAI_CORE_ML_TRAIN_CONFIG_H

#include <jansson.h>
#include <stddef.h>

#include "core/ml/model.h"
#include "core/ml/train.h"

enum cnai_train_key {
	CNAI_TK_DATA, CNAI_TK_TARGET, CNAI_TK_OUTPUT, CNAI_TK_REGISTER,
	CNAI_TK_MODEL, CNAI_TK_HIDDEN, CNAI_TK_ACTIVATION, CNAI_TK_DROPOUT,
	CNAI_TK_OPTIMIZER, CNAI_TK_LR, CNAI_TK_WD, CNAI_TK_MOMENTUM,
	CNAI_TK_EPOCHS, CNAI_TK_BATCH, CNAI_TK_SEED, CNAI_TK_EARLY,
	CNAI_TK_VALID, CNAI_TK_VALID_SPLIT, CNAI_TK_TEST, CNAI_TK_FEATURES,
	CNAI_TK_DROP, CNAI_TK_DELIM, CNAI_TK_DEVICE, CNAI_TK_THREADS,
	CNAI_TK_EXPERIMENT, CNAI_TK_NAME, CNAI_TK_COUNT
};

/*
 * name: the long option and YAML key; dflt: the value when none is given
 * (NULL: unset); param: the run param it is logged as (NULL: not one).
 */
struct cnai_train_key_info {
	const char *name, *dflt, *param;
};
extern const struct cnai_train_key_info cnai_train_keys[CNAI_TK_COUNT];

#define CNAI_TRAIN_MAX_HIDDEN 32

/* Options as typed values, after defaults and checks. */
struct cnai_train_config {
	const char *v[CNAI_TK_COUNT]; /* string values (NULL: unset) */
	int kind;                     /* enum cnai_ml_kind, -1: auto */
	enum cnai_act act;
	int hidden[CNAI_TRAIN_MAX_HIDDEN];
	size_t nhidden;
	float dropout;
	double valid_split;
	int threads; /* 0: all */
	char delim;
	struct cnai_ml_train_opts t;
};

/* Strings a config points into (from the YAML file, sweep specs). */
struct cnai_train_strings {
	char **s;
	size_t n;
};

/*
 * Hands `s` (malloc'd, may be NULL) to `l` and returns it; NULL (and `s`
 * freed) when s is NULL or memory runs out. l frees it on release.
 */
const char *cnai_train_strings_keep(struct cnai_train_strings *l, char *s);
/* Frees every string of `l` and the list itself. */
void cnai_train_strings_release(struct cnai_train_strings *l);

/*
 * The key named `name` ('_' read as '-', "o" as output), or -1 when
 * there is none.
 */
int cnai_train_config_find_key(const char *name);

/*
 * Fills the unset strings of c->v with the defaults and the typed fields
 * from the strings. CNAI_EUSAGE naming the option when a value is missing,
 * malformed or out of range, or two options exclude each other. c->v
 * keeps pointing at the caller's strings (and the static defaults).
 */
int cnai_train_config_resolve(struct cnai_train_config *c);

/*
 * An int option (`opt` without its dashes) in [min, INT32_MAX] into *out.
 * CNAI_EUSAGE "--OPT: ..." when `s` is not one.
 */
int cnai_train_config_parse_int(int *out, const char *s, const char *opt,
				int min);

/*
 * The run params of c as a JSON object {PARAM: VALUE} (keys that are
 * params and set); a new reference, the caller's.
 */
json_t *cnai_train_config_params_json(const struct cnai_train_config *c);

/*
 * Reads the -f YAML file `path`: a mapping of keys to scalars or flow
 * lists (joined with ','), and an optional 'sweep' mapping of key to a
 * list of values. Sets file_v[key] for each key and appends "KEY=V1,V2"
 * to *sweeps (a realloc'd array the caller frees; its strings belong to
 * `own`). CNAI_ENOTFOUND or CNAI_ERROR when the file cannot be read,
 * CNAI_EINVALID "PATH:LINE: ..." on bad YAML or an unknown key.
 */
int cnai_train_config_load_yaml(const char *path, const char **file_v,
				struct cnai_train_strings *own, char ***sweeps,
				size_t *nsweeps);

#endif
